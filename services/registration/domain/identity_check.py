"""The NIR cross-check: does the number typed belong to the person FranceConnect verified?

FranceConnect never gives the NIR, but the NIR encodes the person (:mod:`.nir`): sex (digit 1), year and
month of birth (digits 2-5) and place of birth (6-10). Each part is compared with the verified claims and
ends as *same*, *differs* or *unknown with a reason*; the check's outcome is then:

- :attr:`CheckOutcome.MISMATCH` when any compared part differs. The result says nothing about which
  part: the holder gets one French sentence (:data:`MISMATCH_MESSAGE`), so the check cannot be used to
  learn, part by part, someone else's identity.
- :attr:`CheckOutcome.CANNOT_CHECK` when nothing differs but some part could not be compared; ``reasons``
  lists why (never a silent pass: the use case decides, e.g. a manual check by support).
- :attr:`CheckOutcome.MATCH` when every part was compared and is the same; ``place_rule`` records how
  the places were found equal (same code, or one of the documented code changes).

The exceptions, each documented in docs/identity.md ("The NIR cross-check"):

- **Unknown month** in the NIR (codes 20-30, 50-99): the month is not compared (``NIR_MONTH_UNKNOWN``).
  Codes 31-42 give the month (code - 30) and are compared.
- **FranceConnect's placeholder date**: FranceConnect gives ``01`` for an unknown day or month, so a
  ``YYYY-01-01`` birth date against another NIR month is not a proof of mismatch
  (``PROVIDER_DATE_MAY_BE_PLACEHOLDER``).
- **Corsica**: NIRs of people born before 1976 carry ``20``, later ones ``2A``/``2B``; the commune kept its
  3 digits on the split (INSEE COG, 1 January 1976), so ``20004`` and ``2A004`` are the same place.
- **Paris, Lyon, Marseille**: the NIR carries the arrondissement, FranceConnect may give the commune.
- **Communes merged or recoded since birth**: :mod:`.commune_codes` (dated, partial). A difference inside
  one department that the table does not explain is ``COMMUNE_CODE_CHANGED``, not a match.
- **Île-de-France before 1968**: Seine and Seine-et-Oise were split; the same 3 digits under 75/78 in the
  NIR and 91-95 at FranceConnect is ``DEPARTMENT_RECODED_1968`` unless the table lists the commune.
- **Overseas collectivities** (975-978, 98x, and Mayotte 976, a department only since 2011): their codes
  changed with their status and FranceConnect may describe them as a territory abroad
  (``OVERSEAS_COLLECTIVITY``). The overseas departments 971-974 are compared like the others.
- **Former French territories**: people born in Algeria, Morocco or Tunisia before independence carry
  either a department code 91-96 or ``99`` + the country's code; FranceConnect may say the other
  (``FORMER_FRENCH_TERRITORY``).
- **Born abroad**: FranceConnect's ``birthplace`` is empty, ``birthcountry`` is compared with the NIR's
  ``99`` + country code. Born in France (``99100``) with no ``birthplace``: ``PROVIDER_BIRTHPLACE_MISSING``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from services.registration.domain.commune_codes import (
    ARRONDISSEMENTS,
    ILE_DE_FRANCE_NEW,
    ILE_DE_FRANCE_OLD,
    ILE_DE_FRANCE_SPLIT,
    explained_change,
)
from services.registration.domain.identity import VerifiedIdentity
from services.registration.domain.nir import BirthPlaceKind, Nir

MISMATCH_MESSAGE = (
    "L'identité transmise par FranceConnect ne correspond pas à ce numéro de sécurité sociale : vérifiez le "
    "numéro inscrit sur votre carte Vitale."
)
# No manual review exists yet: the sentence sends the holder to the password path, never promises one.
CANNOT_CHECK_MESSAGE = (
    "Nous ne pouvons pas vérifier automatiquement que ce numéro de sécurité sociale correspond à votre "
    "identité FranceConnect : continuez avec votre numéro de sécurité sociale et un mot de passe."
)

# INSEE country codes of the former French territories whose natives may carry a French department code.
ALGERIA, MOROCCO, TUNISIA = "99352", "99350", "99351"
FORMER_TERRITORY_COUNTRIES = frozenset({ALGERIA, MOROCCO, TUNISIA})
FORMER_TERRITORY_DEPARTMENTS = frozenset({"91", "92", "93", "94", "95", "96"})
LAST_INDEPENDENCE = date(1962, 7, 5)  # Algeria; Morocco and Tunisia in 1956
OVERSEAS_COLLECTIVITIES = frozenset({"975", "976", "977", "978", "984", "985", "986", "987", "988", "989"})


class CheckOutcome(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"
    CANNOT_CHECK = "cannot_check"


class CannotCheckReason(StrEnum):
    NIR_MONTH_UNKNOWN = "nir_month_unknown"
    PROVIDER_DATE_MAY_BE_PLACEHOLDER = "provider_date_may_be_placeholder"
    PROVIDER_BIRTHPLACE_MISSING = "provider_birthplace_missing"
    COMMUNE_CODE_CHANGED = "commune_code_changed"
    DEPARTMENT_RECODED_1968 = "department_recoded_1968"
    OVERSEAS_COLLECTIVITY = "overseas_collectivity"
    FORMER_FRENCH_TERRITORY = "former_french_territory"


class PlaceRule(StrEnum):
    """How the NIR's birth place and FranceConnect's were found to be the same place."""

    SAME_CODE = "same_code"  # includes the same INSEE country code for people born abroad
    CORSICA_1976 = "corsica_1976"
    MERGED_COMMUNE = "merged_commune"  # a row of commune_codes.MERGED_COMMUNES
    ARRONDISSEMENT = "arrondissement"


@dataclass(frozen=True, slots=True)
class IdentityCheck:
    outcome: CheckOutcome
    reasons: tuple[CannotCheckReason, ...] = ()  # only for CANNOT_CHECK
    place_rule: PlaceRule | None = None  # only for MATCH

    @property
    def message(self) -> str | None:
        """The one French sentence for the holder; ``None`` when the identities match."""
        if self.outcome is CheckOutcome.MISMATCH:
            return MISMATCH_MESSAGE
        if self.outcome is CheckOutcome.CANNOT_CHECK:
            return CANNOT_CHECK_MESSAGE
        return None


@dataclass(frozen=True, slots=True)
class _Part:
    """One compared part: same (with how, for the place), differs, or unknown with a reason."""

    differs: bool = False
    unknown: CannotCheckReason | None = None
    rule: PlaceRule | None = None


_SAME = _Part()
_DIFFERS = _Part(differs=True)


def _unknown(reason: CannotCheckReason) -> _Part:
    return _Part(unknown=reason)


def cross_check(nir: Nir, identity: VerifiedIdentity) -> IdentityCheck:
    """Compare what ``nir`` encodes with the person FranceConnect verified."""
    parts = (
        _SAME if nir.sex is identity.gender else _DIFFERS,
        _SAME if nir.birth_year_2d == identity.birthdate.year % 100 else _DIFFERS,
        _month(nir, identity.birthdate),
        _place(nir, identity),
    )
    if any(part.differs for part in parts):
        return IdentityCheck(CheckOutcome.MISMATCH)
    reasons = tuple(dict.fromkeys(part.unknown for part in parts if part.unknown is not None))
    if reasons:
        return IdentityCheck(CheckOutcome.CANNOT_CHECK, reasons=reasons)
    return IdentityCheck(CheckOutcome.MATCH, place_rule=parts[3].rule)


def _month(nir: Nir, birthdate: date) -> _Part:
    month = nir.birth_month
    if month is None:
        return _unknown(CannotCheckReason.NIR_MONTH_UNKNOWN)
    if month == birthdate.month:
        return _SAME
    if (birthdate.month, birthdate.day) == (1, 1):
        return _unknown(CannotCheckReason.PROVIDER_DATE_MAY_BE_PLACEHOLDER)
    return _DIFFERS


def _department(code: str) -> str:
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def _place(nir: Nir, identity: VerifiedIdentity) -> _Part:
    nir_code = nir.value[5:10]  # the 5 characters as INSEE writes them: 75105, 2A004, 97105, 99352
    born = identity.birthdate
    before_independence = born < LAST_INDEPENDENCE
    if nir.birth_place.kind is BirthPlaceKind.ABROAD:
        if not identity.born_in_france:
            return _Part(rule=PlaceRule.SAME_CODE) if identity.birthcountry == nir_code else _DIFFERS
        if nir_code in FORMER_TERRITORY_COUNTRIES and before_independence:
            return _unknown(CannotCheckReason.FORMER_FRENCH_TERRITORY)
        return _DIFFERS
    nir_department = _department(nir_code)
    if not identity.born_in_france:
        if (
            nir_department in FORMER_TERRITORY_DEPARTMENTS
            and identity.birthcountry in FORMER_TERRITORY_COUNTRIES
            and before_independence
        ):
            return _unknown(CannotCheckReason.FORMER_FRENCH_TERRITORY)
        if nir_department in OVERSEAS_COLLECTIVITIES:
            return _unknown(CannotCheckReason.OVERSEAS_COLLECTIVITY)
        return _DIFFERS
    provider_code = identity.birthplace
    if provider_code is None:
        return _unknown(CannotCheckReason.PROVIDER_BIRTHPLACE_MISSING)
    return _french_place(nir_code, provider_code, born)


def _french_place(nir_code: str, provider_code: str, born: date) -> _Part:
    if provider_code == nir_code:
        return _Part(rule=PlaceRule.SAME_CODE)
    nir_department, provider_department = _department(nir_code), _department(provider_code)
    same_commune_number = nir_code[2:] == provider_code[2:]
    if {nir_department, provider_department} in ({"20", "2A"}, {"20", "2B"}) and same_commune_number:
        return _Part(rule=PlaceRule.CORSICA_1976)
    if explained_change(nir_code, provider_code, born) is not None:
        return _Part(rule=PlaceRule.MERGED_COMMUNE)
    if nir_code in ARRONDISSEMENTS.get(provider_code, ()):
        return _Part(rule=PlaceRule.ARRONDISSEMENT)
    if (
        born < ILE_DE_FRANCE_SPLIT
        and nir_department in ILE_DE_FRANCE_OLD
        and provider_department in ILE_DE_FRANCE_NEW
        and same_commune_number
    ):
        return _unknown(CannotCheckReason.DEPARTMENT_RECODED_1968)
    if nir_department in OVERSEAS_COLLECTIVITIES or provider_department in OVERSEAS_COLLECTIVITIES:
        return _unknown(CannotCheckReason.OVERSEAS_COLLECTIVITY)
    if nir_department == provider_department:
        return _unknown(CannotCheckReason.COMMUNE_CODE_CHANGED)
    return _DIFFERS
