"""The parameter table is well formed, and docs/rights.md documents every parameter and error code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from services.rights.domain import PARAMETERS, ErrorCode, Parameter, RightsError

DOCS = Path(__file__).resolve().parents[4] / "docs" / "rights.md"


def test_every_parameter_has_a_source_and_dated_steps() -> None:
    assert len(PARAMETERS.all_parameters) > 40
    names = [parameter.name for parameter in PARAMETERS.all_parameters]
    assert len(set(names)) == len(names)
    for parameter in PARAMETERS.all_parameters:
        assert parameter.source and parameter.meaning
        assert all(isinstance(start, date) for start, _ in parameter.steps)


def test_values_in_force_on_a_date() -> None:
    participation = PARAMETERS.participation_forfaitaire_eur
    assert participation.at(date(2024, 5, 1)) == Decimal("0.00")
    assert participation.at(date(2024, 5, 2)) == Decimal("100.00")
    assert participation.at(date(2025, 12, 31)) == Decimal("102.23")
    assert participation.at(date(2026, 1, 1)) == Decimal("103.20")
    assert PARAMETERS.c2p_point_training_value_eur.at(date(2023, 8, 31)) == Decimal("375.00")
    assert PARAMETERS.c2p_point_training_value_eur.at(date(2023, 9, 1)) == Decimal("500.00")
    with pytest.raises(RightsError) as caught:
        PARAMETERS.cpf_annual_credit_eur.for_activity_year(2017)
    assert caught.value.code is ErrorCode.RULE_NOT_IN_FORCE


def test_steps_must_be_in_date_order() -> None:
    with pytest.raises(ValueError, match="increasing"):
        Parameter("X", "x", "x", ((date(2020, 1, 1), 1), (date(2019, 1, 1), 2)))


def test_docs_list_every_parameter_and_error_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for parameter in PARAMETERS.all_parameters:
        assert f"`{parameter.name}`" in text, parameter.name
    for code in ErrorCode:
        assert f"`{code.value}`" in text, code.value
