"""The holder's journey in a real browser (issue 6): Debian's headless Chromium, driven by Playwright, over
the real stack (nginx gateway, the four services, Kafka, Redis, the suite's SMTP server).

Every page is screenshotted to ``var/artifacts/screenshots/`` and audited with axe-core (no serious or
critical violation); the ``page`` fixture also fails the test on any CSP refusal or script error."""

from __future__ import annotations

import json
import re
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import Pages
from tests.conftest import Platform
from tests.support.journey import (
    Holder,
    answer,
    confirmation_link,
    current_challenge,
    server_side_answer,
    sign_up,
    wrong_choice,
)
from tests.support.kafka import eventually, publish_raw

pytestmark = pytest.mark.integration

RESET_LINK = re.compile(r"https?://[^\s\"'<>]+/mot-de-passe/nouveau\?token=[A-Za-z0-9_\-]+")
NEW_PASSWORD = "Violon-Rouge-42"


def spaces(text: str) -> str:
    """French number formatting uses (narrow) no-break spaces: compare with plain ones."""
    return re.sub(r"[\u00a0\u202f]", " ", text).strip()


def euros(amount: str) -> str:
    whole, cents = f"{Decimal(amount):,.2f}".split(".")
    return f"{whole.replace(',', ' ')},{cents} €"


async def declare(platform: Platform, holder: Holder, **body: Any) -> None:
    message = {"event_id": str(uuid.uuid4()), "nir": holder.nir, "nir_key": holder.key, **body}
    await publish_raw(platform.kafka, "rights.partner-declarations.v1", json.dumps(message).encode(), key=holder.nir)


