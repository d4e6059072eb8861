"""Changing the e-mail address on in-memory fakes (issue 13, item 6): a fresh authentication first, a link
to the new address, the old one warned with "Ce n'était pas moi", the other sessions closed."""

from __future__ import annotations

from typing import Any

import pytest

from services.registration.domain.email_change import SAME_ADDRESS, TOO_MANY, EmailChangeLinkInvalid
from services.registration.tests.unit.test_franceconnect_use_cases import BORN_IN_LYON, CHLOE, fc_form
from services.registration.tests.unit.test_session_and_reset_use_cases import NEW_PASSWORD, active_holder
from services.registration.tests.unit.usecases import BODY, CLIENT, PASSWORD, World, world
from services.registration.use_cases.email_change import ChangeRequested, ReauthenticationNeeded
from services.registration.use_cases.franceconnect import Refused
from services.registration.use_cases.sessions import INVALID_CREDENTIALS, WRONG_PASSWORD, LoginAccepted

OLD, NEW = "chloe.dupont@cpa.fr", "chloe.nouvelle@exemple.fr"


async def logged_in(w: World, address: str = "203.0.113.7") -> LoginAccepted:
    accepted = await w.reg.login.log_in(BODY, PASSWORD, address)
    assert isinstance(accepted, LoginAccepted)
    return accepted


async def verified_session(w: World) -> tuple[str, LoginAccepted]:
    holder_id = await active_holder(w)
    session = await logged_in(w)
    assert await w.reg.login.reauthenticate(holder_id, session.session_id, PASSWORD, "203.0.113.7") is None
    return holder_id, session


def mails_of(w: World, kind: str) -> list[dict[str, Any]]:
    return [m for m in w.mails() if m["kind"] == kind]


async def test_a_change_needs_the_password_typed_again_within_five_minutes() -> None:
    w = world()
    holder_id = await active_holder(w)
    session = await logged_in(w)
    asked = await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW)
    assert asked == ReauthenticationNeeded()  # a session alone is not enough
    wrong = await w.reg.login.reauthenticate(holder_id, session.session_id, "Pas-Le-Bon-1", "203.0.113.7")
    assert wrong == WRONG_PASSWORD and wrong.message == "Mot de passe incorrect."
    assert not await w.reg.login.recently_authenticated(session.session_id)
    assert await w.reg.login.reauthenticate(holder_id, session.session_id, PASSWORD, "203.0.113.7") is None
    assert await w.reg.login.recently_authenticated(session.session_id)
    w.clock.advance(minutes=5)
    assert await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW) == ReauthenticationNeeded()
    assert mails_of(w, "email_change") == []


async def test_typing_the_password_again_is_throttled_like_a_login() -> None:
    w = world()
    holder_id = await active_holder(w)
    session = await logged_in(w)
    answers = [
        await w.reg.login.reauthenticate(holder_id, session.session_id, "Pas-Le-Bon-1", "203.0.113.7")
        for _ in range(6)
    ]
    assert answers[0] == WRONG_PASSWORD and answers[-1] is not None and answers[-1].code == "too_many_attempts"
    assert "Réessayez" in answers[-1].message or "réessayer" in answers[-1].message.lower()


async def test_the_new_address_is_checked_in_french() -> None:
    w = world()
    holder_id, session = await verified_session(w)
    sid = session.session_id
    invalid = await w.reg.email_changes.request(holder_id, sid, "chloe.exemple.fr", "chloe.exemple.fr")
    assert isinstance(invalid, list) and [e.code for e in invalid] == ["missing_at"]
    differ = await w.reg.email_changes.request(holder_id, sid, NEW, "autre@exemple.fr")
    assert isinstance(differ, list) and [e.code for e in differ] == ["mismatch"]
    same = await w.reg.email_changes.request(holder_id, sid, "Chloe.Dupont@CPA.fr", "chloe.dupont@cpa.fr")
    assert same == [SAME_ADDRESS] and "déjà celle de votre compte" in SAME_ADDRESS.message
    assert mails_of(w, "email_change") == []


async def test_the_address_changes_at_the_link_the_old_one_is_warned_and_other_sessions_close() -> None:
    w = world()
    holder_id, session = await verified_session(w)
    other = await logged_in(w, "198.51.100.20")
    assert await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW) == ChangeRequested(NEW)
    [link_mail] = mails_of(w, "email_change")
    assert link_mail["to"] == NEW and link_mail["link_expires_at"]
    account = await w.store.account(holder_id)
    assert account is not None and account.email == OLD  # not before the link

    changed = await w.reg.email_changes.confirm(w.token_of(link_mail), session.session_id)
    assert (changed.previous_email, changed.new_email) == (OLD, NEW)
    account = await w.store.account(holder_id)
    assert account is not None and account.email == NEW and account.email_change_to is None
    [warning] = mails_of(w, "email_changed")
    assert warning["to"] == OLD and warning["attempted_at"] and warning["link_expires_at"]
    assert NEW not in str(warning)  # the new address is not told
    assert await w.reg.login.holder_of(session.session_id) == holder_id  # the browser that changed it
    assert await w.reg.login.holder_of(other.session_id) is None
    with pytest.raises(EmailChangeLinkInvalid):  # once
        await w.reg.email_changes.confirm(w.token_of(link_mail), session.session_id)
    # From now on the account's mail goes to the new address.
    await w.reg.resets.request_reset(BODY)
    assert mails_of(w, "password_reset")[-1]["to"] == NEW


