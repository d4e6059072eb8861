"""Login, sessions and password reset on in-memory fakes. Whether a NIR has an account never shows."""

from __future__ import annotations

from services.registration.tests.unit.usecases import BODY, PASSWORD, World, form, nir_key, world
from services.registration.use_cases.sessions import INVALID_CREDENTIALS, LoginAccepted, LoginRefused
from services.registration.use_cases.signup import SignupAccepted

NEW_PASSWORD = "Nouvelle-Trompette-9"


async def active_holder(w: World) -> str:
    outcome = await w.reg.signup.sign_up(form(), "web")
    assert isinstance(outcome, SignupAccepted)
    await w.reg.signup.on_check_passed(outcome.request_id)
    return (await w.reg.signup.activate(w.token_of(w.mails()[0]))).holder_id


async def test_a_login_opens_a_session_that_refreshes_tokens_until_logout() -> None:
    w = world()
    holder_id = await active_holder(w)
    accepted = await w.reg.login.log_in(BODY, PASSWORD, client="10.0.0.1")
    assert isinstance(accepted, LoginAccepted) and accepted.holder_id == holder_id
    assert await w.reg.login.holder_of(accepted.session_id) == holder_id
    assert await w.reg.login.refresh(accepted.session_id) is not None
    assert w.reg.login.session_of_token(accepted.access_token) == accepted.session_id
    assert w.reg.login.session_of_token("forged") == ""
    await w.reg.login.log_out(accepted.session_id)
    assert await w.reg.login.refresh(accepted.session_id) is None


async def test_a_nir_with_its_key_typed_out_of_habit_logs_in_too() -> None:
    w = world()
    await active_holder(w)
    assert isinstance(await w.reg.login.log_in(BODY + nir_key(BODY), PASSWORD, "10.0.0.1"), LoginAccepted)


async def test_a_wrong_password_and_an_unknown_nir_get_the_same_answer() -> None:
    w = world()
    await active_holder(w)
    wrong = await w.reg.login.log_in(BODY, "Pas-Le-Bon-1", "10.0.0.1")
    unknown_body = "1850575116002"
    unknown = await w.reg.login.log_in(unknown_body, PASSWORD, "10.0.0.2")
    garbage = await w.reg.login.log_in("pas un NIR", PASSWORD, "10.0.0.3")
    assert wrong == unknown == garbage == INVALID_CREDENTIALS
    assert "incorrect" in INVALID_CREDENTIALS.message


async def test_repeated_failures_slow_then_lock_the_nir_with_a_french_message() -> None:
    w = world()
    await active_holder(w)
    answers = [await w.reg.login.log_in(BODY, "Pas-Le-Bon-1", f"10.0.1.{i}") for i in range(12)]
    refused = [a for a in answers if isinstance(a, LoginRefused) and a.code != "invalid_credentials"]
    assert refused, answers
    assert all(a.retry_after_s > 0 and a.message for a in refused)
    # Even the right password waits while the NIR is throttled.
    assert not isinstance(await w.reg.login.log_in(BODY, PASSWORD, "10.0.2.1"), LoginAccepted)


async def test_a_successful_login_forgives_the_earlier_failures_of_the_nir() -> None:
    w = world()
    await active_holder(w)
    for round_no in range(2):  # 2 failures then the right password, twice: 4 would have made it wait
        for i in range(2):
            assert await w.reg.login.log_in(BODY, "Pas-Le-Bon-1", f"10.0.3.{round_no * 2 + i}") == INVALID_CREDENTIALS
        assert isinstance(await w.reg.login.log_in(BODY, PASSWORD, "10.0.4.1"), LoginAccepted)


async def test_a_reset_mails_a_link_known_at_once_and_the_new_password_revokes_every_session() -> None:
    w = world()
    holder_id = await active_holder(w)
    session = await w.reg.login.log_in(BODY, PASSWORD, "10.0.0.1")
    assert isinstance(session, LoginAccepted)
    await w.reg.resets.request_reset(BODY)
    await w.reg.resets.request_reset(BODY)  # within the cooldown: no second mail
    [mail] = [m for m in w.mails() if m["kind"] == "password_reset"]
    assert mail["to"] == "chloe.dupont@cpa.fr" and mail["holder_id"] == holder_id and mail["link_expires_at"]
    token = w.token_of(mail)
    problems = await w.reg.resets.confirm_reset(token, "court", "court")
    assert {p.code for p in problems} >= {"too_short"}
    assert await w.reg.resets.confirm_reset(token, NEW_PASSWORD, NEW_PASSWORD) == []
    assert await w.reg.login.holder_of(session.session_id) is None  # revoked
    assert isinstance(await w.reg.login.log_in(BODY, NEW_PASSWORD, "10.0.0.1"), LoginAccepted)
    assert await w.reg.login.log_in(BODY, PASSWORD, "10.0.0.1") == INVALID_CREDENTIALS
    [used] = await w.reg.resets.confirm_reset(token, "Encore-Une-Fois-7", "Encore-Une-Fois-7")
    assert used.code == "invalid_link" and "Demandez-en un nouveau" in used.message


async def test_a_reset_for_a_nir_without_account_is_accepted_and_sends_nothing() -> None:
    w = world()
    await w.reg.resets.request_reset(BODY)
    await w.reg.resets.request_reset("pas un NIR")
    assert w.mails() == [] and w.store.resets == {}


async def test_an_expired_reset_link_is_refused() -> None:
    w = world()
    await active_holder(w)
    await w.reg.resets.request_reset(BODY)
    [mail] = [m for m in w.mails() if m["kind"] == "password_reset"]
    w.clock.advance(hours=1, seconds=1)
    [expired] = await w.reg.resets.confirm_reset(w.token_of(mail), NEW_PASSWORD, NEW_PASSWORD)
    assert expired.code == "invalid_link"
