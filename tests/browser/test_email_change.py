"""Changing the e-mail address and logging out of FranceConnect in a real browser (issue 13): headless
Chromium over the real stack, mails read from the suite's SMTP server, the stack's OpenID Connect provider
playing FranceConnect. Our pages are screenshotted and audited with axe-core."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Pages
from tests.browser.test_franceconnect_journey import at_provider, log_in_with_password, signed_up_with_franceconnect
from tests.browser.test_holder_journey import activated_holder
from tests.conftest import Platform
from tests.support.franceconnect import claims_of
from tests.support.journey import Holder

pytestmark = pytest.mark.integration

LINK = re.compile(r"https?://[^\s\"'<>]+\?token=[A-Za-z0-9_\-]+")


def fresh_login(holder: Holder) -> dict[str, Any]:
    """The holder's identity with the login time FranceConnect puts in its ID token (``auth_time``): now."""
    return {**claims_of(holder.nir, holder.email), "auth_time": int(time.time())}


def link_in(text: str, path: str) -> str:
    found = [link for link in LINK.findall(text) if path in link]
    assert found, text
    return found[0]


async def test_a_holder_changes_the_address_after_typing_the_password_again(
    platform: Platform, page: Page, pages: Pages
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        holder = await activated_holder(platform, http, "browser-email")
    new_email = f"nouvelle.{holder.nir}@example.org"
    await log_in_with_password(page, platform, holder)
    await page.get_by_role("link", name="Modifier mon adresse e-mail").click()
    await page.wait_for_url("**/mes-droits/courriel")
    await expect(page.get_by_text(holder.email)).to_be_visible()
    await pages.check(page, "confirmer-identite")
    await page.get_by_label(re.compile(r"^Mot de passe")).fill("Pas-Le-Bon-1")
    await page.get_by_role("button", name="Confirmer mon identité").click()
    await expect(page.locator("#error-summary")).to_contain_text("Mot de passe incorrect.")
    await pages.check(page, "mot-de-passe-incorrect")
    await page.get_by_label(re.compile(r"^Mot de passe")).fill(holder.password)
    await page.get_by_role("button", name="Confirmer mon identité").click()

    await page.get_by_label(re.compile(r"^Nouvelle adresse e-mail")).fill(holder.email)
    await page.get_by_label(re.compile(r"^Confirmation de la nouvelle adresse")).fill(holder.email)
    await page.get_by_role("button", name="Recevoir le lien de confirmation").click()
    await expect(page.locator("#error-summary")).to_contain_text("déjà celle de votre compte")
    await pages.check(page, "meme-adresse")
    await page.get_by_label(re.compile(r"^Nouvelle adresse e-mail")).fill(new_email)
    await page.get_by_label(re.compile(r"^Confirmation de la nouvelle adresse")).fill(new_email)
    await page.get_by_role("button", name="Recevoir le lien de confirmation").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Consultez votre messagerie")
    await pages.check(page, "lien-envoye")

    [mail] = await platform.smtp.wait_for_mail(new_email, subject_contains="Confirmez votre nouvelle adresse")
    await page.goto(link_in(mail.text(), "/courriel/confirmation"))
    await pages.check(page, "confirmer-nouvelle-adresse")
    await page.get_by_role("button", name="Confirmer ma nouvelle adresse").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Adresse e-mail modifiée")
    await expect(page.locator(".success")).to_contain_text(new_email)
    await pages.check(page, "adresse-modifiee")
    [warning] = await platform.smtp.wait_for_mail(holder.email, subject_contains="adresse électronique a été modifiée")
    assert "/connexion/pas-moi?token=" in warning.text()

    # This browser kept its session; the address shown is the new one.
    await page.goto(platform.gateway + "/mes-droits/courriel")
    await expect(page.get_by_text(new_email)).to_be_visible()


async def test_a_franceconnect_holder_confirms_with_franceconnect_then_logs_out_of_it_too(
    platform: Platform, page: Page, pages: Pages
) -> None:
    holder, subject = await signed_up_with_franceconnect(page, pages, platform, "fc-logout")
    # The session the sign-up opened ends the provider's session too (its ID token was kept with it).
    await page.get_by_role("button", name="Se déconnecter").click()
    await page.wait_for_url(re.compile(r".*/deconnexion\?state=.*"))
    await expect(page.locator(".success")).to_contain_text("et de FranceConnect")
    await page.goto(platform.gateway + "/connexion")
    await page.get_by_role("link", name="S'identifier avec FranceConnect").first.click()
    await at_provider(page, pages, subject, claims_of(holder.nir, holder.email))
    await page.wait_for_url("**/mes-droits")

    # No password on this account: the address changes after a fresh FranceConnect login.
    await page.goto(platform.gateway + "/mes-droits/courriel")
    assert await page.get_by_label(re.compile(r"^Mot de passe")).count() == 0
    await pages.check(page, "confirmer-avec-franceconnect")
    # An answer not proving a login after the start (prompt=login stripped, the provider's session reused:
    # no auth_time, as the local provider never issues one of its own) changes nothing.
    await page.get_by_role("link", name="Confirmer avec FranceConnect").click()
    await at_provider(page, pages, subject, claims_of(holder.nir, holder.email))
    await expect(page.locator("body")).to_contain_text("Rien n'a été modifié")
    await expect(page.get_by_role("link", name="Retour")).to_have_attribute("href", "/mes-droits/courriel")
    await pages.check(page, "reauthentification-non-prouvee")
    # Nor does an ordinary login whose cookie was rewritten to say "reauth": the server's pending login decides.
    await page.goto(platform.gateway + "/connexion/franceconnect")
    await page.wait_for_url(re.compile(r".*/franceconnect/authorize\?.*"))
    [started] = [c for c in await page.context.cookies() if c["name"] == "mcf_fc_login"]
    await page.context.add_cookies([{**started, "value": "reauth." + started["value"].partition(".")[2]}])
    await at_provider(page, pages, subject, fresh_login(holder))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Confirmation refusée")
    await pages.check(page, "pas-une-reauthentification")
    await page.goto(platform.gateway + "/mes-droits/courriel")
    await expect(page.get_by_role("link", name="Confirmer avec FranceConnect")).to_be_visible()

    await page.get_by_role("link", name="Confirmer avec FranceConnect").click()
    sent = re.compile(r".*/franceconnect/authorize\?.*prompt=login.*max_age=0.*")  # asked to log in again
    await page.wait_for_url(sent)
    await at_provider(page, pages, subject, fresh_login(holder))  # the tester types when the login happened
    await page.wait_for_url("**/mes-droits/courriel")
    await expect(page.get_by_role("button", name="Recevoir le lien de confirmation")).to_be_visible()

    # Logging out ends the provider's session too, and the way back is checked. The page that sends the
    # browser there is held a moment (the provider answers 204 once: the browser stays) to be audited.
    end_session = re.compile(r".*/franceconnect/endsession\?.*")
    await page.route(end_session, lambda route: route.fulfill(status=204), times=1)
    await page.get_by_role("button", name="Se déconnecter").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Déconnexion de FranceConnect")
    await pages.check(page, "vers-deconnexion-franceconnect")
    link = page.get_by_role("link", name="Me déconnecter de FranceConnect")
    assert "id_token_hint=" in (await link.get_attribute("href") or "")
    await link.click()
    await page.wait_for_url(re.compile(r".*/deconnexion\?state=.*"))
    await expect(page.locator(".success")).to_contain_text("et de FranceConnect")
    await pages.check(page, "deconnecte-franceconnect")
    forged = await page.goto(platform.gateway + "/deconnexion?state=" + "x" * 43)
    assert forged is not None and forged.status == 400
    await expect(page.locator(".error-summary")).to_contain_text("n'a pas pu être vérifié")
    await pages.check(page, "retour-deconnexion-non-verifie")
