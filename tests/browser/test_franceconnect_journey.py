"""FranceConnect in a real browser (issue 13): headless Chromium over the real stack, whose registration
points at the stack's OpenID Connect provider (deploy/local/oidc_provider.py, its own login page).

Sign-up with FranceConnect end to end, login with it, linking a password account (after a refused
mismatch), the reclaim of an account a stranger opened with the NIR, an identity no account is linked to,
the provider down, and a login after registration's Redis was wiped. Our pages are screenshotted and
audited with axe-core; the provider's page is screenshotted only (it is not ours).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import oidc_provider  # deploy/local/oidc_provider.py, on the path tests.conftest sets
import pytest
import stack  # deploy/local/stack.py, likewise
from playwright.async_api import Page, Route, expect
from redis.asyncio import Redis

from contracts import topics
from services.registration.domain.identity_check import MISMATCH_MESSAGE
from tests.browser.conftest import Pages
from tests.browser.test_holder_journey import activated_holder
from tests.conftest import ROOT, Platform
from tests.integration.events import records_for
from tests.support.franceconnect import claims_of
from tests.support.journey import Holder
from tests.support.kafka import eventually

pytestmark = pytest.mark.integration


async def at_provider(page: Page, pages: Pages, subject: str, claims: dict[str, Any]) -> None:
    """The tester logs in on the provider's page (FranceConnect's, in production) with this identity."""
    await page.wait_for_url(re.compile(r".*/franceconnect/authorize\?.*"))
    await page.locator("#username").fill(subject)
    await page.locator("#claims").fill(json.dumps(claims))
    await pages.check(page, "fournisseur-identite", audit=False)
    await page.locator("button[type=submit]").click()


async def log_in_with_password(page: Page, platform: Platform, holder: Holder) -> None:
    await page.goto(platform.gateway + "/connexion")
    await page.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
    await page.get_by_label(re.compile(r"^Mot de passe")).fill(holder.password)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url("**/mes-droits")


async def log_out(page: Page) -> None:
    """Out of our session, and of the provider's when FranceConnect opened it (back with its state)."""
    await page.get_by_role("button", name="Se déconnecter").click()
    await page.wait_for_url(re.compile(r".*/deconnexion(\?state=[^&]+)?$"))
    await expect(page.locator(".success")).to_be_visible()


async def fill_franceconnect_form(page: Page, holder: Holder) -> None:
    await page.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
    await page.get_by_label("Clé").fill(holder.key)
    await page.get_by_label("Téléphone mobile").fill("06 12 34 56 78")
    await page.get_by_label(re.compile("J'ai lu et j'accepte")).check()


async def signed_up_with_franceconnect(page: Page, pages: Pages, platform: Platform, tag: str) -> tuple[Holder, str]:
    """A new holder signs up with FranceConnect, keeping the provider's e-mail: logged in on "Mes droits"."""
    holder, subject = Holder.new(tag), f"fc-{uuid.uuid4()}"
    await page.goto(platform.gateway + "/inscription/franceconnect")
    await at_provider(page, pages, subject, claims_of(holder.nir, holder.email))
    await page.wait_for_url("**/inscription/franceconnect/formulaire")
    await fill_franceconnect_form(page, holder)
    await page.get_by_role("button", name="Créer mon compte").click()
    await page.wait_for_url("**/mes-droits")
    return holder, subject


