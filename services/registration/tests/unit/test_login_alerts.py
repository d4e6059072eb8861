"""Takeover defences on fakes: the login history, the new-login alert and "Ce n'était pas moi"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.registration.domain.login_history import LoginClient, LoginRecord, is_new_device, network_of
from services.registration.tests.unit.test_franceconnect_use_cases import CHLOE, fc_form
from services.registration.tests.unit.test_session_and_reset_use_cases import NEW_PASSWORD, active_holder
from services.registration.tests.unit.usecases import BODY, CLIENT, FIREFOX_LINUX, PASSWORD, World, world
from services.registration.use_cases.sessions import INVALID_CREDENTIALS, LoginAccepted

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/131.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0"
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1234:5678:9abc::1", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("testclient", "inconnu"),
        ("", "inconnu"),
    ],
)
def test_only_the_network_of_an_address_is_kept(address: str, network: str) -> None:
    assert network_of(address) == network


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (FIREFOX_LINUX, "Firefox sur Linux"),
        (CHROME_WINDOWS, "Chrome sur Windows"),
        (EDGE_WINDOWS, "Edge sur Windows"),
        (SAFARI_IPHONE, "Safari sur iOS"),
        (FIREFOX_ANDROID, "Firefox sur Android"),
        ("curl/8.5", "inconnu sur inconnu"),
    ],
)
def test_a_client_is_described_coarsely(user_agent: str, label: str) -> None:
    assert LoginRecord.of(LoginClient(user_agent, "203.0.113.7"), "password", NOW).client_label == label


def test_a_first_login_is_not_new_and_a_new_network_is() -> None:
    home = LoginRecord.of(CLIENT, "password", NOW)
    assert not is_new_device([], home)
    assert not is_new_device([home], LoginRecord.of(LoginClient(FIREFOX_LINUX, "203.0.113.200"), "password", NOW))
    assert is_new_device([home], LoginRecord.of(LoginClient(FIREFOX_LINUX, "198.51.100.7"), "password", NOW))
    assert is_new_device([home], LoginRecord.of(LoginClient(CHROME_WINDOWS, "203.0.113.7"), "franceconnect", NOW))


def alerts(w: World) -> list[dict[str, object]]:
    return [m for m in w.mails() if m["kind"] == "new_login"]


async def log_in(w: World, user_agent: str = FIREFOX_LINUX, address: str = "203.0.113.7") -> LoginAccepted:
    accepted = await w.reg.login.log_in(BODY, PASSWORD, address, user_agent)
    assert isinstance(accepted, LoginAccepted)
    return accepted


async def test_every_login_is_recorded_newest_first_without_the_whole_address() -> None:
    w = world()
    holder_id = await active_holder(w)
    await log_in(w)
    w.clock.advance(hours=1)
    await log_in(w, CHROME_WINDOWS, "2001:db8:abcd:12::5")
    [latest, first] = await w.reg.alerts.history(holder_id)
    assert (latest.client_label, latest.network, latest.method_label) == (
        "Chrome sur Windows", "2001:db8:abcd::/48", "mot de passe",
    )  # fmt: skip
    assert (first.client_label, first.network) == ("Firefox sur Linux", "203.0.113.0/24")
    assert "203.0.113.7" not in repr(w.store.logins) and "2001:db8:abcd:12::5" not in repr(w.store.logins)


async def test_the_history_keeps_the_last_20_logins_of_the_last_12_months() -> None:
    w = world()
    holder_id = await active_holder(w)
    for _ in range(25):
        await log_in(w)
        w.clock.advance(days=1)
    history = await w.reg.alerts.history(holder_id)
    assert len(history) == 20 and history[0].when > history[-1].when
    w.clock.advance(days=400)
    assert await w.reg.alerts.history(holder_id) == []


async def test_a_login_from_a_new_device_sends_one_alert_and_a_known_device_none() -> None:
    w = world()
    holder_id = await active_holder(w)
    await log_in(w)  # the first login: nothing to compare with
    await log_in(w, address="203.0.113.99")  # the same browser on the same network
    assert alerts(w) == []
    await log_in(w, SAFARI_IPHONE, "198.51.100.20")
    [alert] = alerts(w)
    assert alert["to"] == "chloe.dupont@cpa.fr" and alert["holder_id"] == holder_id
    assert alert["login_method"] == "mot de passe"
    assert alert["login_client"] == "Safari sur iOS, réseau 198.51.100.0/24"
    assert alert["attempted_at"] and alert["link_expires_at"]
    await log_in(w, SAFARI_IPHONE, "198.51.100.21")  # now known
    assert len(alerts(w)) == 1


async def test_not_me_closes_every_session_disables_the_password_and_sends_a_reset() -> None:
    w = world()
    await active_holder(w)
    mine = await log_in(w)
    theirs = await log_in(w, CHROME_WINDOWS, "198.51.100.20")
    [alert] = alerts(w)
    assert await w.reg.alerts.not_me(w.token_of(alert))
    assert await w.reg.login.holder_of(mine.session_id) is None
    assert await w.reg.login.holder_of(theirs.session_id) is None
    assert await w.reg.login.log_in(BODY, PASSWORD, "198.51.100.20", CHROME_WINDOWS) == INVALID_CREDENTIALS
    [reset] = [m for m in w.mails() if m["kind"] == "password_reset"]
    assert reset["to"] == "chloe.dupont@cpa.fr"
    assert await w.reg.resets.confirm_reset(w.token_of(reset), NEW_PASSWORD, NEW_PASSWORD) == []
    assert isinstance(await w.reg.login.log_in(BODY, NEW_PASSWORD, "203.0.113.7", FIREFOX_LINUX), LoginAccepted)


async def test_an_unknown_or_used_not_me_link_does_nothing() -> None:
    w = world()
    await active_holder(w)
    await log_in(w)
    session = await log_in(w, CHROME_WINDOWS, "198.51.100.20")
    [alert] = alerts(w)
    assert not await w.reg.alerts.not_me("x" * 43)
    assert not await w.reg.alerts.not_me("")
    assert await w.reg.login.holder_of(session.session_id) is not None
    assert await w.reg.alerts.not_me(w.token_of(alert))
    assert not await w.reg.alerts.not_me(w.token_of(alert))  # used
    assert len([m for m in w.mails() if m["kind"] == "password_reset"]) == 1


async def test_a_franceconnect_login_is_recorded_with_its_method() -> None:
    w = world()
    opened = await w.reg.franceconnect.sign_up(CHLOE, fc_form(), CLIENT)
    assert isinstance(opened, LoginAccepted)
    await w.reg.franceconnect.log_in(CHLOE, LoginClient(SAFARI_IPHONE, "198.51.100.20"))
    [latest, first] = await w.reg.alerts.history(opened.holder_id)
    assert latest.method_label == first.method_label == "FranceConnect"
    [alert] = alerts(w)
    assert alert["login_method"] == "FranceConnect"