async def test_a_link_followed_elsewhere_closes_every_session() -> None:
    w = world()
    holder_id, session = await verified_session(w)
    await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW)
    [link_mail] = mails_of(w, "email_change")
    await w.reg.email_changes.confirm(w.token_of(link_mail), session_id="")
    assert await w.reg.login.holder_of(session.session_id) is None


async def test_a_new_request_replaces_the_old_link_and_a_link_expires() -> None:
    w = world()
    holder_id, session = await verified_session(w)
    await w.reg.email_changes.request(holder_id, session.session_id, "premiere@exemple.fr", "premiere@exemple.fr")
    await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW)
    first, second = mails_of(w, "email_change")
    with pytest.raises(EmailChangeLinkInvalid) as replaced:
        await w.reg.email_changes.confirm(w.token_of(first), "")
    assert "remplacé par une demande plus récente" in replaced.value.message
    w.clock.advance(hours=24)
    with pytest.raises(EmailChangeLinkInvalid):
        await w.reg.email_changes.confirm(w.token_of(second), "")
    with pytest.raises(EmailChangeLinkInvalid):
        await w.reg.email_changes.confirm("x" * 43, "")
    account = await w.store.account(holder_id)
    assert account is not None and account.email == OLD


async def test_change_requests_are_limited_per_account_and_day() -> None:
    w = world(email_changes_per_day=2)
    holder_id, session = await verified_session(w)
    for n in range(2):
        address = f"essai{n}@exemple.fr"
        asked = await w.reg.email_changes.request(holder_id, session.session_id, address, address)
        assert isinstance(asked, ChangeRequested)
    assert await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW) == [TOO_MANY]
    assert "Réessayez demain" in TOO_MANY.message
    assert len(mails_of(w, "email_change")) == 2


async def test_not_me_from_the_old_address_puts_it_back_closes_sessions_and_sends_the_reset_there() -> None:
    w = world()
    holder_id, session = await verified_session(w)
    await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW)
    await w.reg.email_changes.confirm(w.token_of(mails_of(w, "email_change")[0]), session.session_id)
    # The intruder asks for yet another change, then the real holder answers the warning.
    await w.reg.login.reauthenticate(holder_id, session.session_id, PASSWORD, "203.0.113.7")
    await w.reg.email_changes.request(holder_id, session.session_id, "encore@exemple.fr", "encore@exemple.fr")
    pending_link = mails_of(w, "email_change")[-1]
    [warning] = mails_of(w, "email_changed")

    assert await w.reg.alerts.not_me(w.token_of(warning))
    account = await w.store.account(holder_id)
    assert account is not None and account.email == OLD and account.replaced_emails == []
    assert await w.reg.login.holder_of(session.session_id) is None
    assert await w.reg.login.log_in(BODY, PASSWORD, "203.0.113.7") == INVALID_CREDENTIALS
    [reset] = mails_of(w, "password_reset")
    assert reset["to"] == OLD
    with pytest.raises(EmailChangeLinkInvalid):  # the intruder's pending change died too
        await w.reg.email_changes.confirm(w.token_of(pending_link), "")
    assert await w.reg.resets.confirm_reset(w.token_of(reset), NEW_PASSWORD, NEW_PASSWORD) == []


async def test_the_new_login_alert_an_intruder_caused_before_changing_the_address_also_takes_it_back() -> None:
    w = world()
    holder_id = await active_holder(w)
    await logged_in(w)  # the holder's own device
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
    intruder = await w.reg.login.log_in(BODY, PASSWORD, "198.51.100.20", chrome)
    assert isinstance(intruder, LoginAccepted)
    [alert] = mails_of(w, "new_login")  # to the holder's address, before the intruder changes it
    await w.reg.login.reauthenticate(holder_id, intruder.session_id, PASSWORD, "198.51.100.20")
    await w.reg.email_changes.request(holder_id, intruder.session_id, NEW, NEW)
    await w.reg.email_changes.confirm(w.token_of(mails_of(w, "email_change")[0]), intruder.session_id)

    assert await w.reg.alerts.not_me(w.token_of(alert))
    account = await w.store.account(holder_id)
    assert account is not None and account.email == OLD
    assert mails_of(w, "password_reset")[-1]["to"] == OLD
    assert await w.reg.login.holder_of(intruder.session_id) is None


