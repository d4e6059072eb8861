"""The NIR cross-check on a table of identities: each row is a NIR (13 characters, synthetic) and what
FranceConnect says of the person, with the outcome the rules of docs/identity.md give and why."""

from __future__ import annotations

from datetime import date

import pytest

from services.registration.domain.identity import VerifiedIdentity
from services.registration.domain.identity_check import (
    CANNOT_CHECK_MESSAGE,
    MISMATCH_MESSAGE,
    CannotCheckReason,
    CheckOutcome,
    IdentityCheck,
    PlaceRule,
    cross_check,
)
from services.registration.domain.nir import Nir, Sex

M, F = Sex.MALE, Sex.FEMALE
FRANCE = "99100"
R = CannotCheckReason


def match(rule: PlaceRule) -> IdentityCheck:
    return IdentityCheck(CheckOutcome.MATCH, place_rule=rule)


def cannot(*reasons: CannotCheckReason) -> IdentityCheck:
    return IdentityCheck(CheckOutcome.CANNOT_CHECK, reasons=reasons)


MISMATCH = IdentityCheck(CheckOutcome.MISMATCH)

# (NIR, FranceConnect: gender, birthdate, birthplace, birthcountry) -> expected check
ROWS: list[tuple[str, Sex, str, str, str, IdentityCheck]] = [
    # --- the same person, code for code ---------------------------------------------------------------
    # A woman born in Paris 5e (arrondissement 75105) in May 1985.
    ("2850575105123", F, "1985-05-12", "75105", FRANCE, match(PlaceRule.SAME_CODE)),
    # A man born in Bordeaux (33063) in January 1972.
    ("1720133063045", M, "1972-01-30", "33063", FRANCE, match(PlaceRule.SAME_CODE)),
    # Born in Basse-Terre, Guadeloupe: overseas department 971 + commune 05 is the COG code 97105.
    ("1750897105014", M, "1975-08-03", "97105", FRANCE, match(PlaceRule.SAME_CODE)),
    # Born in New Caledonia (collectivity 988, commune 18): compared as is when FranceConnect gives the same code.
    ("1880598818002", M, "1988-05-19", "98818", FRANCE, match(PlaceRule.SAME_CODE)),
    # Born in Algeria after independence: 99 + 352 in the NIR, birthcountry 99352, no birthplace.
    ("1830599352012", M, "1983-05-07", "", "99352", match(PlaceRule.SAME_CODE)),
    # Born in Morocco: birthcountry 99350.
    ("2910499350033", F, "1991-04-21", "", "99350", match(PlaceRule.SAME_CODE)),
    # Born in Ajaccio after 1976: 2A004 on both sides.
    ("188072A004021", M, "1988-07-14", "2A004", FRANCE, match(PlaceRule.SAME_CODE)),
    # Month code 35 ("pseudo-fictitious"): the document was incomplete but gave May (35 - 30).
    ("1853575105123", M, "1985-05-01", "75105", FRANCE, match(PlaceRule.SAME_CODE)),
    # Month code 42 = December.
    ("2854275105123", F, "1985-12-24", "75105", FRANCE, match(PlaceRule.SAME_CODE)),
    # Sex digit 3, a legacy code for a man still met in registers.
    ("3850575105123", M, "1985-05-12", "75105", FRANCE, match(PlaceRule.SAME_CODE)),
    # --- the same place under another code -----------------------------------------------------------
    # Paris: the NIR has the arrondissement, FranceConnect the commune (75056).
    ("2850575105123", F, "1985-05-12", "75056", FRANCE, match(PlaceRule.ARRONDISSEMENT)),
    # Marseille 3e (13203) against Marseille (13055).
    ("1900313203012", M, "1990-03-02", "13055", FRANCE, match(PlaceRule.ARRONDISSEMENT)),
    # Lyon 3e (69383) against Lyon (69123).
    ("2951169383007", F, "1995-11-11", "69123", FRANCE, match(PlaceRule.ARRONDISSEMENT)),
    # Corsica: a NIR of 1965 carries 20004 (Ajaccio), FranceConnect today's 2A004.
    ("1650320004011", M, "1965-03-09", "2A004", FRANCE, match(PlaceRule.CORSICA_1976)),
    # Corsica the other way round: NIR 2B033 (Bastia), FranceConnect the pre-1976 20033.
    ("270032B033015", F, "1970-03-15", "20033", FRANCE, match(PlaceRule.CORSICA_1976)),
    # Annecy-le-Vieux (74011) merged into Annecy (74010) on 1 January 2017; born 1980.
    ("1801074011033", M, "1980-10-02", "74010", FRANCE, match(PlaceRule.MERGED_COMMUNE)),
    # Courcouronnes (91182) merged into Évry-Courcouronnes (91228) on 1 January 2019.
    ("2920691182017", F, "1992-06-18", "91228", FRANCE, match(PlaceRule.MERGED_COMMUNE)),
    # Octeville (50383) absorbed by Cherbourg (50129) in 2000.
    ("1580150383022", M, "1958-01-25", "50129", FRANCE, match(PlaceRule.MERGED_COMMUNE)),
    # Boulogne-Billancourt: Seine (75012) until 1968, Hauts-de-Seine (92012) since; born 1955.
    ("1550275012108", M, "1955-02-17", "92012", FRANCE, match(PlaceRule.MERGED_COMMUNE)),
    # Saint-Martin: Guadeloupe commune 97127 until July 2007, collectivité 97801 since; born 1998.
    ("2980497127005", F, "1998-04-04", "97801", FRANCE, match(PlaceRule.MERGED_COMMUNE)),
    # --- somebody else (one sentence, whatever differs) ----------------------------------------------
    # The sex differs.
    ("1850575105123", F, "1985-05-12", "75105", FRANCE, MISMATCH),
    # The year differs (86 against 1985).
    ("2860575105123", F, "1985-05-12", "75105", FRANCE, MISMATCH),
    # The month differs (June against May).
    ("2850675105123", F, "1985-05-12", "75105", FRANCE, MISMATCH),
    # A pseudo-fictitious month (36 = June) differs from May.
    ("2853675105123", F, "1985-05-12", "75105", FRANCE, MISMATCH),
    # Another department: Paris 5e against Bordeaux.
    ("2850575105123", F, "1985-05-12", "33063", FRANCE, MISMATCH),
    # Marseille 1er against Paris: an arrondissement of another city.
    ("1900313201012", M, "1990-03-02", "75056", FRANCE, MISMATCH),
    # Corsica, two different communes: 2A004 against 2B033.
    ("188072A004021", M, "1988-07-14", "2B033", FRANCE, MISMATCH),
    # Two overseas departments: Guadeloupe 97105 against Martinique 97209.
    ("1750897105014", M, "1975-08-03", "97209", FRANCE, MISMATCH),
    # Born abroad for the NIR (Algeria, 1983), in France for FranceConnect.
    ("1830599352012", M, "1983-05-07", "75105", FRANCE, MISMATCH),
    # Born in France for the NIR, abroad (Germany, 99109) for FranceConnect.
    ("2850575105123", F, "1985-05-12", "", "99109", MISMATCH),
    # Two different countries: Algeria against Morocco.
    ("1830599352012", M, "1983-05-07", "", "99350", MISMATCH),
    # Department 91 after Algeria's independence is Essonne: FranceConnect's Algeria does not fit.
    ("1700391352014", M, "1970-03-08", "", "99352", MISMATCH),
    # The 1968 recoding does not apply to a birth in 1975: 78073 against 92073 are two places.
    ("1750378073012", M, "1975-03-03", "92073", FRANCE, MISMATCH),
    # Mismatch wins over "cannot check": unknown NIR month (50) but the sex differs.
    ("1855075105123", F, "1985-05-12", "75105", FRANCE, MISMATCH),
    # --- cannot check, with the reason ----------------------------------------------------------------
    # NIR month code 20: the month was unknown when the number was given.
    ("2852075105123", F, "1985-05-12", "75105", FRANCE, cannot(R.NIR_MONTH_UNKNOWN)),
    # NIR month code 99: unknown too.
    ("2859975105123", F, "1985-05-12", "75105", FRANCE, cannot(R.NIR_MONTH_UNKNOWN)),
    # FranceConnect gives 1 January, which it also uses for an unknown day and month.
    ("2850575105123", F, "1985-01-01", "75105", FRANCE, cannot(R.PROVIDER_DATE_MAY_BE_PLACEHOLDER)),
    # Born in France for FranceConnect, but no birthplace given.
    ("2850575105123", F, "1985-05-12", "", FRANCE, cannot(R.PROVIDER_BIRTHPLACE_MISSING)),
    # Bordeaux (33063) against Mérignac (33281): same department, a change the table does not list.
    ("1720133063045", M, "1972-01-30", "33281", FRANCE, cannot(R.COMMUNE_CODE_CHANGED)),
    # Annecy-le-Vieux in a NIR of someone born after the 2017 merger: not explained by the table.
    ("2180374011008", F, "2018-03-05", "74010", FRANCE, cannot(R.COMMUNE_CODE_CHANGED)),
    # Seine-et-Oise 78073 in 1960, 92073 today: same 3 digits, a 1968 recoding the table does not list.
    ("1600378073012", M, "1960-03-03", "92073", FRANCE, cannot(R.DEPARTMENT_RECODED_1968)),
    # Mayotte: 985 before it became a department, 976 since.
    ("2900698511004", F, "1990-06-06", "97611", FRANCE, cannot(R.OVERSEAS_COLLECTIVITY)),
    # A collectivity (988) described by FranceConnect as abroad (any country code but France's).
    ("1880598818002", M, "1988-05-19", "", "99502", cannot(R.OVERSEAS_COLLECTIVITY)),
    # A Saint-Martin NIR (97127) against Saint-Barthélemy's collectivity code (97701).
    ("2980497127005", F, "1998-04-04", "97701", FRANCE, cannot(R.OVERSEAS_COLLECTIVITY)),
    # Born in Algeria in 1955 with an Algerian department code (91) in the NIR; FranceConnect says Algeria.
    ("1550391352014", M, "1955-03-08", "", "99352", cannot(R.FORMER_FRENCH_TERRITORY)),
    # Born in Algeria in 1955, NIR 99352; FranceConnect gives a French birthplace.
    ("1550399352014", M, "1955-03-08", "91352", FRANCE, cannot(R.FORMER_FRENCH_TERRITORY)),
    # Born in Tunisia in 1950 under department code 96; FranceConnect says Tunisia.
    ("2500496101017", F, "1950-04-12", "", "99351", cannot(R.FORMER_FRENCH_TERRITORY)),
    # Two reasons at once: unknown NIR month and no FranceConnect birthplace.
    ("2852075105123", F, "1985-05-12", "", FRANCE, cannot(R.NIR_MONTH_UNKNOWN, R.PROVIDER_BIRTHPLACE_MISSING)),
]


