"""The NIR ("numéro de sécurité sociale"): parsing and validation. The pseudonymous holder id computed
from it is ``contracts.identity``.

(Over 300 lines on purpose: the NIR's layout, its exceptions and its key are one rule set, each part
citing its source.)

Layout of the 13 characters (décret 82-103, INSEE "NIR" XML schema), then the 2-digit key:

====  =========  ==============================================================================
pos   width      meaning
====  =========  ==============================================================================
1     1          sex: 1 man, 2 woman (3/4: legacy codes still met in registers, accepted like the
                 State's "emplois de l'inclusion" platform does); 7/8: temporary number (NIA/NNP,
                 "numéro provisoire") given while INSEE certifies the person: refused here, with its
                 own message, because a provisional number changes once certified.
2-3   2          last two digits of the birth year (century inferred, see :meth:`Nir.birth`).
4-5   2          birth month 01-12, or an INSEE code when the civil-status document was incomplete:
                 - 20-30 and 50-99: "mois fictif", the month is unknown;
                 - 31-42: "mois pseudo-fictif", the document was incomplete but gave the month:
                   31 = January ... 42 = December (month = code - 30).
                 13-19, 43-49 and 00 do not exist.
6-10  5          birth place: a 2-character department (01-96 incl. the pre-1976 Corsican 20; 91-96
                 were also used for Algeria, Morocco and Tunisia before independence; 2A/2B for
                 Corsica) + a 3-digit commune (001-999); or an overseas 3-digit department (97x/98x)
                 + a 2-digit commune (01-99); or 99 (born abroad) + a 3-digit INSEE country code.
11-13 3          order number of the birth certificate in the commune and month (001-999).
key   2          97 - (the 13 characters as a number, mod 97), with 2A -> 19 and 2B -> 18.
====  =========  ==============================================================================

The check key is computed by python-stdnum (``stdnum.fr.nir``), a maintained library; the finer
grammar (month codes, places, temporary numbers) is ours because stdnum only checks the key.

A :class:`Nir` never shows itself in clear: ``repr``/``str``/f-strings give a masked form so that a
stray log line cannot leak it. Use :attr:`Nir.value` deliberately when the clear value is needed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fr import nir as stdnum_nir

from services.registration.domain.errors import DomainError, FieldError

NIR_LENGTH = 13
KEY_LENGTH = 2

# The structure once normalised: five digits, the department's 2 characters (digits or 2A/2B),
# six digits. [0-9] rather than \d: \d would accept Arabic-Indic and other Unicode digits.
_SHAPE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{6}")
_KEY_SHAPE = re.compile(r"[0-9]{2}")

_TEMPORARY_SEX_DIGITS = frozenset("78")
_VALID_SEX_DIGITS = frozenset("1234")

# Separators people type or paste from a carte Vitale or a payslip ("1 85 05 75 116 001").
_SEPARATORS = re.compile(r"[\s.\-_/]+")


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class BirthPlaceKind(StrEnum):
    METROPOLITAN = "metropolitan"  # 2-digit department 01-96 (incl. the pre-1976 Corsican 20)
    CORSICA = "corsica"  # 2A / 2B
    OVERSEAS = "overseas"  # 97x / 98x
    ABROAD = "abroad"  # 99 + INSEE country code


class MonthPrecision(StrEnum):
    KNOWN = "known"  # 01-12
    PSEUDO_FICTITIOUS = "pseudo_fictitious"  # 31-42: month known from an incomplete document
    UNKNOWN = "unknown"  # 20-30, 50-99


@dataclass(frozen=True, slots=True)
class BirthPlace:
    kind: BirthPlaceKind
    department: str  # "75", "2A", "971", "99"
    code: str  # commune (3 or 2 digits) or, when born abroad, the INSEE country code


@dataclass(frozen=True, slots=True)
class BirthYearMonth:
    """What a NIR says about the birth date: the year, and the month when INSEE knows it."""

    year: int
    month: int | None

    @property
    def year_month(self) -> str:
        """``YYYY-MM``, ``MM`` = ``00`` when unknown (the ``AccountActivated`` contract's format)."""
        return f"{self.year:04d}-{self.month or 0:02d}"


class NirError(DomainError):
    """A NIR (or its key) that cannot be accepted; ``field`` is ``nir`` or ``nir_key``."""

    def __init__(self, message: str, *, code: str, field: str = "nir") -> None:
        super().__init__(message, code=code)
        self.field = field

    def to_field_error(self) -> FieldError:
        return FieldError(self.field, self.code, self.message)


_MSG_VITALE = "vérifiez votre numéro sur votre carte Vitale ou votre attestation de droits."


def normalise_nir_input(raw: str) -> str:
    """Upper-case, compatibility-normalised (full-width digits become ASCII), separators removed."""
    text = unicodedata.normalize("NFKC", raw)
    return _SEPARATORS.sub("", text).upper()


def _check_structure(value: str) -> None:
    """Raise :class:`NirError` unless ``value`` (already normalised) is a well-formed 13-char NIR."""
    if not value:
        raise NirError("Saisissez votre numéro de sécurité sociale.", code="required")
    if len(value) != NIR_LENGTH:
        raise NirError(
            "Saisissez les 13 caractères de votre numéro de sécurité sociale, sans la clé à 2 chiffres "
            f"(vous en avez saisi {len(value)}).",
            code="invalid_length",
        )
    if not _SHAPE.fullmatch(value):
        raise NirError(
            "Le numéro de sécurité sociale ne contient que des chiffres, sauf pour une naissance en "
            "Corse où les 6e et 7e caractères sont 2A ou 2B.",
            code="invalid_characters",
        )
    sex_digit = value[0]
    if sex_digit in _TEMPORARY_SEX_DIGITS:
        raise NirError(
            "Ce numéro commence par 7 ou 8 : c'est un numéro provisoire. L'inscription demande votre "
            "numéro de sécurité sociale définitif, commençant par 1 ou 2, inscrit sur votre carte "
            "Vitale ou votre attestation de droits.",
            code="temporary_number",
        )
    if sex_digit not in _VALID_SEX_DIGITS:
        raise NirError(
            "Le 1er chiffre de votre numéro de sécurité sociale doit être 1 ou 2 : " + _MSG_VITALE,
            code="invalid_sex_digit",
        )
    if _month_precision(int(value[3:5])) is None:
        raise NirError(
            "Les 4e et 5e chiffres de votre numéro de sécurité sociale (mois de naissance) ne sont pas "
            "valides : " + _MSG_VITALE,
            code="invalid_birth_month",
        )
    if _birth_place(value) is None:
        raise NirError(
            "Les 6e à 10e caractères de votre numéro de sécurité sociale (lieu de naissance) ne sont pas "
            "valides : " + _MSG_VITALE,
            code="invalid_birth_place",
        )
    if value[10:13] == "000":
        raise NirError(
            "Les 11e à 13e chiffres de votre numéro de sécurité sociale ne peuvent pas être 000 : " + _MSG_VITALE,
            code="invalid_order_number",
        )


def _month_precision(code: int) -> MonthPrecision | None:
    if 1 <= code <= 12:
        return MonthPrecision.KNOWN
    if 31 <= code <= 42:
        return MonthPrecision.PSEUDO_FICTITIOUS
    if 20 <= code <= 30 or 50 <= code <= 99:
        return MonthPrecision.UNKNOWN
    return None


def _birth_place(value: str) -> BirthPlace | None:
    department = value[5:7]
    if department in ("2A", "2B"):
        commune = value[7:10]
        return BirthPlace(BirthPlaceKind.CORSICA, department, commune) if commune != "000" else None
    if department in ("97", "98"):
        # Overseas: the department takes 3 digits and the commune only 2 (COG 97105 -> 971 + 05).
        commune = value[8:10]
        return BirthPlace(BirthPlaceKind.OVERSEAS, value[5:8], commune) if commune != "00" else None
    if department == "99":
        country = value[7:10]
        return BirthPlace(BirthPlaceKind.ABROAD, department, country) if country != "000" else None
    commune = value[7:10]
    if department == "00" or commune == "000":
        return None
    return BirthPlace(BirthPlaceKind.METROPOLITAN, department, commune)


def compute_key(value: str) -> str:
    """The 2-digit check key of a 13-character NIR (stdnum applies the 2A -> 19, 2B -> 18 rule)."""
    return str(stdnum_nir.calc_check_digits(value))


@dataclass(frozen=True, slots=True)
class Nir:
    """A structurally valid 13-character NIR, normalised (upper-case, no separators), key excluded.

    The key is not part of the identity: the login form asks for the 13 characters only, so the
    same holder must get the same holder id (``contracts.identity``) with or without it.
    """

    value: str = field(repr=False)

    def __post_init__(self) -> None:
        # Guard the invariant even for direct construction: a Nir in hand is always well formed.
        _check_structure(self.value)

    @classmethod
    def parse(cls, raw: str) -> Nir:
        """Normalise and validate the 13 characters (no key). Raises :class:`NirError`."""
        return cls(normalise_nir_input(raw))

    def __repr__(self) -> str:
        return "Nir(<masqué>)"

    def __str__(self) -> str:
        return self.masked

    @property
    def masked(self) -> str:
        """A form safe for logs and screens: only the sex digit and the last two characters."""
        return f"{self.value[0]}{'*' * 10}{self.value[-2:]}"

    @property
    def key(self) -> str:
        return compute_key(self.value)

    @property
    def sex(self) -> Sex:
        return Sex.MALE if self.value[0] in "13" else Sex.FEMALE

    @property
    def birth_year_2d(self) -> int:
        return int(self.value[1:3])

    @property
    def birth_month_code(self) -> int:
        return int(self.value[3:5])

    @property
    def month_precision(self) -> MonthPrecision:
        precision = _month_precision(self.birth_month_code)
        assert precision is not None  # guaranteed by __post_init__
        return precision

    @property
    def birth_month(self) -> int | None:
        """1-12, or ``None`` when INSEE does not know the month (codes 20-30, 50-99)."""
        code = self.birth_month_code
        precision = self.month_precision
        if precision is MonthPrecision.KNOWN:
            return code
        if precision is MonthPrecision.PSEUDO_FICTITIOUS:
            return code - 30
        return None

    @property
    def birth_place(self) -> BirthPlace:
        place = _birth_place(self.value)
        assert place is not None  # guaranteed by __post_init__
        return place

    @property
    def order_number(self) -> str:
        return self.value[10:13]

    def birth(self, today: date) -> BirthYearMonth:
        """The birth year and month, the century inferred against ``today``.

        The NIR carries only two year digits: we take the most recent year that is not in the
        future (a birth month later than today's in the current year also counts as future).
        A holder aged 100 or more would thus look newborn; for a training-rights account of working
        people that trade-off is acceptable, and such a holder can use FranceConnect instead.
        """
        yy = self.birth_year_2d
        year = today.year - (today.year - yy) % 100
        month = self.birth_month
        if year == today.year and month is not None and month > today.month:
            year -= 100
        return BirthYearMonth(year, month)


def parse_nir_with_key(raw_nir: str, raw_key: str) -> Nir:
    """Validate the sign-up pair (13 characters + 2-digit key) and return the :class:`Nir`.

    If the holder pasted all 15 characters into the NIR field and left the key empty (or typed the
    same key again), we split them rather than refuse: a common slip that needs no correction.
    Raises :class:`NirError` whose ``field`` says which input to fix.
    """
    value = normalise_nir_input(raw_nir)
    key = normalise_nir_input(raw_key)
    if len(value) == NIR_LENGTH + KEY_LENGTH and (not key or key == value[NIR_LENGTH:]):
        value, key = value[:NIR_LENGTH], value[NIR_LENGTH:]
    nir = Nir(value)
    check_key(nir, key)
    return nir


def parse_login_nir(raw: str) -> Nir:
    """The NIR typed on the login or password-reset form: 13 characters, or 15 if the holder added
    the key out of habit (accepted only when that key is right). Raises :class:`NirError`; the caller
    must still answer with the generic "incorrect" message, never this error's text."""
    value = normalise_nir_input(raw)
    if len(value) == NIR_LENGTH + KEY_LENGTH:
        return parse_nir_with_key(value[:NIR_LENGTH], value[NIR_LENGTH:])
    return Nir(value)


def check_key_format(key: str) -> None:
    """Raise :class:`NirError` (field ``nir_key``) unless ``key`` looks like a key (01-97)."""
    if not key:
        raise NirError(
            "Saisissez la clé à 2 chiffres de votre numéro de sécurité sociale, inscrite après les "
            "13 caractères sur votre carte Vitale.",
            code="required",
            field="nir_key",
        )
    if not _KEY_SHAPE.fullmatch(key) or not 1 <= int(key) <= 97:
        raise NirError("La clé comporte 2 chiffres, de 01 à 97.", code="invalid_format", field="nir_key")


def check_key(nir: Nir, key: str) -> None:
    """Raise :class:`NirError` (field ``nir_key``) unless ``key`` is the NIR's check key."""
    check_key_format(key)
    # Cross-check with stdnum's own validator on the 15 characters, not just our key computation.
    try:
        stdnum_nir.validate(nir.value + key)
    except StdnumValidationError:
        raise NirError(
            "La clé ne correspond pas au numéro de sécurité sociale : vérifiez les 13 caractères et la "
            "clé à 2 chiffres inscrits sur votre carte Vitale.",
            code="key_mismatch",
            field="nir_key",
        ) from None


def nir_and_key_errors(raw_nir: str, raw_key: str) -> tuple[Nir | None, list[FieldError]]:
    """Form-level check of both inputs: the NIR, or every error on ``nir`` and ``nir_key``.

    When the 13 characters are wrong, the key's own shape is still checked so that both fields show
    what to fix in one answer (a key can only be compared once the NIR is readable).
    """
    try:
        return parse_nir_with_key(raw_nir, raw_key), []
    except NirError as exc:
        errors = [exc.to_field_error()]
        key = normalise_nir_input(raw_key)
        pasted_with_key = len(normalise_nir_input(raw_nir)) == NIR_LENGTH + KEY_LENGTH and not key
        if exc.field == "nir" and not pasted_with_key:
            try:
                check_key_format(key)
            except NirError as key_exc:
                errors.append(key_exc.to_field_error())
        return None, errors
