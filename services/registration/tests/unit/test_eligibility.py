"""Age rule: 16, or 15 with an apprenticeship contract, from the NIR's birth year and month."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.registration.domain.eligibility import check_eligibility, earliest_signup_date, is_eligible
from services.registration.domain.nir import BirthYearMonth, Nir

BORN_MARCH_2010 = BirthYearMonth(2010, 3)
BORN_2010_UNKNOWN_MONTH = BirthYearMonth(2010, None)


def test_exactly_sixteen_today_is_eligible() -> None:
    # Month precision: 16 from the first day of the 16th-birthday month.
    assert earliest_signup_date(BORN_MARCH_2010, apprenticeship_contract=False) == date(2026, 3, 1)
    assert is_eligible(BORN_MARCH_2010, date(2026, 3, 1), apprenticeship_contract=False)
    assert check_eligibility(BORN_MARCH_2010, date(2026, 3, 1), False) is None


def test_sixteen_tomorrow_is_not_yet_eligible() -> None:
    today = date(2026, 3, 1) - timedelta(days=1)
    assert not is_eligible(BORN_MARCH_2010, today, apprenticeship_contract=False)


def test_fifteen_with_apprenticeship_is_eligible() -> None:
    assert is_eligible(BORN_MARCH_2010, date(2025, 3, 1), apprenticeship_contract=True)
    assert check_eligibility(BORN_MARCH_2010, date(2025, 3, 1), True) is None


def test_fifteen_without_apprenticeship_points_to_the_checkbox() -> None:
    error = check_eligibility(BORN_MARCH_2010, date(2025, 6, 1), False)
    assert error is not None
    assert (error.field, error.code) == ("apprenticeship_contract", "too_young_without_apprenticeship")
    assert "contrat d'apprentissage" in error.message


def test_fifteen_tomorrow_with_apprenticeship_is_too_young_and_told_when() -> None:
    error = check_eligibility(BORN_MARCH_2010, date(2025, 2, 28), True)
    assert error is not None
    assert (error.field, error.code) == ("nir", "too_young")
    assert "01/03/2025" in error.message


def test_fourteen_is_too_young_with_the_date_to_come_back() -> None:
    error = check_eligibility(BORN_MARCH_2010, date(2024, 12, 1), False)
    assert error is not None and error.code == "too_young"
    assert "01/03/2026" in error.message


def test_unknown_month_is_treated_as_december() -> None:
    assert earliest_signup_date(BORN_2010_UNKNOWN_MONTH, False) == date(2026, 12, 1)
    assert not is_eligible(BORN_2010_UNKNOWN_MONTH, date(2026, 11, 30), False)
    assert is_eligible(BORN_2010_UNKNOWN_MONTH, date(2026, 12, 1), False)
    assert is_eligible(BORN_2010_UNKNOWN_MONTH, date(2025, 12, 1), True)
    assert not is_eligible(BORN_2010_UNKNOWN_MONTH, date(2025, 11, 30), True)


@pytest.mark.parametrize(
    ("month_code", "eligible_on_2026_06_01"),
    [("05", True), ("06", True), ("07", False), ("36", True), ("37", False), ("20", False), ("50", False)],
)
def test_from_the_nir_month_codes(month_code: str, eligible_on_2026_06_01: bool) -> None:
    nir = Nir.parse(f"110{month_code}75116001")
    birth = nir.birth(date(2026, 6, 1))
    assert is_eligible(birth, date(2026, 6, 1), apprenticeship_contract=False) is eligible_on_2026_06_01


def test_adults_are_eligible() -> None:
    assert is_eligible(BirthYearMonth(1960, 1), date(2026, 1, 1), False)
