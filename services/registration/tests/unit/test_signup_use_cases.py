"""Sign-up as a workflow registration owns, on in-memory fakes (milliseconds; the real stack proves the
same journeys in tests/integration/test_registration.py and the browser suite)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from contracts.links import link_token_hash, token_hash
from eventing.errors import PoisonMessage, RetryLater
from services.registration.domain.account import (
    CaptchaPending,
    LifecyclePolicy,
    LinkExpired,
    RequestRejected,
    RequestStatus,
    ResendTooSoon,
    SignupRequest,
    UnknownLink,
)
from services.registration.tests.unit.usecases import LINK_KEY, World, form, nir_key, world
from services.registration.use_cases.signup import SignupAccepted, SignupThrottled


async def signed_up(w: World, **changes: object) -> str:
    outcome = await w.reg.signup.sign_up(form(**changes), channel="web", client="10.0.0.1")
    assert isinstance(outcome, SignupAccepted), outcome
    return outcome.request_id


async def test_a_valid_form_asks_the_captcha_for_a_check_and_nothing_else() -> None:
    w = world()
    request_id = await signed_up(w)
    [check] = w.written("security-check-requested")
    assert check["request_id"] == request_id and check["channel"] == "web"
    assert "email" not in check and "holder_id" not in check  # the captcha needs no personal data
    assert w.mails() == []
    view = await w.reg.views.request(request_id)
    assert view is not None and view.status is RequestStatus.AWAITING_CAPTCHA


async def test_an_invalid_form_gets_every_error_and_writes_nothing() -> None:
    w = world()
    outcome = await w.reg.signup.sign_up(form(email_confirmation="autre@cpa.fr", cgu_accepted=False), "web")
    assert isinstance(outcome, list)
    assert {e.field for e in outcome} == {"email_confirmation", "cgu_accepted"}
    assert w.store.written == [] and w.store.requests == {}


async def test_a_filled_honeypot_is_answered_like_a_person_and_dropped() -> None:
    w = world()
    outcome = await w.reg.signup.sign_up(form(honeypot="http://spam"), "web")
    assert isinstance(outcome, SignupAccepted)
    assert w.store.written == [] and await w.reg.views.request(outcome.request_id) is None


async def test_sign_ups_from_one_address_are_limited_then_say_when_to_come_back() -> None:
    w = world(signups_per_address=2)
    for body in ("2850575116001", "2850575116002"):
        await signed_up(w, nir=body, nir_key=nir_key(body))
    throttled = await w.reg.signup.sign_up(form(), "web", client="10.0.0.1")
    assert isinstance(throttled, SignupThrottled) and 0 < throttled.retry_after_s <= 600
    assert "Réessayez" in throttled.message
    assert isinstance(await w.reg.signup.sign_up(form(), "web", client="10.0.0.2"), SignupAccepted)


async def test_the_passed_check_asks_for_the_confirmation_mail_whose_link_is_known_at_once() -> None:
    w = world()
    request_id = await signed_up(w)
    await w.reg.signup.on_check_passed(request_id)
    [mail] = w.mails()
    assert mail["kind"] == "confirmation" and mail["to"] == "chloe.dupont@cpa.fr" and mail["first_name"] == "Chloé"
    assert mail["mail_id"] == f"confirmation:{request_id}:first" and mail["subject_id"] == request_id
    # Recorded before the mail is even queued: the holder's click can never come first.
    assert await w.store.request_for_link(link_token_hash(LINK_KEY, mail["mail_id"])) == request_id
    activation = await w.reg.signup.activate(w.token_of(mail))
    assert not activation.already_active
    [activated] = w.written("account-activated")
    assert activated["holder_id"] == activation.holder_id and activated["birth_year_month"] == "1985-05"
    assert [m["kind"] for m in w.mails()] == ["confirmation", "welcome"]
    again = await w.reg.signup.activate(w.token_of(mail))
    assert again.already_active and len(w.written("account-activated")) == 1


async def test_a_redelivered_pass_asks_for_no_second_mail() -> None:
    w = world()
    request_id = await signed_up(w)
    await w.reg.signup.on_check_passed(request_id)
    await w.reg.signup.on_check_passed(request_id)
    assert len(w.mails()) == 1


async def test_a_sign_up_for_an_existing_account_warns_the_owner_and_never_the_typed_address() -> None:
    w = world()
    first = await signed_up(w)
    await w.reg.signup.on_check_passed(first)
    await w.reg.signup.activate(w.token_of(w.mails()[0]))
    intruder = await signed_up(w, email="intrus@evil.fr", email_confirmation="intrus@evil.fr")
    await w.reg.signup.on_check_passed(intruder)
    warning = w.mails()[-1]
    assert warning["kind"] == "duplicate_signup" and warning["to"] == "chloe.dupont@cpa.fr"
    assert warning["link_expires_at"] is None and warning["attempted_at"] is not None
    assert all(m["to"] != "intrus@evil.fr" for m in w.mails())


async def test_a_sign_up_replaces_a_pending_one_once_its_check_is_passed_and_the_old_link_dies() -> None:
    # Issue 13, "the pending-request trap": a holder who mistyped their address starts over.
    w = world()
    first = await signed_up(w)
    await w.reg.signup.on_check_passed(first)
    [old_mail] = w.mails()
    second = await signed_up(w, email="bonne.adresse@cpa.fr", email_confirmation="bonne.adresse@cpa.fr")
    assert len(w.written("security-check-requested")) == 2  # both answered and checked alike
    assert len(w.mails()) == 1  # nothing changes before the new request's check is passed
    await w.reg.signup.on_check_passed(second)
    new_mail = w.mails()[-1]
    assert new_mail["kind"] == "confirmation" and new_mail["to"] == "bonne.adresse@cpa.fr"
    old = await w.reg.views.request(first)
    assert old is not None and old.status is RequestStatus.REJECTED
    with pytest.raises(RequestRejected):
        await w.reg.signup.activate(w.token_of(old_mail))
    assert not (await w.reg.signup.activate(w.token_of(new_mail))).already_active


async def test_a_replacing_sign_up_whose_check_is_never_passed_changes_nothing() -> None:
    w = world()
    first = await signed_up(w)
    await w.reg.signup.on_check_passed(first)
    await signed_up(w, email="intrus@evil.fr", email_confirmation="intrus@evil.fr")
    assert not (await w.reg.signup.activate(w.token_of(w.mails()[0]))).already_active


async def test_a_replacing_sign_up_checked_after_the_pending_one_was_confirmed_warns_the_owner() -> None:
    w = world()
    first = await signed_up(w)
    await w.reg.signup.on_check_passed(first)
    late = await signed_up(w, email="intrus@evil.fr", email_confirmation="intrus@evil.fr")
    await w.reg.signup.activate(w.token_of(w.mails()[0]))  # the owner confirms first
    await w.reg.signup.on_check_passed(late)
    warning = w.mails()[-1]
    assert warning["kind"] == "duplicate_signup" and warning["to"] == "chloe.dupont@cpa.fr"
    assert all(m["to"] != "intrus@evil.fr" for m in w.mails())


async def test_a_stale_second_link_of_a_nir_never_opens_a_second_account() -> None:
    w = world()
    first = await signed_up(w)
    await w.reg.signup.on_check_passed(first)
    holder_id = (await w.reg.signup.activate(w.token_of(w.mails()[0]))).holder_id
    found = await w.store.request(first)
    assert found is not None
    # Another live request of the same NIR (what a crash between two writes could leave behind).
    stale = SignupRequest.start("stale-request-0000", holder_id, w.clock()).pass_captcha(w.clock())
    stale = stale.issue_link(token_hash("x" * 43), w.clock())
    await w.store.save_request(stale, found[1])
    activation = await w.reg.signup.activate("x" * 43)
    assert activation.already_active and len(w.written("account-activated")) == 1


async def test_a_failed_check_rejects_the_request() -> None:
    w = world()
    request_id = await signed_up(w)
    await w.reg.signup.on_check_failed(request_id, "renewals_exhausted")
    view = await w.reg.views.request(request_id)
    assert view is not None and view.status is RequestStatus.REJECTED
    assert w.mails() == []


async def test_a_resend_issues_a_new_link_and_the_old_one_still_works() -> None:
    w = world(LifecyclePolicy(resend_cooldown=timedelta(seconds=60)))
    request_id = await signed_up(w)
    with pytest.raises(CaptchaPending):
        await w.reg.signup.resend(request_id)
    await w.reg.signup.on_check_passed(request_id)
    with pytest.raises(ResendTooSoon):
        await w.reg.signup.resend(request_id)
    w.clock.advance(seconds=61)
    updated = await w.reg.signup.resend(request_id)
    assert updated is not None and updated.resends_used == 1
    first, second = w.mails()
    assert second["mail_id"] == f"confirmation:{request_id}:resend-1" and w.token_of(first) != w.token_of(second)
    assert not (await w.reg.signup.activate(w.token_of(first))).already_active


async def test_a_decoy_resend_looks_the_same_and_sends_nothing() -> None:
    w = world()
    first = await signed_up(w)
    await w.reg.signup.on_check_passed(first)
    await w.reg.signup.activate(w.token_of(w.mails()[0]))
    decoy = await signed_up(w, email="autre@cpa.fr", email_confirmation="autre@cpa.fr")
    await w.reg.signup.on_check_passed(decoy)
    sent = len(w.mails())
    w.clock.advance(seconds=61)
    updated = await w.reg.signup.resend(decoy)
    assert updated is not None and updated.resends_used == 1 and len(w.mails()) == sent


async def test_links_that_are_not_ours_or_have_expired_are_refused_in_french() -> None:
    w = world(LifecyclePolicy(link_lifetime=timedelta(hours=1)))
    request_id = await signed_up(w)
    await w.reg.signup.on_check_passed(request_id)
    with pytest.raises(UnknownLink) as unknown:
        await w.reg.signup.activate("x" * 43)
    assert "n'est pas valide" in unknown.value.message
    w.clock.advance(hours=1, seconds=1)
    with pytest.raises(LinkExpired, match="expiré"):
        await w.reg.signup.activate(w.token_of(w.mails()[0]))
    assert w.written("account-activated") == []


async def test_an_event_for_an_unknown_request_is_parked_held_or_acknowledged_by_what_its_id_says() -> None:
    w = world()
    with pytest.raises(PoisonMessage, match="never issued"):
        await w.reg.signup.on_check_passed("forged-id-0000000000")
    recent = w.reg.signup.ids.mint(w.clock())  # issued by us, not stored yet (Redis behind the topic)
    with pytest.raises(RetryLater):
        await w.reg.signup.on_check_passed(recent)
    w.clock.advance(days=9)  # past any request's life: nothing left to do
    await w.reg.signup.on_check_passed(recent)
    request_id = await signed_up(w)
    found = await w.store.request(request_id)
    assert found is not None
    await w.store.forget_request(found[0])
    await w.reg.signup.on_check_passed(request_id)  # purged: acknowledged
    assert w.mails() == []


async def test_the_page_after_the_check_is_woken_by_the_pass_not_by_polling() -> None:
    w = world()
    request_id = await signed_up(w)

    async def captcha_reports_later() -> None:
        await asyncio.sleep(0.05)
        await w.reg.signup.on_check_passed(request_id)

    view, _ = await asyncio.gather(w.reg.views.request_after_check(request_id, wait_s=5), captcha_reports_later())
    assert view is not None and view.status is RequestStatus.AWAITING_CONFIRMATION
    other = await signed_up(w, nir="2850575116002", nir_key=nir_key("2850575116002"))
    late = await w.reg.views.request_after_check(other, wait_s=0.05)
    assert late is not None and late.status is RequestStatus.AWAITING_CAPTCHA  # the page shows the check again


async def test_purge_forgets_requests_past_their_deadline_so_the_nir_may_start_again() -> None:
    w = world()
    old = await signed_up(w)
    w.clock.advance(days=8)
    assert await w.reg.signup.purge() == 1
    assert await w.reg.views.request(old) is None and await w.store.is_gone(old)
    again = await signed_up(w)
    await w.reg.signup.on_check_passed(again)
    assert [m["kind"] for m in w.mails()] == ["confirmation"]

