"""A holder's whole journey, done as a patient person would while parts of the platform fail under them.

sign-up → security check → confirmation mail → link → login → balances, through the public gateway. The
holder waits and tries again when told to (a 5xx, a 503 with Retry-After, a 429, a busy answer, a refused
connection), renews a check the platform forgot, and clicks the link once the mail arrives, but never hides
a loss: a link that still answers "unknown" ``link_patience_s`` after its mail arrived is a lost sign-up.
Used by the fault-injection suite (tests/faults) and bench/fault_bench.py.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from redis.asyncio import Redis

from tests.support.journey import LINK, Holder
from tests.support.smtp_server import ControlledSmtpServer, ReceivedMail

ACTIVATION_SUBJECT = "Activez votre compte"
WELCOME_SUBJECT = "Bienvenue"
STEPS = ("sign-up", "check", "mail", "link", "login", "balances")


@dataclass(frozen=True)
class Patience:
    """How long the holder keeps at each step before giving up (seconds)."""

    sign_up_s: float = 90
    check_s: float = 90
    mail_s: float = 120  # from the check passed; the suite adds the SMTP outage to it
    link_s: float = 60  # from the mail's arrival: a link still unknown after this is a lost sign-up
    login_s: float = 60
    balances_s: float = 60


@dataclass
class ServerErrors:
    """Every 5xx the holders saw, with the phase it fell in; a raw nginx 502 page is the gateway's bug."""

    seen: list[tuple[str, int, str, bool]] = field(default_factory=list)  # (phase, status, "GET /path", raw)

    def count(self, phase: str | None = None, *, raw_only: bool = False) -> int:
        return sum(1 for p, _s, _r, raw in self.seen if (phase is None or p == phase) and (raw or not raw_only))


@dataclass
class Journey:
    holder: Holder
    phase: str  # the fault the journey was started under
    request_ids: list[str] = field(default_factory=list)  # every sign-up answered 202
    uncertain_sign_ups: int = 0  # POSTs cut by a failure: may have been recorded too
    reached: str = ""  # the last step done
    stuck: str | None = None  # where and why the holder gave up
    renewals: int = 0
    account_exists: bool = False
    started_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None

    @property
    def completed(self) -> bool:
        return self.reached == STEPS[-1]

    @property
    def lost(self) -> bool:
        """An accepted sign-up that never became an account (checked again once the platform is calm)."""
        return bool(self.request_ids) and not self.account_exists


class GaveUp(Exception):
    pass