async def test_sign_up_with_franceconnect_then_log_in_with_it(platform: Platform, page: Page, pages: Pages) -> None:
    holder, subject = Holder.new("fc-signup"), f"fc-{uuid.uuid4()}"
    await page.goto(platform.gateway + "/inscription")
    await expect(page.get_by_role("link", name="Qu'est-ce que FranceConnect ?")).to_be_visible()
    await pages.check(page, "inscription-bouton-franceconnect")
    await page.get_by_role("link", name="S'identifier avec FranceConnect").click()
    await at_provider(page, pages, subject, claims_of(holder.nir, holder.email))

    await page.wait_for_url("**/inscription/franceconnect/formulaire")
    identity = page.locator("dl.identity")
    await expect(identity).to_contain_text("Chloé")
    await expect(identity).to_contain_text("Dupont")
    await expect(identity).to_contain_text(f"12/{holder.nir[3:5]}/19{holder.nir[1:3]}")
    assert await page.get_by_label("Prénom").count() == 0  # the names are the provider's, not editable
    await expect(page.get_by_label("Courriel personnel")).to_have_value(holder.email)
    await pages.check(page, "formulaire-franceconnect")
    await page.get_by_role("button", name="Créer mon compte").click()
    await expect(page.locator("#error-summary")).to_contain_text("numéro de sécurité sociale")
    await pages.check(page, "formulaire-franceconnect-erreurs")

    await fill_franceconnect_form(page, holder)
    await page.get_by_role("button", name="Créer mon compte").click()
    await page.wait_for_url("**/mes-droits")  # the provider's e-mail kept: open at once, no picture check
    await expect(page.locator(".identity-box")).to_contain_text("Identité vérifiée : FranceConnect")
    await expect(page.locator("#rights")).to_have_attribute("data-state", "loaded")
    await pages.check(page, "mes-droits-identite-verifiee")
    await platform.smtp.wait_for_mail(holder.email, subject_contains="Bienvenue")

    await log_out(page)
    await page.goto(platform.gateway + "/connexion")
    await page.get_by_role("link", name="S'identifier avec FranceConnect").first.click()
    await at_provider(page, pages, subject, claims_of(holder.nir, holder.email))
    await page.wait_for_url("**/mes-droits")
    await expect(page.locator(".identity-box")).to_contain_text("Identité vérifiée : FranceConnect")
    session = [c for c in await page.context.cookies() if c["name"] == "mcf_session"]
    assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"


