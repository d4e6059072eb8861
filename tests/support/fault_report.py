"""What a fault run found, per phase: journeys, completed, lost sign-ups, duplicate mails, 5xx (tests/faults)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.support.journey import LINK
from tests.support.patient_holder import ACTIVATION_SUBJECT, WELCOME_SUBJECT, Holders, Journey
from tests.support.smtp_server import ControlledSmtpServer, ReceivedMail


@dataclass
class Phase:
    name: str
    inject: Callable[[], Awaitable[str]] | None
    note: str = ""
    seconds: float = 0.0


@dataclass
class FaultReport:
    phases: list[Phase]
    journeys: list[Journey]
    duplicates: dict[str, int]  # phase → extra mails
    errors: Holders
    seconds: float
    lines: list[str] = field(default_factory=list)

    @property
    def lost(self) -> list[Journey]:
        return [j for j in self.journeys if j.lost]

    @property
    def duplicate_mails(self) -> int:
        return sum(self.duplicates.values())

    @property
    def raw_502(self) -> int:
        return self.errors.errors.count(raw_only=True)

    def table(self) -> str:
        head = (
            f"{'phase':26} {'journeys':>8} {'completed':>9} {'lost':>5} {'dup mails':>9} {'5xx':>5} {'raw 502':>7}"
            f" {'renewed':>7}"
        )
        rows = [head, "-" * len(head)]
        names = [p.name for p in self.phases]
        for name in names:
            js = [j for j in self.journeys if j.phase == name]
            rows.append(
                f"{name:26} {len(js):>8} {sum(j.completed for j in js):>9} {sum(j.lost for j in js):>5} "
                f"{self.duplicates.get(name, 0):>9} {self.errors.errors.count(name):>5} "
                f"{self.errors.errors.count(name, raw_only=True):>7} {sum(j.renewals > 0 for j in js):>7}"
            )
        late = self.errors.errors.count("after")
        rows.append("-" * len(head))
        rows.append(
            f"{'total':26} {len(self.journeys):>8} {sum(j.completed for j in self.journeys):>9} "
            f"{len(self.lost):>5} {self.duplicate_mails:>9} {self.errors.errors.count():>5} {self.raw_502:>7} "
            f"{sum(j.renewals > 0 for j in self.journeys):>7}"
        )
        rows.append(
            f"(5xx seen in the final check: {late}; renewed = journeys that asked for a new security check; "
            f"run took {self.seconds:.0f} s)"
        )
        rows.append("")
        rows.extend(f"{p.name:26} {p.note} (phase {p.seconds:.0f} s)" for p in self.phases if p.note)
        server_errors = Counter((p, f"{s} {_route(r)}") for p, s, r, _raw in self.errors.errors.seen)
        if server_errors:
            rows.append("")
            rows.append("5xx seen by the holders:")
            rows.extend(f"  {count:3} × {what} ({phase})" for (phase, what), count in server_errors.most_common(12))
        stuck = Counter(j.stuck for j in self.journeys if j.stuck)
        if stuck:
            rows.append("")
            rows.append("where unfinished journeys stopped:")
            rows.extend(f"  {count:3} × {why}" for why, count in stuck.most_common(12))
        for j in self.lost[:20]:
            rows.append(f"  LOST during '{j.phase}': request(s) {', '.join(j.request_ids)} — {j.stuck}")
        return "\n".join(rows + self.lines)


def _route(request: str) -> str:
    """"GET /api/v1/registrations/Xy…" → "GET /api/v1/registrations/{id}": counted per route, not per holder."""
    return "/".join("{id}" if len(part) >= 16 else part for part in request.split("/"))


def in_smtp_window(copies: list[ReceivedMail], mailer_kills: tuple[float, ...] | list[float]) -> bool:
    """Two copies with one Message-ID and a mailer SIGKILL between them: the SMTP server had stored the
    mail, the sender died before it read the server's "accepted" (on a loaded machine that answer can take
    seconds to be read), so the job came back when its lease ran out and went again, as documented
    (docs/delivery.md). A repeat with no mailer crash in between is a bug."""
    same_message = len(copies) == 2 and len({str(m.message["Message-ID"]) for m in copies}) == 1
    first, second = copies[0].received_at, copies[-1].received_at
    return same_message and any(first <= kill <= second for kill in mailer_kills)


def duplicate_mails(
    smtp: ControlledSmtpServer, journeys: list[Journey], mailer_kills: tuple[float, ...] | list[float] = ()
) -> tuple[dict[str, int], list[str]]:
    """Extra copies of one mail for one request: the same link twice, or for a holder who signed up exactly
    once, a second confirmation mail at all; a second welcome mail. Returns the count per phase and one line
    per holder concerned (to look them up in the logs); a repeat inside the SMTP window of a mailer SIGKILL
    is listed, not counted."""
    extra: Counter[str] = Counter()
    details: list[str] = []
    for j in journeys:
        mails = smtp.mails_to(j.holder.email)
        confirmations = [m for m in mails if ACTIVATION_SUBJECT in m.subject]
        links = Counter(match.group(0) if (match := LINK.search(m.text())) else "" for m in confirmations)
        dup = sum(c - 1 for c in links.values())
        if len(j.request_ids) == 1 and j.uncertain_sign_ups == 0:
            dup = max(dup, len(confirmations) - 1)
        welcomes = [m for m in mails if WELCOME_SUBJECT in m.subject]
        dup += max(0, len(welcomes) - 1)
        if dup:
            copies = confirmations if len(confirmations) > 1 else welcomes
            if in_smtp_window(copies, mailer_kills):
                details.append(
                    f"  SMTP window during '{j.phase}': request(s) {', '.join(j.request_ids)}: '{copies[0].subject}'"
                    " sent again with the same Message-ID (the mailer was SIGKILLed in between)"
                )
                continue
            extra[j.phase] += dup
            gap = copies[-1].received_at - copies[0].received_at
            ids = {str(m.message["Message-ID"]) for m in copies}
            details.append(
                f"  DUPLICATE during '{j.phase}': request(s) {', '.join(j.request_ids)}: {len(copies)} × "
                f"'{copies[0].subject}' ({len(links)} distinct link(s), {len(ids)} distinct Message-ID(s)), "
                f"last {gap:.1f} s after the first"
            )
    return dict(extra), details
