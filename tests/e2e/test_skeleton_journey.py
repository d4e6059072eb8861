"""The walking skeleton: sign-up → security check → confirmation e-mail → activation → welcome e-mail →
balances published → login → balances over HTTP → logout. Everything over real sockets: nginx (the one
public origin), the four service processes, Apache Kafka, Redis and an SMTP server."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Platform
from tests.support.journey import (
    Holder,
    answer,
    confirmation_link,
    current_challenge,
    server_side_answer,
    sign_up,
)
from tests.support.kafka import read_topic

pytestmark = pytest.mark.integration


async def test_a_holder_signs_up_activates_and_sees_balances(platform: Platform) -> None:
    holder = Holder.new("skeleton")
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        request_id = await sign_up(http, holder)

        challenge = await current_challenge(http, request_id)
        assert challenge["prompt"] and len(challenge["picture_urls"]) == 5
        picture = await http.get(challenge["picture_urls"][0])
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
        assert picture.content.startswith(b"\x89PNG")
        audio = await http.get(challenge["audio_url"])
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"

        # No confirmation mail may leave before the check is passed.
        assert platform.smtp.mails_to(holder.email) == []

        expected = await server_side_answer(platform.redis_url("captcha"), challenge["challenge_id"])
        passed = await answer(http, challenge["challenge_id"], request_id, choice_id=expected["choice_id"])
        assert passed.status_code == 200, passed.text
        assert passed.json()["status"] == "passed"

        [mail] = await platform.smtp.wait_for_mail(holder.email, subject_contains="Activez votre compte")
        assert mail.message["Auto-Submitted"] == "auto-generated"
        link = confirmation_link(mail.text())
        assert link.startswith(platform.gateway)
        assert link in mail.html()

        # Following the e-mailed link (as the holder's browser would) activates the account.
        async def status() -> str:
            return str((await http.get(f"/api/v1/registrations/{request_id}")).json()["status"])

        assert await status() == "awaiting_confirmation"
        url = urlsplit(link)
        landing = await http.get(f"{url.path}?{url.query}")
        assert landing.status_code == 200, landing.text
        assert "Votre compte personnel sécurisé est activé" in landing.text
        assert await status() == "active"
        again = await http.get(f"{url.path}?{url.query}")
        assert again.status_code == 200 and "déjà activé" in again.text

        [welcome] = await platform.smtp.wait_for_mail(holder.email, subject_contains="Bienvenue")
        assert "Votre compte personnel sécurisé est activé" in welcome.text()

        holder_id = holder.holder_id(Path(platform.state.var) / "keys")
        records = await read_topic(
            platform.kafka,
            "rights.balances-projected.v1",
            until=lambda rs: any(r.key == holder_id for r in rs),
        )
        [projected] = [r for r in records if r.key == holder_id]
        body = projected.json()
        assert body["holder_id"] == holder_id and holder.nir not in projected.value.decode()
        assert body["cpf"]["usable_eur"] == "0.00" and body["cec"]["eur"] == "0.00"
        assert projected.headers["ce_type"] == "fr.mcf.rights.balances_projected"

        login = await http.post("/api/v1/sessions", json={"nir": holder.nir, "password": holder.password})
        assert login.status_code == 201, login.text
        assert "mcf_session" in login.headers["set-cookie"] and "HttpOnly" in login.headers["set-cookie"]
        token = login.json()["access_token"]
        rights = await http.get("/api/v1/me/rights", headers={"Authorization": f"Bearer {token}"})
        assert rights.status_code == 200, rights.text
        assert rights.json()["balances"]["cpf"]["rights_eur"] == "0.00"

        logout = await http.delete("/api/v1/sessions/current")
        assert logout.status_code == 204
        refreshed = await http.post("/api/v1/sessions/current/token")
        assert refreshed.status_code == 401
