"""The verified identity read from FranceConnect's claims: shapes FranceConnect documents are accepted,
anything else is refused with the claim's name (for the logs) and one French sentence (for the holder)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.registration.domain.identity import IdentityClaimsError, identity_from_claims
from services.registration.domain.nir import Sex

CLAIMS: dict[str, Any] = {
    "sub": "fc-sub-1",
    "acr": "eidas1",
    "given_name": "  Anne   Sophie ",
    "family_name": "Le Goff",
    "preferred_username": "",
    "birthdate": "1990-02-28",
    "gender": "female",
    "birthplace": "2a004",
    "birthcountry": "99100",
    "email": "anne@example.fr",
}


def test_the_claims_of_a_person_born_in_france_become_a_verified_identity() -> None:
    who = identity_from_claims(CLAIMS)
    assert who.given_names == ("Anne", "Sophie") and who.family_name == "Le Goff" and who.preferred_name is None
    assert who.birthdate == date(1990, 2, 28) and who.gender is Sex.FEMALE
    assert who.birthplace == "2A004" and who.born_in_france and who.acr == "eidas1"
    assert "Anne" not in repr(who) and "1990" not in repr(who)  # identity data stays out of logs


def test_a_person_born_abroad_has_no_birthplace_even_if_one_is_sent() -> None:
    who = identity_from_claims(CLAIMS | {"birthcountry": "99352", "birthplace": "75105"})
    assert who.birthplace is None and not who.born_in_france


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", ""),
        ("given_name", None),
        ("family_name", "   "),
        ("birthdate", "28/02/1990"),
        ("birthdate", "1990-02-30"),
        ("gender", "unspecified"),
        ("birthcountry", "France"),
        ("birthplace", "7510"),
        ("email", 42),
        ("acr", ""),
    ],
)
def test_a_claim_of_the_wrong_shape_is_refused_by_name(claim: str, value: object) -> None:
    with pytest.raises(IdentityClaimsError) as refused:
        identity_from_claims(CLAIMS | {claim: value})
    assert refused.value.claim == claim
    assert refused.value.message.startswith("FranceConnect n'a pas transmis une identité complète")