async def api_rights(http: httpx.AsyncClient, holder: Holder, password: str) -> dict[str, Any]:
    login = await http.post("/api/v1/sessions", json={"nir": holder.nir, "password": password})
    assert login.status_code == 201, login.text
    token = login.json()["access_token"]
    resp = await http.get("/api/v1/me/rights", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    await http.delete("/api/v1/sessions/current", headers={"Authorization": f"Bearer {token}"})
    return body


async def activated_holder(platform: Platform, http: httpx.AsyncClient, tag: str) -> Holder:
    """A holder whose account is active, made through the JSON API (the browser journey is tested elsewhere)."""
    holder = Holder.new(tag)
    request_id = await sign_up(http, holder)
    challenge = await current_challenge(http, request_id)
    expected = await server_side_answer(platform.redis_url("captcha"), challenge["challenge_id"])
    passed = await answer(http, challenge["challenge_id"], request_id, choice_id=expected["choice_id"])
    assert passed.status_code == 200, passed.text
    [mail] = await platform.smtp.wait_for_mail(holder.email, subject_contains="Activez votre compte")
    link = confirmation_link(mail.text())
    landing = await http.get(link.removeprefix(platform.gateway))
    assert landing.status_code == 200, landing.text
    return holder


async def test_whole_journey_sign_up_captcha_mail_activation_login_balances_logout(
    platform: Platform, page: Page, pages: Pages
) -> None:
    started = time.monotonic()
    holder = Holder.new("browser")
    gateway = platform.gateway

    # Home
    home = await page.goto(gateway + "/")
    assert home is not None and home.status == 200
    csp = home.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert home.headers["x-frame-options"] == "DENY"
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mon Compte Formation")
    await pages.check(page, "accueil")
    await page.get_by_role("link", name="Je crée mon compte").first.click()

    # Step 1: the CGU
    await page.wait_for_url("**/inscription")
    await pages.check(page, "cgu")
    await page.get_by_label("J'ai lu et j'accepte les conditions générales d'utilisation").check()
    await page.get_by_role("button", name="Continuer").click()

    # Step 2: the form, with its live hints
    await page.wait_for_url("**/inscription/formulaire?**")
    await expect(page.get_by_text("Vous avez accepté les")).to_be_visible()
    await page.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
    await expect(page.locator("#nir-count")).to_have_text("13 caractères saisis sur 13 ✓")
    await page.get_by_label(re.compile(r"^Clé")).fill(holder.key)
    await page.get_by_label("Prénom").fill(holder.first_name)
    await page.get_by_label("Nom de naissance").fill(holder.birth_name)
    await page.get_by_label("Téléphone mobile").fill("06 12 34 56 78")
    await page.get_by_label("Courriel personnel").fill(holder.email)
    await page.get_by_label("Confirmation du courriel").fill(holder.email)
    await page.get_by_label("Code postal").fill("75015")
    await page.get_by_label("Ville").fill("Paris")
    await page.get_by_label("Libellé de la voie").fill("de Vaugirard")
    await page.get_by_label("Numéro de voie").fill("12")
    await page.get_by_label("Type de voie").select_option("Rue")
    await page.get_by_label("Diplôme le plus élevé").select_option("bac_plus_2")
    password = page.get_by_label(re.compile(r"^Mot de passe"))
    await password.fill("abc")
    await expect(page.locator("#rules-password [data-rule='upper'] .rule-state")).to_have_text("✗ non respecté")
    await expect(page.locator("#rules-password .strength-value")).to_contain_text("faible")
    await password.fill(holder.password)
    await expect(page.locator("#rules-password [data-rule='upper'] .rule-state")).to_have_text("✓ respecté")
    await expect(page.locator("#rules-password .strength-value")).to_have_text("fort")
    toggle = page.locator("[data-toggle-password='password']")
    await toggle.click()
    assert await password.get_attribute("type") == "text"
    await expect(toggle).to_have_accessible_name(re.compile(r"^\s*Masquer le mot de passe « Mot de passe »"))
    await toggle.click()
    assert await password.get_attribute("type") == "password"
    await page.get_by_label("Confirmez votre mot de passe").fill(holder.password)
    await pages.check(page, "formulaire")
    await page.get_by_role("button", name="Créer mon compte").click()

    # Step 3: the security check, solved by clicking the right picture
    await page.wait_for_url("**/controle")
    pictures = page.locator("button.picture")
    await expect(pictures).to_have_count(5)
    await expect(page.locator("#captcha-word")).not_to_be_empty()
    await page.wait_for_function(  # every picture is really an image the browser could decode
        "() => [...document.querySelectorAll('button.picture img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    await expect(page.get_by_role("heading", name="Version sonore")).to_be_visible()
    await pages.check(page, "controle-de-securite")
    challenge_id = await page.locator("#captcha").get_attribute("data-challenge-id")
    assert challenge_id
    expected = await server_side_answer(platform.redis_url("captcha"), challenge_id)
    assert platform.smtp.mails_to(holder.email) == []  # nothing is mailed before the check is passed
    await page.locator(f"button.picture[data-choice='{expected['choice_id']}']").click()

    # Step 4: check your inbox
    await page.wait_for_url("**/courriel**")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Consultez votre messagerie")
    await pages.check(page, "consultez-votre-messagerie")

    # The confirmation mail, opened from the SMTP server, and its link followed
    [mail] = await platform.smtp.wait_for_mail(holder.email, subject_contains="Activez votre compte")
    link = confirmation_link(mail.text())
    assert link.startswith(gateway)
    await page.goto("about:blank")  # the mail is not our page: its inline styles are not under our CSP
    await page.set_content(mail.html())
    await pages.check(page, "courriel-de-confirmation", audit=False)
    await page.locator("a[href*='/activation?token=']").first.click()
    await page.wait_for_url("**/activation?token=**")
    await expect(page.get_by_text("Votre compte personnel sécurisé est activé")).to_be_visible()
    await pages.check(page, "compte-active")

    # Partners declare rights: pre-2019 hours, DIF, a top-up, prevention points, a booked training.
    await declare(platform, holder, type="legacy_cpf_hours", hours=108)
    await declare(platform, holder, type="dif_registered", hours=20, date="2020-06-01")
    await declare(platform, holder, type="abondement", amount_eur="500.00", payer="employer", date="2024-06-01")
    await declare(platform, holder, type="c2p_exposure", year=2023, quarters=4, factors=2)
    await declare(platform, holder, type="training_booked", booking_id="b-1", price_eur="300.00", date="2025-01-15")
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:

        async def settled() -> dict[str, Any] | None:
            body = await api_rights(http, holder, holder.password)
            b = body["balances"]
            done = b["legacy_hours_converted"]["hours"] == 108 and b["dif_hours"] == 20 and b["c2p"]["points"] > 0
            return body if done and b["cpf"]["reserved_eur"] != "0.00" else None

        rights = await eventually(settled, timeout=45, interval=1)
    balances = rights["balances"]

    # Login
    await page.get_by_role("link", name="Se connecter").last.click()
    await page.wait_for_url("**/connexion")
    await pages.check(page, "connexion")
    await page.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
    await page.get_by_label(re.compile(r"^Mot de passe")).fill(holder.password)
    await page.get_by_role("button", name="Se connecter").click()

    # Mes droits
    await page.wait_for_url("**/mes-droits")
    await expect(page.locator("#rights")).to_have_attribute("data-state", "loaded")
    session = next(c for c in await page.context.cookies() if c["name"] == "mcf_session")
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    text = spaces(await page.locator("main").inner_text())
    assert "Bonjour Chloé" in text
    assert "Bac+2 (BTS, DUT, DEUG, DEUST)" in text  # the highest diploma, and the seed's note about it
    assert "Le niveau de diplôme peut entraîner dans certains cas une majoration de vos droits" in text
    assert rights["highest_diploma_note"] in text
    assert f"108 heures converties en {euros(balances['legacy_hours_converted']['eur'])}" in text
    assert balances["legacy_hours_converted"]["eur"] == "1620.00"
    assert f"20 heures, soit {euros(balances['cpf']['dif_eur'])}" in text
    cell = {
        key: spaces(await page.locator(f"#rights-cpf [data-value='{key}']").inner_text())
        for key in ("cpf.rights_eur", "cpf.reserved_eur", "cpf.usable_eur", "cpf.abondements_eur")
    }
    assert cell["cpf.rights_eur"] == euros(balances["cpf"]["rights_eur"])
    assert cell["cpf.reserved_eur"] == euros(balances["cpf"]["reserved_eur"]) != "0,00 €"
    assert cell["cpf.usable_eur"] == euros(balances["cpf"]["usable_eur"])
    assert cell["cpf.abondements_eur"] == euros(balances["cpf"]["abondements_eur"])
    cec = spaces(await page.locator("#rights-other [data-value='cec.eur']").inner_text())
    assert cec == euros(balances["cec"]["eur"])
    cpp = spaces(await page.locator("#rights-other [data-value='c2p.points']").inner_text())
    assert cpp == f"{balances['c2p']['points']} points"
    assert spaces(await page.locator("#rights-summary [data-value='dif_hours']").inner_text()) == "20 heures"
    await expect(page.locator("#history-table tbody tr")).not_to_have_count(0)
    await pages.check(page, "mes-droits")

    # Logout
    await page.get_by_role("button", name="Se déconnecter").click()
    await page.wait_for_url("**/deconnexion")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Vous êtes déconnecté(e)")
    await pages.check(page, "deconnexion")
    assert not [c for c in await page.context.cookies() if c["name"] == "mcf_session"]
    await page.goto(gateway + "/mes-droits")
    await page.wait_for_url("**/connexion")
    print(f"journey in the browser: {time.monotonic() - started:.1f}s, pages audited: {pages.audited}")


async def test_form_with_errors_keeps_values_and_explains_in_french(
    platform: Platform, page: Page, pages: Pages
) -> None:
    await page.goto(platform.gateway + "/inscription/formulaire")
    await page.get_by_label("Numéro de sécurité sociale").fill("1900575123456")
    await page.get_by_label(re.compile(r"^Clé")).fill("00")
    await page.get_by_label("Prénom").fill("Chloé")
    await page.get_by_label("Nom de naissance").fill("Dupont")
    await page.get_by_label("Courriel personnel").fill("chloe.dupont@example.org")
    await page.get_by_label("Confirmation du courriel").fill("chloe.dupond@example.org")
    await page.get_by_label("Code postal").fill("7501")
    await page.get_by_label(re.compile(r"^Mot de passe")).fill("abc")
    await page.get_by_label("Confirmez votre mot de passe").fill("abd")
    await page.get_by_role("button", name="Créer mon compte").click()

    summary = page.locator("#error-summary")
    await expect(summary).to_be_visible()
    await expect(summary).to_be_focused()
    assert (await page.title()).startswith("Erreur : ")
    text = await summary.inner_text()
    for message in (
        "Un des deux numéros doit être renseigné",
        "Les deux adresses de courriel ne sont pas identiques",
        "Le code postal comporte 5 chiffres",
        "Le mot de passe doit comporter au moins 8 caractères",
        "Le mot de passe doit contenir au moins une lettre majuscule",
        "Cochez la case « J'ai lu et j'accepte les conditions générales d'utilisation »",
    ):
        assert message in text, f"{message!r} missing from the summary:\n{text}"

    # Each error sits next to its field and is linked to it; the summary links lead to the fields.
    confirmation = page.get_by_label("Confirmation du courriel")
    await expect(confirmation).to_have_attribute("aria-invalid", "true")
    described = (await confirmation.get_attribute("aria-describedby") or "").split()
    assert "err-email-confirmation" in described
    await expect(page.locator("#err-email-confirmation")).to_contain_text(
        "Erreur : Les deux adresses de courriel ne sont pas identiques"
    )
    assert await summary.locator("a[href='#email-confirmation']").count() == 1
    await expect(page.locator("#err-phone-landline, #err-phone-mobile").first).to_contain_text("Un des deux numéros")

    # What was typed is kept, except the passwords.
    await expect(page.get_by_label("Prénom")).to_have_value("Chloé")
    await expect(page.get_by_label("Courriel personnel")).to_have_value("chloe.dupont@example.org")
    await expect(page.get_by_label("Confirmation du courriel")).to_have_value("chloe.dupond@example.org")
    await expect(page.get_by_label("Numéro de sécurité sociale")).to_have_value("1900575123456")
    await expect(page.get_by_label("Code postal")).to_have_value("7501")
    await expect(page.get_by_label(re.compile(r"^Mot de passe"))).to_have_value("")
    await expect(page.get_by_label("Confirmez votre mot de passe")).to_have_value("")
    await pages.check(page, "formulaire-avec-erreurs")

    # Keyboard: the summary's link moves focus to its field.
    await summary.locator("a[href='#email-confirmation']").focus()
    await page.keyboard.press("Enter")
    await expect(confirmation).to_be_focused()

    # CSRF: a post without the form's token, or from another origin, is refused and nothing is created.
    no_token = await page.request.post(platform.gateway + "/inscription/formulaire", form={"nir": "1"})
    assert no_token.status == 403 and "ce formulaire a expiré" in await no_token.text()
    token = await page.locator("input[name='csrf_token']").first.input_value()
    cross_site = await page.request.post(
        platform.gateway + "/connexion",
        form={"csrf_token": token, "nir": "1900575123456", "password": "x"},
        headers={"Origin": "https://attaquant.example"},
    )
    assert cross_site.status == 403


async def test_failed_then_renewed_security_check_by_keyboard(platform: Platform, page: Page, pages: Pages) -> None:
    holder = Holder.new("browser-renew")
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        request_id = await sign_up(http, holder)
        first = await current_challenge(http, request_id)
    await page.goto(f"{platform.gateway}/inscription/{request_id}/controle")
    await expect(page.locator("button.picture")).to_have_count(5)
    expected = await server_side_answer(platform.redis_url("captcha"), first["challenge_id"])
    wrong = wrong_choice(first, expected["choice_id"])
    feedback = page.locator("#captcha-feedback")

    await page.locator(f"button.picture[data-choice='{wrong}']").click()
    await expect(feedback).to_have_text("Ce n'est pas la bonne réponse. Essayez encore. Il vous reste 2 essais.")
    await expect(page.locator("#captcha-attempts")).to_have_text("Essais restants : 2")
    await pages.check(page, "mauvaise-reponse")
    await page.locator(f"button.picture[data-choice='{wrong}']").click()
    await expect(feedback).to_contain_text("Il vous reste 1 essai.")
    await page.locator(f"button.picture[data-choice='{wrong}']").click()
    await expect(feedback).to_contain_text("Renouvelez le contrôle de sécurité")
    for i in range(5):
        await expect(page.locator("button.picture").nth(i)).to_be_disabled()
    renew = page.get_by_role("button", name="Renouvelez le contrôle de sécurité")
    await expect(renew).to_be_focused()  # the only way on is one key press away
    await pages.check(page, "essais-epuises")

    await page.keyboard.press("Enter")
    await expect(page.locator("#captcha")).not_to_have_attribute("data-challenge-id", first["challenge_id"])
    await expect(feedback).to_contain_text("Nouveau contrôle de sécurité : cliquez sur l'image")
    renewed_id = await page.locator("#captcha").get_attribute("data-challenge-id")
    assert renewed_id
    await expect(page.locator("button.picture").first).to_be_focused()
    audio_src = await page.locator("#captcha-audio").get_attribute("src")
    assert audio_src and renewed_id in audio_src
    audio = await page.request.get(platform.gateway + audio_src)
    assert audio.ok and (await audio.body())[:4] == b"RIFF"
    await pages.check(page, "controle-renouvele")

    # Answer with the keyboard only: arrows move between the pictures, Enter chooses.
    renewed = await server_side_answer(platform.redis_url("captcha"), renewed_id)
    for _ in range(5):
        focused = await page.evaluate("() => document.activeElement.getAttribute('data-choice')")
        if focused == renewed["choice_id"]:
            break
        await page.keyboard.press("ArrowRight")
    assert await page.evaluate("() => document.activeElement.getAttribute('data-choice')") == renewed["choice_id"]
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/courriel**")
    await platform.smtp.wait_for_mail(holder.email, subject_contains="Activez votre compte")

    # Asking for a new link at once: the cooldown is explained, in French, on the same page.
    await page.get_by_role("button", name="Recevoir un nouveau lien de confirmation").click()
    await expect(page.locator("#error-summary")).to_contain_text("Vous pourrez en demander un nouveau dans")
    await expect(page.locator("#error-summary")).to_be_focused()
    await pages.check(page, "renvoi-trop-tot")


async def test_login_error_forgotten_password_and_new_password(platform: Platform, page: Page, pages: Pages) -> None:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        holder = await activated_holder(platform, http, "browser-reset")

    await page.goto(platform.gateway + "/connexion")
    await page.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
    await page.get_by_label(re.compile(r"^Mot de passe")).fill("Pas-le-bon-1")
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.locator("#error-summary")).to_contain_text(
        "Numéro de sécurité sociale ou mot de passe incorrect."
    )
    await expect(page.get_by_label("Numéro de sécurité sociale")).to_have_value(holder.nir)
    await expect(page.get_by_label(re.compile(r"^Mot de passe"))).to_have_value("")
    await pages.check(page, "connexion-refusee")

    await page.get_by_role("link", name="Mot de passe oublié ?").click()
    await page.wait_for_url("**/mot-de-passe/oublie")
    await pages.check(page, "mot-de-passe-oublie")
    await page.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
    await page.get_by_role("button", name="Recevoir un lien").click()
    await expect(page.get_by_text("Si un compte existe pour ce numéro")).to_be_visible()
    await pages.check(page, "lien-envoye")

    [mail] = await platform.smtp.wait_for_mail(holder.email, subject_contains="Réinitialisation")
    match = RESET_LINK.search(mail.text())
    assert match, mail.text()
    await page.goto(match.group(0))
    await pages.check(page, "nouveau-mot-de-passe")
    await page.get_by_label("Nouveau mot de passe").fill("motdepasse")
    await page.get_by_label("Confirmez votre mot de passe").fill("autre")
    await page.get_by_role("button", name="Enregistrer mon nouveau mot de passe").click()
    await expect(page.locator("#error-summary")).to_contain_text("au moins une lettre majuscule")
    await expect(page.locator("#error-summary")).to_contain_text("Les deux mots de passe ne sont pas identiques.")
    await pages.check(page, "nouveau-mot-de-passe-erreurs")
    await page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    await page.get_by_label("Confirmez votre mot de passe").fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Enregistrer mon nouveau mot de passe").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe modifié")
    await pages.check(page, "mot-de-passe-modifie")

    await page.get_by_role("link", name="Se connecter").last.click()
    await page.get_by_label("Numéro de sécurité sociale").fill(holder.nir)
    await page.get_by_label(re.compile(r"^Mot de passe")).fill(NEW_PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url("**/mes-droits")
    await expect(page.locator("#rights")).to_have_attribute("data-state", "loaded")


async def test_dead_links_get_clear_pages(platform: Platform, page: Page, pages: Pages) -> None:
    unknown = await page.goto(platform.gateway + "/activation?token=" + "x" * 43)
    assert unknown is not None and unknown.status == 404
    await expect(page.locator(".error-summary")).to_contain_text("Ce lien de confirmation n'est pas valide")
    await pages.check(page, "lien-de-confirmation-invalide")
    missing = await page.goto(platform.gateway + "/inscription/inconnue-0000/controle")
    assert missing is not None and missing.status == 404
    await expect(page.locator(".error-summary")).to_contain_text("inconnue ou a expiré")
    await pages.check(page, "demande-inconnue")


async def test_audio_alternative_typed_answer_is_case_blind(platform: Platform, page: Page, pages: Pages) -> None:
    holder = Holder.new("browser-audio")
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        request_id = await sign_up(http, holder)
        await current_challenge(http, request_id)
    await page.goto(f"{platform.gateway}/inscription/{request_id}/controle")
    await expect(page.locator("button.picture")).to_have_count(5)
    audio = page.locator("audio#captcha-audio")
    await expect(audio).to_have_attribute("controls", "")
    src = await audio.get_attribute("src")
    assert src
    wav = await page.request.get(platform.gateway + src)
    assert wav.ok and wav.headers["content-type"] == "audio/wav" and len(await wav.body()) > 1000

    # Keyboard only: from the last picture, Tab reaches the audio player, then the field for the word heard.
    await page.locator("button.picture").last.focus()
    await page.keyboard.press("Tab")
    assert await page.evaluate("() => document.activeElement.id") == "captcha-audio"
    for _ in range(8):  # Tab walks through the player's own buttons (play, volume, menu) first
        await page.keyboard.press("Tab")
        if await page.evaluate("() => document.activeElement.id") != "captcha-audio":
            break
    assert await page.evaluate("() => document.activeElement.id") == "captcha-typed"
    word = (await page.locator("#captcha-word").inner_text()).strip()
    await page.keyboard.type(word.upper())
    await pages.check(page, "mot-entendu")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/courriel**")
    await platform.smtp.wait_for_mail(holder.email, subject_contains="Activez votre compte")