def identity(gender: Sex, birthdate: str, birthplace: str, birthcountry: str) -> VerifiedIdentity:
    return VerifiedIdentity(
        subject="fc-sub",
        given_names=("Camille",),
        family_name="Durand",
        preferred_name=None,
        birthdate=date.fromisoformat(birthdate),
        gender=gender,
        birthplace=birthplace or None,
        birthcountry=birthcountry,
        email="camille@example.fr",
        acr="eidas1",
    )


def test_the_table_covers_enough_identities_and_every_outcome_and_reason() -> None:
    assert len(ROWS) >= 40
    expected = [row[-1] for row in ROWS]
    assert {check.outcome for check in expected} == set(CheckOutcome)
    assert {reason for check in expected for reason in check.reasons} == set(CannotCheckReason)
    assert {check.place_rule for check in expected if check.place_rule} == set(PlaceRule)


@pytest.mark.parametrize(("nir", "gender", "birthdate", "birthplace", "birthcountry", "expected"), ROWS)
def test_cross_check(
    nir: str, gender: Sex, birthdate: str, birthplace: str, birthcountry: str, expected: IdentityCheck
) -> None:
    assert cross_check(Nir(nir), identity(gender, birthdate, birthplace, birthcountry)) == expected


def test_a_mismatch_says_the_same_sentence_whatever_part_differs() -> None:
    """Sex, year, month or place: the holder (who may be trying someone else's NIR) learns nothing more."""
    results = {
        cross_check(Nir(nir), identity(g, d, p, c))
        for nir, g, d, p, c, expected in ROWS
        if expected.outcome is CheckOutcome.MISMATCH
    }
    assert results == {MISMATCH}
    assert MISMATCH.message == MISMATCH_MESSAGE and MISMATCH.reasons == () and MISMATCH.place_rule is None
    assert MISMATCH_MESSAGE.count(".") == 1 and MISMATCH_MESSAGE.endswith(".")


def test_only_a_match_has_no_message_and_cannot_check_is_never_a_pass() -> None:
    assert match(PlaceRule.SAME_CODE).message is None
    assert cannot(R.NIR_MONTH_UNKNOWN).message == CANNOT_CHECK_MESSAGE
