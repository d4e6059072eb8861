"""FranceConnect for accounts on in-memory fakes: link, login, sign-up, and FranceConnect beating a mailbox.

The person is Chloé Dupont's NIR (usecases.BODY: a woman born in May 1985 in Paris 16e) as FranceConnect
would describe her; another person is the same but born in Lyon.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from services.registration.domain.account import RequestRejected
from services.registration.domain.identity import VerifiedIdentity
from services.registration.domain.identity_check import CANNOT_CHECK_MESSAGE, MISMATCH_MESSAGE
from services.registration.domain.nir import Sex
from services.registration.domain.signup import SignupForm
from services.registration.tests.unit.usecases import BODY, CLIENT, PASSWORD, World, form, nir_key, world
from services.registration.use_cases.franceconnect import (
    ACCOUNT_LINKED_ELSEWHERE,
    SUBJECT_TAKEN,
    AwaitingConfirmation,
    Linked,
    Refused,
    UnknownIdentity,
)
from services.registration.use_cases.sessions import LoginAccepted
from services.registration.use_cases.signup import SignupAccepted, SignupThrottled

CHLOE = VerifiedIdentity(
    subject="b6048e95bb134ec5b1d1e1fa69f287172e91722b9354d637a1bcf2ebb0fd2ef5v1",  # FranceConnect's shape
    given_names=("Chloé", "Anne"),
    family_name="Dupont",
    preferred_name=None,
    birthdate=date(1985, 5, 12),
    gender=Sex.FEMALE,
    birthplace="75116",
    birthcountry="99100",
    email="chloe.dupont@franceconnect.fr",
    acr="eidas1",
)
BORN_IN_LYON = replace(CHLOE, subject="fc-sub-other", birthplace="69123")
PLACEHOLDER_DATE = replace(CHLOE, subject="fc-sub-placeholder", birthdate=date(1985, 1, 1))


def fc_form(email: str = CHLOE.email, password: str = "") -> SignupForm:
    """What the holder types after FranceConnect (the names come from the provider)."""
    return SignupForm(
        nir=BODY,
        nir_key=nir_key(BODY),
        phone_mobile="06 12 34 56 78",
        email=email,
        password=password or None,
        password_confirmation=password or None,
        cgu_accepted=True,
    )


async def password_account(w: World) -> str:
    outcome = await w.reg.signup.sign_up(form(), "web")
    assert isinstance(outcome, SignupAccepted)
    await w.reg.signup.on_check_passed(outcome.request_id)
    return (await w.reg.signup.activate(w.token_of(w.mails()[0]))).holder_id


# --- link from "Mes droits", then log in ------------------------------------------------------------


async def test_a_password_account_links_its_franceconnect_identity_then_logs_in_with_it() -> None:
    w = world()
    holder = await password_account(w)
    assert isinstance(await w.reg.franceconnect.log_in(CHLOE, CLIENT), UnknownIdentity)
    assert await w.reg.franceconnect.link(holder, CHLOE) == Linked(holder)
    account = await w.store.account(holder)
    assert account is not None and account.identity_verified_by == "franceconnect"
    assert account.franceconnect_subject == CHLOE.subject
    verified = w.written("identity-verified")
    assert len(verified) == 1 and verified[0]["holder_id"] == holder and verified[0]["acr"] == "eidas1"
    assert "nir" not in verified[0] and "Dupont" not in str(verified[0])
    logged_in = await w.reg.franceconnect.log_in(CHLOE, CLIENT)
    assert isinstance(logged_in, LoginAccepted) and logged_in.holder_id == holder
    assert await w.reg.login.holder_of(logged_in.session_id) == holder
    # The password still works too, and a second click on "link" changes nothing.
    assert isinstance(await w.reg.login.log_in(BODY, PASSWORD, "10.0.0.1"), LoginAccepted)
    assert await w.reg.franceconnect.link(holder, CHLOE) == Linked(holder)
    assert len(w.written("identity-verified")) == 1


async def test_a_mismatching_identity_is_refused_with_one_sentence_and_nothing_is_linked() -> None:
    w = world()
    holder = await password_account(w)
    refused = await w.reg.franceconnect.link(holder, BORN_IN_LYON)
    assert refused == Refused("mismatch", MISMATCH_MESSAGE)
    assert "naissance" not in refused.message and "lieu" not in refused.message  # which part: never said
    account = await w.store.account(holder)
    assert account is not None and account.identity_verified_by is None
    assert w.written("identity-verified") == []


async def test_an_identity_that_cannot_be_checked_is_refused_never_passed() -> None:
    w = world()
    holder = await password_account(w)
    refused = await w.reg.franceconnect.link(holder, PLACEHOLDER_DATE)
    assert refused == Refused("cannot_check", CANNOT_CHECK_MESSAGE)
    assert "automatiquement" in refused.message
    assert isinstance(await w.reg.franceconnect.log_in(PLACEHOLDER_DATE, CLIENT), UnknownIdentity)


async def test_one_subject_per_account_and_one_account_per_subject() -> None:
    w = world()
    holder = await password_account(w)
    assert await w.reg.franceconnect.link(holder, CHLOE) == Linked(holder)
    twin = replace(CHLOE, subject="fc-sub-chloe-second-account")
    assert await w.reg.franceconnect.link(holder, twin) == Refused("account_linked_elsewhere", ACCOUNT_LINKED_ELSEWHERE)
    # Another account (another NIR) cannot take the subject already linked.
    other_body = "1900669123004"
    other = form(nir=other_body, nir_key=nir_key(other_body), email="autre@cpa.fr", email_confirmation="autre@cpa.fr")
    outcome = await w.reg.signup.sign_up(other, "web")
    assert isinstance(outcome, SignupAccepted)
    await w.reg.signup.on_check_passed(outcome.request_id)
    second = (await w.reg.signup.activate(w.token_of(w.mails()[-1]))).holder_id
    assert await w.reg.franceconnect.link(second, CHLOE) == Refused("subject_taken", SUBJECT_TAKEN)


# --- sign-up with FranceConnect -------------------------------------------------------------------


async def test_a_sign_up_with_the_providers_email_opens_the_account_at_once_without_a_password() -> None:
    w = world()
    outcome = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    assert isinstance(outcome, LoginAccepted)
    account = await w.store.account(outcome.holder_id)
    assert account is not None and account.first_name == "Chloé Anne" and account.birth_name == "Dupont"
    assert account.identity_verified_by == "franceconnect" and not account.has_password
    assert [m["kind"] for m in w.mails()] == ["welcome"]
    assert [e["holder_id"] for e in w.written("account-activated")] == [outcome.holder_id]
    assert len(w.written("identity-verified")) == 1
    assert w.written("security-check") == []  # the person is authenticated: no picture check
    # No password: a password login is refused like any wrong password; FranceConnect logs in.
    assert not isinstance(await w.reg.login.log_in(BODY, "", "10.0.0.1"), LoginAccepted)
    assert isinstance(await w.reg.franceconnect.log_in(CHLOE, CLIENT), LoginAccepted)


async def test_the_session_a_sign_up_opens_ends_the_providers_session_at_logout_too() -> None:
    w = world()
    outcome = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT, provider_id_token="hdr.claims.sig")
    assert isinstance(outcome, LoginAccepted)
    assert await w.reg.login.log_out(outcome.session_id) == "hdr.claims.sig"
    # A second sign-up of the same person is a login: its session keeps that login's token as well.
    again = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT, provider_id_token="hdr.again.sig")
    assert isinstance(again, LoginAccepted) and again.holder_id == outcome.holder_id
    assert await w.reg.login.log_out(again.session_id) == "hdr.again.sig"


async def test_a_sign_up_with_another_email_mails_the_confirmation_link_and_opens_on_its_click() -> None:
    w = world()
    outcome = await w.reg.franceconnect.sign_up(CHLOE, fc_form(email="chloe@cpa.fr", password=PASSWORD), CLIENT)
    assert isinstance(outcome, AwaitingConfirmation)
    (mail,) = w.mails()
    assert mail["kind"] == "confirmation" and mail["to"] == "chloe@cpa.fr"
    assert isinstance(await w.reg.franceconnect.log_in(CHLOE, CLIENT), UnknownIdentity)  # not before the click
    activation = await w.reg.signup.activate(w.token_of(mail))
    account = await w.store.account(activation.holder_id)
    assert account is not None and account.identity_verified_by == "franceconnect" and account.has_password
    assert isinstance(await w.reg.franceconnect.log_in(CHLOE, CLIENT), LoginAccepted)
    assert isinstance(await w.reg.login.log_in(BODY, PASSWORD, "10.0.0.1"), LoginAccepted)


async def test_a_sign_up_is_cross_checked_first_and_shows_the_form_errors_all_at_once() -> None:
    w = world()
    assert await w.reg.franceconnect.sign_up(BORN_IN_LYON, fc_form(), CLIENT) == Refused("mismatch", MISMATCH_MESSAGE)
    assert await w.reg.franceconnect.sign_up(PLACEHOLDER_DATE, fc_form(), CLIENT) == Refused(
        "cannot_check", CANNOT_CHECK_MESSAGE
    )
    errors = await w.reg.franceconnect.sign_up(
        CHLOE, replace(fc_form(), cgu_accepted=False, email="pas-un-courriel"), CLIENT
    )
    assert isinstance(errors, list) and {e.field for e in errors} == {"email", "cgu_accepted"}
    assert w.mails() == [] and w.store.accounts == {}


async def test_a_second_sign_up_of_a_linked_person_logs_them_in_instead_of_opening_another_account() -> None:
    w = world()
    first = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    again = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    assert isinstance(first, LoginAccepted) and isinstance(again, LoginAccepted)
    assert again.holder_id == first.holder_id and len(w.store.accounts) == 1


# --- FranceConnect beats a mailbox ----------------------------------------------------------------


async def test_a_pending_password_sign_up_is_cancelled_its_link_dies_and_its_address_is_told() -> None:
    w = world()
    squatter = form(email="squatteur@cpa.fr", email_confirmation="squatteur@cpa.fr")
    pending = await w.reg.signup.sign_up(squatter, "web")
    assert isinstance(pending, SignupAccepted)
    await w.reg.signup.on_check_passed(pending.request_id)
    squatter_link = w.mails()[0]
    outcome = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    assert isinstance(outcome, LoginAccepted)  # no 7-day wait
    notices = [m for m in w.mails() if m["kind"] == "signup_cancelled"]
    assert len(notices) == 1 and notices[0]["to"] == "squatteur@cpa.fr"
    with pytest.raises(RequestRejected, match="n'a pas abouti"):
        await w.reg.signup.activate(w.token_of(squatter_link))
    account = await w.store.account(outcome.holder_id)
    assert account is not None and account.email == CHLOE.email


async def test_an_unverified_account_is_reclaimed_same_holder_sessions_closed_password_removed() -> None:
    w = world()
    squatted = await password_account(w)  # opened by someone who knew the NIR, with their mailbox
    squatter_session = await w.reg.login.log_in(BODY, PASSWORD, "10.0.0.9")
    assert isinstance(squatter_session, LoginAccepted)
    outcome = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    assert isinstance(outcome, LoginAccepted) and outcome.holder_id == squatted  # the rights stay
    assert await w.reg.login.holder_of(squatter_session.session_id) is None
    assert not isinstance(await w.reg.login.log_in(BODY, PASSWORD, "10.0.0.9"), LoginAccepted)
    account = await w.store.account(squatted)
    assert account is not None and account.email == CHLOE.email and account.identity_verified_by == "franceconnect"
    told = [m for m in w.mails() if m["kind"] == "account_reclaimed"]
    assert len(told) == 1 and told[0]["to"] == "chloe.dupont@cpa.fr"  # the previous address
    assert [e["holder_id"] for e in w.written("account-reclaimed")] == [squatted]
    assert len(w.written("account-activated")) == 1  # the same account: not opened twice


async def test_a_reclaim_with_another_email_happens_only_at_the_links_click() -> None:
    w = world()
    squatted = await password_account(w)
    outcome = await w.reg.franceconnect.sign_up(CHLOE, fc_form(email="chloe.vraie@cpa.fr"), CLIENT)
    assert isinstance(outcome, AwaitingConfirmation)  # the same answer as for a NIR without an account
    assert w.written("account-reclaimed") == []
    link = w.mails()[-1]
    assert link["kind"] == "confirmation" and link["to"] == "chloe.vraie@cpa.fr"
    assert (await w.reg.signup.activate(w.token_of(link))).holder_id == squatted
    account = await w.store.account(squatted)
    assert account is not None and account.email == "chloe.vraie@cpa.fr"
    assert len(w.written("account-reclaimed")) == 1


async def test_a_verified_account_is_never_reclaimed_by_another_identity() -> None:
    w = world()
    first = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    assert isinstance(first, LoginAccepted)
    other = replace(CHLOE, subject="fc-sub-someone-born-the-same-month-in-paris-16")
    refused = await w.reg.franceconnect.sign_up(other, fc_form(), CLIENT)
    assert isinstance(refused, Refused) and refused.code == "nir_linked_elsewhere"
    account = await w.store.account(first.holder_id)
    assert account is not None and account.franceconnect_subject == CHLOE.subject


async def test_the_answer_does_not_tell_a_nir_with_an_account_from_one_without() -> None:
    """Same identity, same e-mail choice: the same kind of answer whatever the NIR's past."""
    for email, expected in ((CHLOE.email, LoginAccepted), ("choix@cpa.fr", AwaitingConfirmation)):
        fresh, with_account, with_pending = world(), world(), world()
        await password_account(with_account)
        await with_pending.reg.signup.sign_up(form(), "web")
        for w in (fresh, with_account, with_pending):
            assert type(await w.reg.franceconnect.sign_up(CHLOE, fc_form(email=email), CLIENT)) is expected


async def test_sign_ups_with_franceconnect_share_the_per_address_limit_of_password_sign_ups() -> None:
    w = world(signups_per_address=2)
    assert isinstance(await w.reg.signup.sign_up(form(), "web", client=CLIENT.address), SignupAccepted)
    refused = await w.reg.franceconnect.sign_up(BORN_IN_LYON, fc_form(), CLIENT)
    assert isinstance(refused, Refused)  # counted even when refused
    throttled = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    assert isinstance(throttled, SignupThrottled) and 0 < throttled.retry_after_s <= 600
    assert [m for m in w.mails() if m["kind"] == "welcome"] == []  # no account opened
    other_address = replace(CLIENT, address="198.51.100.20")
    assert isinstance(await w.reg.franceconnect.sign_up(CHLOE, fc_form(), other_address), LoginAccepted)