async def test_linking_a_password_account_after_a_refused_mismatch(
    platform: Platform, page: Page, pages: Pages
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        holder = await activated_holder(platform, http, "fc-link")
    subject = f"fc-{uuid.uuid4()}"
    await log_in_with_password(page, platform, holder)
    await expect(page.locator(".identity-box")).to_contain_text("Identité non vérifiée")
    await pages.check(page, "mes-droits-identite-non-verifiee")

    await page.get_by_role("link", name="Lier mon compte à FranceConnect").click()
    born_elsewhere = {**claims_of(holder.nir, holder.email), "birthplace": "69123"}
    await at_provider(page, pages, subject, born_elsewhere)
    await expect(page.locator(".error-summary")).to_have_text(f"Erreur : {MISMATCH_MESSAGE}")
    await pages.check(page, "liaison-refusee")

    await page.get_by_role("link", name="Retour").click()
    await expect(page.locator(".identity-box")).to_contain_text("Identité non vérifiée")
    await page.get_by_role("link", name="Lier mon compte à FranceConnect").click()
    await at_provider(page, pages, subject, claims_of(holder.nir, holder.email))
    await page.wait_for_url("**/mes-droits?franceconnect=lie")
    await expect(page.locator(".identity-box")).to_contain_text("Identité vérifiée : FranceConnect")
    await expect(page.get_by_role("status").first).to_contain_text("lié à FranceConnect")
    await pages.check(page, "liaison-reussie")

    await log_out(page)  # the password still works, and FranceConnect now logs this account in
    await page.goto(platform.gateway + "/connexion")
    await page.get_by_role("link", name="S'identifier avec FranceConnect").first.click()
    await at_provider(page, pages, subject, claims_of(holder.nir, holder.email))
    await page.wait_for_url("**/mes-droits")


async def test_the_verified_person_reclaims_an_account_opened_by_a_stranger(
    platform: Platform, page: Page, pages: Pages
) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        squatted = await activated_holder(platform, http, "fc-squatter")  # someone who knew the NIR
        squatter_login = await http.post("/api/v1/sessions", json={"nir": squatted.nir, "password": squatted.password})
        assert squatter_login.status_code == 201
        assert (await http.post("/api/v1/sessions/current/token")).status_code == 200  # the squatter's session
        owner_email = f"fc-owner.{squatted.nir}@example.org"
        await page.goto(platform.gateway + "/inscription/franceconnect")
        await at_provider(page, pages, f"fc-{uuid.uuid4()}", claims_of(squatted.nir, owner_email))
        await page.wait_for_url("**/inscription/franceconnect/formulaire")
        await fill_franceconnect_form(page, squatted)
        await page.get_by_role("button", name="Créer mon compte").click()
        await page.wait_for_url("**/mes-droits")
        await expect(page.locator(".identity-box")).to_contain_text("Identité vérifiée : FranceConnect")
        await pages.check(page, "compte-repris")

        [told] = await platform.smtp.wait_for_mail(squatted.email, subject_contains="n'est plus celle")
        assert "FranceConnect" in told.text()
        refused = await http.post("/api/v1/sessions", json={"nir": squatted.nir, "password": squatted.password})
        assert refused.status_code == 401  # the squatter's password is gone
        assert (await http.post("/api/v1/sessions/current/token")).status_code == 401  # and their session closed

    # Partners hear of it by holder id only (written in the same transaction as the account).
    holder_id = squatted.holder_id(Path(platform.state.var) / "keys")
    [reclaimed] = await records_for(platform, topics.ACCOUNT_RECLAIMED, holder_id)
    [verified] = await records_for(platform, topics.IDENTITY_VERIFIED, holder_id)
    assert verified.json()["method"] == "franceconnect" and verified.json()["acr"] == "eidas1"
    for record in (reclaimed, verified):
        assert squatted.nir not in record.value.decode() and "Dupont" not in record.value.decode()


async def test_an_identity_without_account_is_offered_the_sign_up(platform: Platform, page: Page, pages: Pages) -> None:
    holder = Holder.new("fc-unknown")
    await page.goto(platform.gateway + "/connexion/franceconnect")
    await at_provider(page, pages, f"fc-{uuid.uuid4()}", claims_of(holder.nir, holder.email))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Aucun compte lié à cette identité")
    await pages.check(page, "identite-sans-compte")
    await page.get_by_role("link", name="Créer mon compte avec FranceConnect").click()
    await page.wait_for_url("**/inscription/franceconnect/formulaire")
    await expect(page.locator("dl.identity")).to_contain_text("Dupont")


async def test_provider_down_gives_a_french_page_and_password_login_still_works(
    platform: Platform, page: Page, pages: Pages
) -> None:
    """The provider goes down between its login page and the code's redemption: the callback's token call
    finds nobody. (A provider already down at the start is the same page, once the client's cached discovery
    document is stale: the client's integration test covers that.)"""
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        holder = await activated_holder(platform, http, "fc-down")

    async def provider_dies_after_its_login_page(route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        answer = await route.fetch(max_redirects=0)  # the provider's redirect to our callback, with a code
        pid = platform.state.pids.pop("oidc")
        await asyncio.to_thread(stack.stop_pid, pid, "oidc provider", 5)
        await route.fulfill(response=answer)

    await page.route(re.compile(r".*/franceconnect/authorize\?.*"), provider_dies_after_its_login_page)
    try:
        await page.goto(platform.gateway + "/connexion")
        await page.get_by_role("link", name="S'identifier avec FranceConnect").first.click()
        await at_provider(page, pages, f"fc-{uuid.uuid4()}", claims_of(holder.nir, holder.email))
        await expect(page.locator(".error-summary")).to_contain_text("FranceConnect ne répond pas pour le moment")
        await pages.check(page, "franceconnect-indisponible")
        await log_in_with_password(page, platform, holder)
    finally:
        if "oidc" not in platform.state.pids:
            oidc_provider.start_in_stack(platform.state, ROOT / "var" / "cache")


async def test_a_linked_identity_still_logs_in_after_registrations_redis_is_rebuilt(
    platform: Platform, page: Page, pages: Pages
) -> None:
    """The link subject → holder lives in the account records of the state topic: a wiped Redis gets it back."""
    holder, subject = await signed_up_with_franceconnect(page, pages, platform, "fc-wipe")

    reg = Redis.from_url(platform.redis_url("registration"))
    try:
        await reg.flushdb()
        await eventually(lambda: reg.exists("reg:rebuilt"), timeout=60)
    finally:
        await reg.aclose()
    await page.context.clear_cookies()  # the sessions went with Redis (short-lived, not rebuilt)
    await page.goto(platform.gateway + "/connexion/franceconnect")
    await at_provider(page, pages, subject, claims_of(holder.nir, holder.email))
    await page.wait_for_url("**/mes-droits")
    await expect(page.locator(".identity-box")).to_contain_text("Identité vérifiée : FranceConnect")