async def test_a_new_login_alert_at_the_new_address_changes_no_address() -> None:
    w = world()
    holder_id, session = await verified_session(w)
    await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW)
    await w.reg.email_changes.confirm(w.token_of(mails_of(w, "email_change")[0]), session.session_id)
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"
    await w.reg.login.log_in(BODY, PASSWORD, "198.51.100.20", chrome)
    [alert] = mails_of(w, "new_login")
    assert alert["to"] == NEW
    assert await w.reg.alerts.not_me(w.token_of(alert))
    account = await w.store.account(holder_id)
    assert account is not None and account.email == NEW


async def test_a_franceconnect_account_confirms_with_a_fresh_login_of_its_own_identity() -> None:
    w = world()
    opened = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    assert isinstance(opened, LoginAccepted)
    sid = opened.session_id
    refused = await w.reg.franceconnect.reauthenticate(opened.holder_id, sid, BORN_IN_LYON)
    assert isinstance(refused, Refused) and refused.code == "other_identity"
    assert not await w.reg.login.recently_authenticated(sid)
    assert await w.reg.franceconnect.reauthenticate(opened.holder_id, sid, CHLOE) is None
    assert await w.reg.email_changes.request(opened.holder_id, sid, NEW, NEW) == ChangeRequested(NEW)


async def test_logging_out_of_a_franceconnect_login_gives_its_id_token_to_end_the_providers_session() -> None:
    w = world()
    opened = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    assert isinstance(opened, LoginAccepted)
    login = await w.reg.franceconnect.log_in(CHLOE, CLIENT, id_token="header.payload.signature")
    assert isinstance(login, LoginAccepted)
    assert await w.reg.login.log_out(login.session_id) == "header.payload.signature"
    assert await w.reg.login.holder_of(login.session_id) is None
    assert await w.reg.login.log_out(opened.session_id) is None  # nothing to end at the provider


async def test_after_two_changes_in_a_row_the_first_address_still_takes_the_account_back() -> None:
    """An intruder changes A→B, then B→C within one fresh login: the warning of the second change goes to
    B, their own mailbox. The holder's warning, mailed to A, must still put A back and send the reset there."""
    w = world()
    holder_id, session = await verified_session(w)
    third = "chloe.troisieme@exemple.fr"
    await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW)
    await w.reg.email_changes.confirm(w.token_of(mails_of(w, "email_change")[-1]), session.session_id)
    await w.reg.email_changes.request(holder_id, session.session_id, third, third)
    await w.reg.email_changes.confirm(w.token_of(mails_of(w, "email_change")[-1]), session.session_id)
    to_old, to_new = mails_of(w, "email_changed")
    assert (to_old["to"], to_new["to"]) == (OLD, NEW)

    # The intruder answers their own warning first: B is back, A is still the holder's to take.
    assert await w.reg.alerts.not_me(w.token_of(to_new))
    account = await w.store.account(holder_id)
    assert account is not None and account.email == NEW
    assert await w.reg.alerts.not_me(w.token_of(to_old))
    account = await w.store.account(holder_id)
    assert account is not None and account.email == OLD and account.replaced_emails == []
    assert mails_of(w, "password_reset")[-1]["to"] == OLD
    # Each address a restore replaced is told, with the time only.
    assert [m["to"] for m in mails_of(w, "email_restored")] == ["chloe.troisieme@exemple.fr", NEW]


async def test_once_the_first_address_took_the_account_back_a_later_mailbox_cannot_take_it_again() -> None:
    w = world()
    holder_id, session = await verified_session(w)
    third = "chloe.troisieme@exemple.fr"
    await w.reg.email_changes.request(holder_id, session.session_id, NEW, NEW)
    await w.reg.email_changes.confirm(w.token_of(mails_of(w, "email_change")[-1]), session.session_id)
    await w.reg.email_changes.request(holder_id, session.session_id, third, third)
    await w.reg.email_changes.confirm(w.token_of(mails_of(w, "email_change")[-1]), session.session_id)
    to_old, to_new = mails_of(w, "email_changed")

    assert await w.reg.alerts.not_me(w.token_of(to_old))
    # B's link still works as a "Ce n'était pas moi" (sessions closed, a reset), but B is no longer an
    # address of this account: the account stays at A and the reset goes to A.
    assert await w.reg.alerts.not_me(w.token_of(to_new))
    account = await w.store.account(holder_id)
    assert account is not None and account.email == OLD
    assert {m["to"] for m in mails_of(w, "password_reset")} == {OLD}


async def test_a_password_session_that_confirmed_with_franceconnect_ends_the_providers_session_at_logout() -> None:
    """On a shared computer: a holder logged in by password confirms with FranceConnect (or links it);
    logging out must end that provider session too, or the next person would be let in without a password."""
    w = world()
    opened = await w.reg.franceconnect.sign_up(CHLOE, fc_form(password=PASSWORD), CLIENT)
    assert isinstance(opened, LoginAccepted)
    session = await logged_in(w)
    await w.reg.login.keep_provider_id_token(session.session_id, "hdr.reauth.sig")
    assert await w.reg.franceconnect.reauthenticate(opened.holder_id, session.session_id, CHLOE) is None
    assert await w.reg.login.log_out(session.session_id) == "hdr.reauth.sig"
