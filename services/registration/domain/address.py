"""The optional postal address, shaped like the real form's fields (AFNOR NF Z10-011 parts).

Optional as a whole: an address left entirely blank is ``None``. Once any part is filled, the
address must be usable: a postcode (5 digits) and a city, and a street name or a "lieu-dit".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from services.registration.domain.errors import FieldError

_POSTCODE = re.compile(r"[0-9]{5}")
_NUMBER = re.compile(r"[0-9]{1,4}")
_SPACES = re.compile(r"\s+")

# Repetition indices of the national address base (BAN); the usual abbreviations are accepted.
REPETITION_INDICES = {
    "bis": "bis",
    "b": "bis",
    "ter": "ter",
    "t": "ter",
    "quater": "quater",
    "q": "quater",
    "quinquies": "quinquies",
    "c": "quinquies",
}

_MAX = {"street_type": 40, "street_name": 100, "complement": 100, "locality": 100, "city": 60}


@dataclass(frozen=True, slots=True)
class AddressForm:
    """The address as typed (every part optional)."""

    number: str | None = None
    repetition_index: str | None = None
    street_type: str | None = None
    street_name: str | None = None
    complement: str | None = None
    locality: str | None = None  # "lieu-dit"
    postcode: str | None = None
    city: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    """A normalised address: whitespace collapsed, repetition index spelt out in lower case."""

    postcode: str
    city: str
    number: str | None = None
    repetition_index: str | None = None
    street_type: str | None = None
    street_name: str | None = None
    complement: str | None = None
    locality: str | None = None


def _clean(raw: str | None) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", raw or "")).strip()


def _has_control_chars(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs", "Cn") for c in text)


def _postcode_plausible(code: str) -> bool:
    # 01xxx-95xxx mainland and Corsica (20xxx), 97xxx/98xxx overseas and Monaco; never 00xxx or 96xxx.
    department = int(code[:2])
    return 1 <= department <= 95 or department in (97, 98)


def validate_address(form: AddressForm | None) -> Address | list[FieldError] | None:
    """``None`` when absent, the normalised :class:`Address`, or the errors to show."""
    if form is None:
        return None
    parts = {name: _clean(getattr(form, name)) for name in AddressForm.__dataclass_fields__}
    if not any(parts.values()):
        return None
    errors: list[FieldError] = []

    for name, limit in _MAX.items():
        value = parts[name]
        if len(value) > limit:
            errors.append(
                FieldError(f"address.{name}", "too_long", f"Ce champ ne doit pas dépasser {limit} caractères.")
            )
        elif _has_control_chars(value):
            errors.append(
                FieldError(f"address.{name}", "invalid_characters", "Ce champ contient des caractères non autorisés.")
            )

    number = parts["number"]
    if number and not _NUMBER.fullmatch(number):
        errors.append(
            FieldError(
                "address.number",
                "invalid_format",
                "Le numéro de voie ne contient que des chiffres (ex. : 12).",
            )
        )
    index_raw = parts["repetition_index"].casefold().rstrip(".")
    index = REPETITION_INDICES.get(index_raw) if index_raw else None
    if index_raw and index is None:
        errors.append(
            FieldError(
                "address.repetition_index",
                "invalid_choice",
                "L'indice de répétition doit être bis, ter, quater ou quinquies.",
            )
        )
    elif index and not number:
        errors.append(
            FieldError(
                "address.number",
                "required",
                "Indiquez le numéro de voie qui accompagne l'indice de répétition.",
            )
        )

    if not parts["street_name"] and not parts["locality"]:
        errors.append(
            FieldError("address.street_name", "required", "Indiquez le libellé de la voie ou, à défaut, le lieu-dit.")
        )
    postcode = parts["postcode"].replace(" ", "")
    if not postcode:
        errors.append(FieldError("address.postcode", "required", "Indiquez le code postal (5 chiffres, ex. : 75015)."))
    elif not _POSTCODE.fullmatch(postcode) or not _postcode_plausible(postcode):
        errors.append(
            FieldError("address.postcode", "invalid_format", "Le code postal comporte 5 chiffres (ex. : 75015).")
        )
    if not parts["city"]:
        errors.append(FieldError("address.city", "required", "Indiquez la ville."))

    if errors:
        return errors
    return Address(
        postcode=postcode,
        city=parts["city"],
        number=number or None,
        repetition_index=index,
        street_type=parts["street_type"] or None,
        street_name=parts["street_name"] or None,
        complement=parts["complement"] or None,
        locality=parts["locality"] or None,
    )
