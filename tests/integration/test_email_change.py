"""Changing the e-mail address over the real stack (issue 13, item 6): the pages through nginx, the mails
through the mailer to the suite's SMTP server, the pending change on registration's state topic.

A holder types the password again, asks for a new address, and the link mailed there changes it even
after registration's Redis was wiped (the account's record is rebuilt from the topic); the old address
is warned, and its "Ce n'était pas moi" puts it back and sends the reset there.
"""

from __future__ import annotations

import re

import httpx
import pytest
from redis.asyncio import Redis

from tests.browser.test_holder_journey import activated_holder
from tests.conftest import Platform
from tests.support.kafka import eventually

# The wrong password below counts against nginx's address, which the whole suite shares.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fresh_client_address")]

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"https?://[^\s\"'<>]+\?token=[A-Za-z0-9_\-]+")


async def post_form(http: httpx.AsyncClient, page: str, action: str, fields: dict[str, str]) -> httpx.Response:
    """Post a form as a browser would: the CSRF token read from the page that shows it."""
    shown = await http.get(page)
    token = CSRF.search(shown.text)
    assert token, shown.text[:500]
    return await http.post(action, data={"csrf_token": token.group(1), **fields})


def link_in(text: str, path: str) -> str:
    found = [link for link in LINK.findall(text) if path in link]
    assert found, text
    return found[0]


async def test_a_new_address_needs_the_password_again_its_link_survives_a_wipe_and_the_old_one_can_undo(
    platform: Platform, reg_redis: Redis
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        holder = await activated_holder(platform, http, "email-change")
        new_email = f"nouvelle.{holder.nir}@example.org"
        login = await post_form(http, "/connexion", "/connexion", {"nir": holder.nir, "password": holder.password})
        assert login.status_code == 303 and login.headers["location"] == "/mes-droits", login.text

        page = await http.get("/mes-droits/courriel")
        assert page.status_code == 200 and "Confirmer mon identité" in page.text
        assert page.headers["cache-control"] == "no-store"
        refused = await post_form(http, "/mes-droits/courriel", "/mes-droits/courriel", {"email": new_email,
                                  "email_confirmation": new_email})  # fmt: skip
        assert refused.status_code == 401 and "confirmez à nouveau votre identité" in refused.text
        wrong = await post_form(http, "/mes-droits/courriel", "/mes-droits/courriel/mot-de-passe",
                                {"password": "Pas-Le-Bon-1"})  # fmt: skip
        assert wrong.status_code == 401 and "Mot de passe incorrect." in wrong.text
        again = await post_form(http, "/mes-droits/courriel", "/mes-droits/courriel/mot-de-passe",
                                {"password": holder.password})  # fmt: skip
        assert again.status_code == 303, again.text

        same = await post_form(http, "/mes-droits/courriel", "/mes-droits/courriel",
                               {"email": holder.email, "email_confirmation": holder.email})  # fmt: skip
        assert same.status_code == 422 and "déjà celle de votre compte" in same.text
        asked = await post_form(http, "/mes-droits/courriel", "/mes-droits/courriel",
                                {"email": new_email, "email_confirmation": new_email})  # fmt: skip
        assert asked.status_code == 200 and "Consultez votre messagerie" in asked.text, asked.text
        [confirmation] = await platform.smtp.wait_for_mail(new_email, subject_contains="Confirmez votre nouvelle")
        link = link_in(confirmation.text(), "/courriel/confirmation")

        # Registration's Redis is wiped: the pending change comes back from the state topic.
        await reg_redis.flushdb()
        await eventually(lambda: reg_redis.exists("reg:rebuilt"), timeout=30)

        landing = await http.get(link.removeprefix(platform.gateway))
        assert landing.status_code == 200 and "Confirmer ma nouvelle adresse" in landing.text
        token = link.rsplit("token=", 1)[1]
        done = await post_form(http, link.removeprefix(platform.gateway), "/courriel/confirmation", {"token": token})
        assert done.status_code == 200 and "Adresse e-mail modifiée" in done.text, done.text
        used = await post_form(http, link.removeprefix(platform.gateway), "/courriel/confirmation", {"token": token})
        assert used.status_code == 410 and "pas valide" in used.text

        [warning] = await platform.smtp.wait_for_mail(holder.email, subject_contains="adresse électronique a été")
        assert new_email not in warning.text()  # the new address is not told
        not_me = link_in(warning.text(), "/connexion/pas-moi")
        undone = await post_form(http, not_me.removeprefix(platform.gateway), "/connexion/pas-moi",
                                 {"token": not_me.rsplit("token=", 1)[1]})  # fmt: skip
        assert undone.status_code == 200 and "Votre compte est protégé" in undone.text, undone.text

    # The reset goes to the address the warning was sent to: it is the account's again.
    [reset] = await platform.smtp.wait_for_mail(holder.email, subject_contains="Réinitialisation")
    assert "/mot-de-passe/nouveau?token=" in reset.text()
    # The address the undo replaced is told at once, the time only: not the address that took the account back.
    [restored] = await platform.smtp.wait_for_mail(new_email, subject_contains="n'est plus celle de votre compte")
    assert holder.email not in restored.text() and "identifiez-vous avec FranceConnect" in restored.text()
    assert [m.subject for m in platform.smtp.mails_to(new_email)] == [confirmation.subject, restored.subject]
