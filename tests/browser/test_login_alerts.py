"""Takeover defences in a real browser over the real stack (issue 13, item 6): a login from a device not
seen before for the account mails "Nouvelle connexion à votre compte" (through the mailer, to the suite's
SMTP server) with a "Ce n'était pas moi" link; following it closes every session of the account and
sends a reset link; the login history page lists the logins (axe-core clean)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Pages
from tests.browser.test_holder_journey import activated_holder
from tests.conftest import Platform

pytestmark = pytest.mark.integration

NOT_ME_LINK = re.compile(r"https?://[^\s\"'<>]+/connexion/pas-moi\?token=[A-Za-z0-9_\-]+")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"


async def test_a_new_device_is_told_by_mail_and_not_me_closes_every_session(
    platform: Platform, page: Page, pages: Pages
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30, headers={"User-Agent": FIREFOX_LINUX}) as http:
        holder = await activated_holder(platform, http, "browser-new-device")
        # The holder's own first login (Firefox): nothing to compare with, no alert.
        mine = await http.post("/api/v1/sessions", json={"nir": holder.nir, "password": holder.password})
        assert mine.status_code == 201, mine.text

        # Someone logs in from another browser (headless Chromium): a new device for this account.
        await page.goto(platform.gateway + "/connexion")
        await page.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
        await page.get_by_label(re.compile(r"^Mot de passe")).fill(holder.password)
        await page.get_by_role("button", name="Se connecter").click()
        await page.wait_for_url("**/mes-droits")
        await page.get_by_role("link", name="Historique de connexion").click()
        await page.wait_for_url("**/mes-droits/connexions")
        rows = page.locator("#login-history tbody tr")
        await expect(rows).to_have_count(2)
        await expect(rows.first).to_contain_text("Chrome sur Linux")
        await expect(rows.last).to_contain_text("Firefox sur Linux")
        await expect(rows.first).to_contain_text("mot de passe")
        await pages.check(page, "historique-de-connexion")

        [alert] = await platform.smtp.wait_for_mail(holder.email, subject_contains="Nouvelle connexion")
        text = alert.text()
        assert "Chrome sur Linux" in text and "mot de passe" in text, text
        assert len(await platform.smtp.wait_for_mail(holder.email, subject_contains="Nouvelle connexion")) == 1
        link = NOT_ME_LINK.search(text)
        assert link, text

        await page.goto(link.group(0))
        await pages.check(page, "ce-n-etait-pas-moi")
        await page.get_by_role("button", name="Fermer toutes les sessions").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Votre compte est protégé")
        await pages.check(page, "compte-protege")

        # Every session is closed: the holder's own (the API's cookie) and the browser's.
        refreshed = await http.post("/api/v1/sessions/current/token")
        assert refreshed.status_code == 401, refreshed.text
        await page.goto(platform.gateway + "/mes-droits")
        await page.wait_for_url("**/connexion**")
        # The old password no longer works; a reset link was sent.
        again = await http.post("/api/v1/sessions", json={"nir": holder.nir, "password": holder.password})
        assert again.status_code == 401, again.text
        await platform.smtp.wait_for_mail(holder.email, subject_contains="Réinitialisation")

        # The link serves once.
        await page.goto(link.group(0))
        await page.get_by_role("button", name="Fermer toutes les sessions").click()
        await expect(page.locator(".error-summary")).to_contain_text("Ce lien n'est pas valide")
        await pages.check(page, "lien-deja-utilise")
