"""An identity verified by FranceConnect: the person, as the provider's signed claims describe them.

FranceConnect v2 claims (docs/identity.md): ``given_name`` (first names, space-separated),
``family_name`` (birth name), ``preferred_username`` (usage name, often empty), ``birthdate``
(``YYYY-MM-DD``; a day or month the civil-status record lacks is given as ``01``), ``gender``
(``male``/``female``), ``birthplace`` (INSEE commune code, empty for people born abroad),
``birthcountry`` (INSEE country code, ``99100`` = France), ``email``, ``sub`` (stable per service).
The NIR is never given: :mod:`identity_check` compares what the NIR encodes with these claims.

Only claims whose signature the adapter verified reach :func:`identity_from_claims`; this module checks
their shape, so a provider answer that is signed but malformed is refused with a reason, not half-used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from services.registration.domain.errors import DomainError
from services.registration.domain.nir import Sex

FRANCE_COUNTRY_CODE = "99100"

# INSEE commune codes: 2-digit department (or 2A/2B) + 3 digits, overseas 97x/98x + 2 digits: 5 characters.
_COMMUNE_CODE = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{3}")
_COUNTRY_CODE = re.compile(r"99[0-9]{3}")
_BIRTHDATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IdentityClaimsError(DomainError):
    """The provider's (verified) claims do not describe a person we can use; ``claim`` names which."""

    code = "invalid_identity_claims"

    def __init__(self, claim: str, detail: str) -> None:
        super().__init__(
            "FranceConnect n'a pas transmis une identité complète : réessayez plus tard ou créez votre "
            "compte avec votre numéro de sécurité sociale et un mot de passe."
        )
        self.claim = claim
        self.detail = detail  # English, for the logs; never shown (it may quote a claim)

    def __repr__(self) -> str:
        return f"IdentityClaimsError(claim={self.claim!r})"


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """A person as FranceConnect certified them, at the assurance level ``acr``."""

    subject: str  # ``sub``: stable for this service, the key of a FranceConnect link
    given_names: tuple[str, ...]
    family_name: str  # birth name
    preferred_name: str | None  # usage name ("nom d'usage"), when the person has one
    birthdate: date
    gender: Sex
    birthplace: str | None  # INSEE commune code at birth; None when born abroad
    birthcountry: str  # INSEE country code; 99100 = France
    email: str
    acr: str  # eidas1 (FranceConnect), eidas2/eidas3 (FranceConnect+)

    @property
    def born_in_france(self) -> bool:
        return self.birthcountry == FRANCE_COUNTRY_CODE

    def to_claims(self) -> dict[str, str]:
        """The claims this identity was read from (:func:`identity_from_claims` reads them back)."""
        return {
            "sub": self.subject,
            "given_name": " ".join(self.given_names),
            "family_name": self.family_name,
            "preferred_username": self.preferred_name or "",
            "birthdate": self.birthdate.isoformat(),
            "gender": self.gender.value,
            "birthplace": self.birthplace or "",
            "birthcountry": self.birthcountry,
            "email": self.email,
            "acr": self.acr,
        }

    def __repr__(self) -> str:
        # Identity data stays out of logs: only what support needs to correlate.
        return f"VerifiedIdentity(subject={self.subject!r}, acr={self.acr!r})"


def _text(claims: Mapping[str, object], name: str, *, required: bool = True) -> str:
    value = claims.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise IdentityClaimsError(name, "not a string")
    value = " ".join(value.split())
    if required and not value:
        raise IdentityClaimsError(name, "missing or empty")
    return value


def identity_from_claims(claims: Mapping[str, object]) -> VerifiedIdentity:
    """The :class:`VerifiedIdentity` the claims describe, or :class:`IdentityClaimsError`."""
    birthdate_text = _text(claims, "birthdate")
    if not _BIRTHDATE.fullmatch(birthdate_text):
        raise IdentityClaimsError("birthdate", "not YYYY-MM-DD")
    try:
        birthdate = date.fromisoformat(birthdate_text)
    except ValueError:
        raise IdentityClaimsError("birthdate", "not a calendar date") from None
    gender_text = _text(claims, "gender")
    try:
        gender = Sex(gender_text)
    except ValueError:
        raise IdentityClaimsError("gender", "neither male nor female") from None
    birthcountry = _text(claims, "birthcountry")
    if not _COUNTRY_CODE.fullmatch(birthcountry):
        raise IdentityClaimsError("birthcountry", "not an INSEE country code")
    birthplace = _text(claims, "birthplace", required=False).upper() or None
    if birthplace is not None and not _COMMUNE_CODE.fullmatch(birthplace):
        raise IdentityClaimsError("birthplace", "not an INSEE commune code")
    if birthcountry != FRANCE_COUNTRY_CODE:
        birthplace = None  # FranceConnect leaves it empty for people born abroad; ignore anything else
    given_names = tuple(_text(claims, "given_name").split(" "))
    return VerifiedIdentity(
        subject=_text(claims, "sub"),
        given_names=given_names,
        family_name=_text(claims, "family_name"),
        preferred_name=_text(claims, "preferred_username", required=False) or None,
        birthdate=birthdate,
        gender=gender,
        birthplace=birthplace,
        birthcountry=birthcountry,
        email=_text(claims, "email"),
        acr=_text(claims, "acr"),
    )
