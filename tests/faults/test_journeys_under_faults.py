"""Issue 11: holders' journeys at concurrency while, one after the other, a service is SIGKILLed, the broker
is SIGKILLed, Redis databases are flushed, the captcha forgets its checks and the SMTP server goes away.

Passes only with no lost sign-up (an accepted sign-up that never becomes an account), no duplicate mail and
no bare nginx 502 page; other 5xx are reported in the table. Sizes: MCF_FAULT_JOURNEYS (60),
MCF_FAULT_CONCURRENCY (6), MCF_FAULT_SMTP_DOWN_S (30). See docs/faults.md.
"""

from __future__ import annotations

import pytest

from tests.support.fault_run import FaultSettings, FaultStack, run_faults

pytestmark = pytest.mark.integration


@pytest.mark.timeout(1200)
async def test_no_sign_up_is_lost_and_no_mail_is_sent_twice_under_faults() -> None:
    settings = FaultSettings.from_env()
    with FaultStack("suite") as fs:
        report = await run_faults(fs, settings)
        summary = report.table()
        print(f"\n{summary}")
        fs.keep_logs = bool(report.lost or report.duplicate_mails or report.raw_502)
    if report.lost:
        pytest.fail(f"{len(report.lost)} accepted sign-up(s) never became an account\n{summary}")
    if report.duplicate_mails:
        pytest.fail(f"{report.duplicate_mails} mail(s) sent twice\n{summary}")
    if report.raw_502:
        pytest.fail(f"{report.raw_502} bare nginx 502 page(s) instead of a French 503\n{summary}")
