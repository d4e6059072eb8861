"""Landline and mobile numbers: French formats, normalised to E.164; at least one of the two.

Accepted input: ``01 23 45 67 89``, ``0123456789``, ``01.23.45.67.89``, ``01-23-45-67-89``,
``+33 1 23 45 67 89``, ``+33 (0)1 23 45 67 89``, ``0033 1 23 45 67 89``. Overseas departments and
collectivities keep their own country codes (Réunion +262, Guadeloupe +590, ...): a national
``0692 12 34 56`` is read as Réunion's, not as an impossible metropolitan number. Validity and the
landline/mobile distinction come from Google's libphonenumber metadata (``phonenumbers``), which
follows the ARCEP numbering plan.

Landline field: geographic numbers (01-05) and the 09 "box" numbers people use as their fixed line.
Mobile field: 06 and 07 (and overseas mobiles). Special numbers (08, short numbers) are refused.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from services.registration.domain.errors import FieldError

# Overseas regions whose national numbers start with the 0 trunk prefix like metropolitan ones;
# tried before FR so that 0590/0594/0596 numbers get their real country code.
_OVERSEAS_NATIONAL_REGIONS = ("RE", "YT", "GP", "BL", "MF", "MQ", "GF", "PM")
# Every region of the French numbering plans (international form only for NC, PF, WF).
FRENCH_REGIONS = frozenset({"FR", *_OVERSEAS_NATIONAL_REGIONS, "NC", "PF", "WF"})

_ALLOWED = re.compile(r"\+?[0-9 .\-()/]+")
_MAX_INPUT = 30  # a real number with separators is about 20 characters; refuse pasted junk early


class PhoneKind(StrEnum):
    LANDLINE = "landline"
    MOBILE = "mobile"


_ACCEPTED_TYPES = {
    PhoneKind.LANDLINE: {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.VOIP,
    },
    PhoneKind.MOBILE: {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE},
}
_FIELDS = {PhoneKind.LANDLINE: "phone_landline", PhoneKind.MOBILE: "phone_mobile"}
_EXAMPLES = {
    PhoneKind.LANDLINE: ("01 23 45 67 89", "+33 1 23 45 67 89"),
    PhoneKind.MOBILE: ("06 12 34 56 78", "+33 6 12 34 56 78"),
}

PHONE_REQUIRED_MESSAGE = "Un des deux numéros doit être renseigné : téléphone fixe ou téléphone mobile."


# The country codes of those regions then FR's, in that order, each once (RE and YT share +262; GP, BL
# and MF +590: one validity check covers every region of a code).
_NATIONAL_COUNTRY_CODES = tuple(
    dict.fromkeys(phonenumbers.country_code_for_region(r) for r in (*_OVERSEAS_NATIONAL_REGIONS, "FR"))
)


def _parse(text: str) -> phonenumbers.PhoneNumber | None:
    """The first valid reading of ``text`` among the French regions, or ``None``.

    Read once: every one of these regions drops the same 0 trunk prefix from a national number, so only
    the country code differs between the readings (parsing it once per region cost 0.8 ms a sign-up)."""
    try:
        number = phonenumbers.parse(text, "FR", keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return None
    # A country code typed in any form ("+33", "0033", "(0033)", "0 033"…) is the holder's: only a number
    # read with the default region's code is national and tried against each French code.
    if number.country_code_source != phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY:
        return number if phonenumbers.is_valid_number(number) else None
    for country_code in _NATIONAL_COUNTRY_CODES:
        reading = phonenumbers.PhoneNumber(
            country_code=country_code,
            national_number=number.national_number,
            italian_leading_zero=number.italian_leading_zero,
            number_of_leading_zeros=number.number_of_leading_zeros,
        )
        if phonenumbers.is_valid_number(reading):
            return reading
    return None


def validate_phone(kind: PhoneKind, raw: str | None) -> str | FieldError | None:
    """E.164 string, ``None`` when left empty (optional on its own), or the error to show."""
    field = _FIELDS[kind]
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if not text:
        return None
    national, international = _EXAMPLES[kind]
    if len(text) > _MAX_INPUT or not _ALLOWED.fullmatch(text):
        return FieldError(
            field,
            "invalid_characters",
            "Le numéro ne peut contenir que des chiffres, des espaces, des points ou des tirets, avec "
            f"éventuellement « + » au début (ex. : {national} ou {international}).",
        )
    number = _parse(text)
    if number is None:
        return FieldError(
            field,
            "invalid_number",
            "Ce numéro de téléphone n'est pas valide : saisissez ses 10 chiffres "
            f"(ex. : {national}) ou sa forme internationale (ex. : {international}).",
        )
    if phonenumbers.region_code_for_number(number) not in FRENCH_REGIONS:
        return FieldError(
            field,
            "not_french",
            "Saisissez un numéro de téléphone français (métropole ou outre-mer).",
        )
    if phonenumbers.number_type(number) not in _ACCEPTED_TYPES[kind]:
        if kind is PhoneKind.LANDLINE:
            return FieldError(
                field,
                "not_a_landline",
                "Ce numéro n'est pas un numéro de téléphone fixe. S'il s'agit d'un mobile (06 ou 07), "
                "saisissez-le dans le champ « Téléphone mobile ».",
            )
        return FieldError(
            field,
            "not_a_mobile",
            "Ce numéro n'est pas un numéro de mobile (06 ou 07). S'il s'agit d'un fixe, saisissez-le "
            "dans le champ « Téléphone fixe ».",
        )
    return str(phonenumbers.format_number(number, PhoneNumberFormat.E164))


def validate_phones(landline: str | None, mobile: str | None) -> tuple[str | None, str | None, list[FieldError]]:
    """Both fields: (landline E.164, mobile E.164, errors). At least one must be given."""
    errors: list[FieldError] = []
    results: list[str | None] = []
    for kind, raw in ((PhoneKind.LANDLINE, landline), (PhoneKind.MOBILE, mobile)):
        outcome = validate_phone(kind, raw)
        if isinstance(outcome, FieldError):
            errors.append(outcome)
            results.append(None)
        else:
            results.append(outcome)
    blank = all(not unicodedata.normalize("NFKC", r or "").strip() for r in (landline, mobile))
    if blank:
        # Shown under the mobile field, where the real form prints the same hint.
        errors.append(FieldError("phone_mobile", "phone_required", PHONE_REQUIRED_MESSAGE))
    return results[0], results[1], errors