@dataclass
class Holders:
    """What the journeys share: the gateway, the SMTP server, the captcha's store (to read the answer a
    human would see), the current phase, and the 5xx seen."""

    gateway: str
    smtp: ControlledSmtpServer
    captcha_redis: Redis
    patience: Patience = field(default_factory=Patience)
    phase: str = "no fault"
    errors: ServerErrors = field(default_factory=ServerErrors)
    in_check: int = 0  # journeys between seeing a challenge and answering it
    rng: random.Random = field(default_factory=random.Random)

    def client(self, n: int) -> httpx.AsyncClient:
        # Each holder from their own loopback address, as distinct people are: per-address limits apply to
        # each of them, not to the test machine as a whole.
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.{1 + n // 250}.{1 + n % 250}")

        async def on_response(resp: httpx.Response) -> None:
            if resp.status_code >= 500:
                await resp.aread()
                raw = "<center>nginx" in resp.text
                self.errors.seen.append(
                    (self.phase, resp.status_code, f"{resp.request.method} {resp.request.url.path}", raw)
                )

        return httpx.AsyncClient(
            base_url=self.gateway, timeout=30, transport=transport, event_hooks={"response": [on_response]}
        )

    # --- the steps ----------------------------------------------------------------------------------
    async def run(self, n: int, holder: Holder) -> Journey:
        journey = Journey(holder, self.phase)
        async with self.client(n) as http:
            try:
                request_id = await self._sign_up(http, journey)
                await self._pass_check(http, journey, request_id)
                mail = await self._wait_for_mail(journey)
                await self._follow_link(http, journey, mail)
                token = await self._log_in(http, journey)
                await self._see_balances(http, journey, token)
            except GaveUp as exc:
                journey.stuck = f"{_next_step(journey.reached)}: {exc}"
        journey.finished_at = time.monotonic()
        return journey

    async def _sign_up(self, http: httpx.AsyncClient, journey: Journey) -> str:
        deadline = time.monotonic() + self.patience.sign_up_s
        while True:
            resp = await _send(http, "POST", "/api/v1/registrations", deadline, json=journey.holder.form())
            if resp is not None and resp.status_code == 202:
                request_id = str(resp.json()["request_id"])
                journey.request_ids.append(request_id)
                journey.reached = "sign-up"
                return request_id
            if resp is None or resp.status_code >= 500:
                journey.uncertain_sign_ups += 1  # cut: the platform may or may not have it; try again
            elif resp.status_code != 429:
                raise GaveUp(f"sign-up refused: {resp.status_code} {resp.text[:200]}")
            await _pause(resp, deadline, "sign-up never accepted")

    async def _pass_check(self, http: httpx.AsyncClient, journey: Journey, request_id: str) -> None:
        deadline = time.monotonic() + self.patience.check_s
        challenge_id: str | None = None
        no_check_since: float | None = None  # the request is known but shows no check
        while True:
            if time.monotonic() > deadline:
                raise GaveUp(f"no usable security check within {self.patience.check_s:.0f} s")
            if challenge_id is None:
                resp = await _send(http, "GET", f"/api/v1/registrations/{request_id}", deadline)
                if resp is None or resp.status_code >= 500 or resp.status_code == 429:
                    await _pause(resp, deadline, "")
                    continue
                body = resp.json() if resp.status_code == 200 else {}  # 404: not known yet, or being rebuilt
                if body.get("status") in ("awaiting_confirmation", "active"):
                    journey.reached = "check"  # passed before a failure cut the answer's reply
                    return
                challenge = body.get("challenge")
                if not challenge:
                    # Still no check to solve after a while: ask for one, as the page's "nouveau contrôle"
                    # lets a holder do (every 10 s); an unknown request still answers 404 and stays lost.
                    now = time.monotonic()
                    no_check_since = no_check_since or now
                    if body.get("status") == "awaiting_captcha" and now - no_check_since > 20:
                        no_check_since = now - 10
                        challenge_id = await self._renew(http, journey, request_id, deadline)
                        continue
                    await asyncio.sleep(0.3)
                    continue
                challenge_id = str(challenge["challenge_id"])
            self.in_check += 1
            try:
                expected = await self._answer_a_human_sees(challenge_id)
                await asyncio.sleep(self.rng.uniform(0.5, 2.0))  # looking at the pictures
                if expected is None:  # the check is gone from the captcha's store: ask for a new one
                    challenge_id = await self._renew(http, journey, request_id, deadline)
                    continue
                path = f"/api/v1/captcha/challenges/{challenge_id}/answers"
                resp = await _send(http, "POST", path, deadline, json={"request_id": request_id, **expected})
            finally:
                self.in_check -= 1
            if resp is not None and resp.status_code == 200:
                journey.reached = "check"
                return
            if resp is not None and resp.status_code in (404, 410):
                challenge_id = await self._renew(http, journey, request_id, deadline)
            elif resp is not None and resp.status_code == 422:
                raise GaveUp(f"the right answer was refused: {resp.text[:200]}")
            else:
                await _pause(resp, deadline, "answer never taken")

    async def _renew(self, http: httpx.AsyncClient, journey: Journey, request_id: str, deadline: float) -> str | None:
        resp = await _send(http, "POST", f"/api/v1/captcha/requests/{request_id}/renewals", deadline)
        if resp is not None and resp.status_code == 201:
            journey.renewals += 1
            return str(resp.json()["challenge_id"])
        await _pause(resp, deadline, "check could not be renewed")
        return None  # look at the request's status again: the platform may issue a new check itself

    async def _answer_a_human_sees(self, challenge_id: str) -> dict[str, str] | None:
        try:
            raw = await self.captcha_redis.get(f"captcha:ch:{challenge_id}")
        except OSError:
            return None
        if raw is None:
            return None
        expected: dict[str, Any] = json.loads(raw)["expected"]
        return {k: str(v) for k, v in expected.items() if k in ("choice_id", "typed")}

    async def _wait_for_mail(self, journey: Journey) -> ReceivedMail:
        deadline = time.monotonic() + self.patience.mail_s
        while time.monotonic() < deadline:
            mails = [m for m in self.smtp.mails_to(journey.holder.email) if ACTIVATION_SUBJECT in m.subject]
            if mails:
                journey.reached = "mail"
                return mails[0]
            await asyncio.sleep(0.2)
        others = [m.subject for m in self.smtp.mails_to(journey.holder.email)]
        raise GaveUp(f"no confirmation mail within {self.patience.mail_s:.0f} s of passing the check (got {others})")

    async def _follow_link(self, http: httpx.AsyncClient, journey: Journey, mail: ReceivedMail) -> None:
        match = LINK.search(mail.text())
        if match is None:
            raise GaveUp("the confirmation mail has no link")
        url = urlsplit(match.group(0))
        deadline = mail.received_at + self.patience.link_s
        last = "no answer"
        while time.monotonic() < deadline:
            resp = await _send(http, "GET", f"{url.path}?{url.query}", deadline)
            if resp is not None and resp.status_code == 200:
                journey.reached = "link"
                return
            last = f"{resp.status_code}" if resp is not None else "no answer"
            await _pause(resp, deadline, "")
        raise GaveUp(f"the link still answers {last} {self.patience.link_s:.0f} s after the mail arrived")

    async def _log_in(self, http: httpx.AsyncClient, journey: Journey, patience_s: float | None = None) -> str:
        deadline = time.monotonic() + (self.patience.login_s if patience_s is None else patience_s)
        form = {"nir": journey.holder.nir, "password": journey.holder.password}
        while True:
            resp = await _send(http, "POST", "/api/v1/sessions", deadline, json=form)
            if resp is not None and resp.status_code == 201:
                journey.reached, journey.account_exists = "login", True
                return str(resp.json()["access_token"])
            await _pause(resp, deadline, f"login refused ({resp.status_code if resp is not None else 'no answer'})")

    async def _see_balances(self, http: httpx.AsyncClient, journey: Journey, token: str) -> None:
        deadline = time.monotonic() + self.patience.balances_s
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            resp = await _send(http, "GET", "/api/v1/me/rights", deadline, headers=headers)
            if resp is not None and resp.status_code == 200:
                journey.reached = "balances"
                return
            await _pause(resp, deadline, f"no balances ({resp.status_code if resp is not None else 'no answer'})")

    async def account_exists(self, n: int, journey: Journey, patience_s: float = 30) -> bool:
        """Once the platform is calm: can this holder log in? (An account, whatever the journey saw.)"""
        if journey.account_exists:
            return True
        async with self.client(n) as http:
            try:
                await self._log_in(http, journey, patience_s)
            except GaveUp:
                return False
        return True


# --- small helpers -------------------------------------------------------------------------------------
async def _send(
    http: httpx.AsyncClient, method: str, url: str, deadline: float, **kwargs: Any
) -> httpx.Response | None:
    """One try; None when the connection failed (the gateway itself down, a timeout)."""
    try:
        return await http.request(method, url, timeout=max(1.0, min(30.0, deadline - time.monotonic())), **kwargs)
    except httpx.TransportError:
        return None


async def _pause(resp: httpx.Response | None, deadline: float, why_if_late: str) -> None:
    """Wait as told (Retry-After, capped at 5 s) or a moment, unless the holder's patience is over."""
    wait = 0.5
    if resp is not None and resp.status_code in (429, 503) and resp.headers.get("retry-after", "").isdigit():
        wait = min(5.0, float(resp.headers["retry-after"]))
    elif resp is None or resp.status_code >= 500:
        wait = 1.0
    if time.monotonic() + wait > deadline:
        if why_if_late:
            raise GaveUp(why_if_late)
        wait = max(0.0, deadline - time.monotonic())
    await asyncio.sleep(wait)


def _next_step(reached: str) -> str:
    return STEPS[STEPS.index(reached) + 1] if reached else STEPS[0]
