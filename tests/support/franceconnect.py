"""The holder's side of a FranceConnect login against the local provider (deploy/local/oidc_provider.py):
its login page is posted as a tester would fill it, with fixed identity claims."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

# A person born in Paris 5e in May 1985; her NIR begins 2 85 05 75 105.
MARIE: dict[str, Any] = {
    "given_name": "Marie Claire",
    "family_name": "Dupont",
    "preferred_username": "Martin",
    "birthdate": "1985-05-12",
    "gender": "female",
    "birthplace": "75105",
    "birthcountry": "99100",
    "email": "marie.dupont@example.fr",
}
MARIE_SUBJECT = "fc-sub-marie-dupont"


async def login_at_provider(
    authorization_url: str, subject: str = MARIE_SUBJECT, claims: dict[str, Any] | None = None
) -> dict[str, str]:
    """Log in on the provider's page and return the query of the redirect to the service's callback."""
    async with httpx.AsyncClient(timeout=30) as browser:
        page = await browser.get(authorization_url)
        assert page.status_code == 200 and 'name="claims"' in page.text, page.text[:500]
        answer = await browser.post(
            authorization_url, data={"username": subject, "claims": json.dumps(claims if claims is not None else MARIE)}
        )
    assert answer.status_code == 302, answer.text[:500]
    return dict(parse_qsl(urlsplit(answer.headers["location"]).query))


def claims_of(nir: str, email: str, given_name: str = "Chloé", family_name: str = "Dupont") -> dict[str, Any]:
    """The identity FranceConnect would give the person a made-up NIR describes (born in France, on the 12th
    of the NIR's month): its cross-check matches."""
    return {
        "given_name": given_name,
        "family_name": family_name,
        "birthdate": f"19{nir[1:3]}-{nir[3:5]}-12",
        "gender": "male" if nir[0] in "13" else "female",
        "birthplace": nir[5:10],
        "birthcountry": "99100",
        "email": email,
    }
