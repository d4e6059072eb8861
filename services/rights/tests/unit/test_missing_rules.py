"""Rules added by issue 14, point 4, each with its article: the 218-day forfait cap (R6323-1), association
hours summed over a year's declarations (D5151-14 7°), the 150 h legacy cap for holders never declared
low-qualified (S16), and no credit after retirement, for a self-employed year without the CFP
contribution (L6323-27), or under 16 without an apprenticeship contract (L5151-2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.rights.app.labels import label
from services.rights.domain import (
    Account,
    CecActivity,
    CecCategory,
    ErrorCode,
    Holder,
    HolderRights,
    LegacyCpfHours,
    LowQualificationDeclared,
    Retired,
    RightsEvent,
    TrainingBooked,
    WorkStatus,
    WorkYear,
    YearMonth,
)
from services.rights.tests.unit.conftest import Simulate

HOLDER = Holder(YearMonth(1985, 3))


def rights(*events: RightsEvent, holder: Holder = HOLDER) -> HolderRights:
    return HolderRights.replay(holder, events)


def cpf(holder_rights: HolderRights) -> Decimal:
    return holder_rights.balances().cpf.rights_eur


def test_a_forfait_above_218_days_counts_against_218(sim: Simulate) -> None:
    # R6323-1: the reference is the forfait's days "dans la limite de 218 jours".
    full = sim([{"type": "work_year", "year": 2023, "days": 218, "reference_days": 230}])
    assert full["cpf"]["rights_eur"] == "500.00"
    part = sim([{"type": "work_year", "year": 2023, "days": 100, "reference_days": 230}])
    assert part["cpf"]["rights_eur"] == "229.36"  # 500 × 100 / 218 = 229.357…, not 500 × 100 / 230


def test_association_board_hours_add_up_across_declarations_of_a_year() -> None:
    # D5151-14 7°: 200 h in one or more associations, 100 h in one. Two validators, two declarations.
    first = CecActivity("a", 2022, CecCategory.ASSOCIATION_BOARD, hours_by_association=(Decimal(120),))
    second = CecActivity("b", 2022, CecCategory.ASSOCIATION_BOARD, hours_by_association=(Decimal(90),))
    holder_rights = rights(first, second)
    assert holder_rights.balances().cec.eur == Decimal("240.00")
    assert [line.amount for line in holder_rights.history(account=Account.CEC)] == [Decimal("0.00"), Decimal("240.00")]
    # 90 h + 90 h: 180 h, and no association reaches 100 h.
    short = CecActivity("c", 2022, CecCategory.ASSOCIATION_BOARD, hours_by_association=(Decimal(90),))
    assert rights(second, short).balances().cec.eur == Decimal("0.00")


def test_legacy_hours_above_150_need_a_low_qualification_declaration_in_force_on_2018_12_31() -> None:
    # S16: 150 h was the ceiling of the hours regime; 400 h for a low-qualified worker (from 2017).
    recorded, refused = HolderRights.record_all(HOLDER, [LegacyCpfHours("l", 200)])
    assert refused == ()
    assert [(e.event_id, err.code) for e, err in recorded.held] == [("l", ErrorCode.LEGACY_HOURS_ABOVE_CEILING)]
    declared = recorded.record(LowQualificationDeclared("q", date(2017, 3, 1)))
    assert declared.held == ()
    assert cpf(declared) == Decimal("3000.00")  # 200 h × 15 €
    assert cpf(rights(LegacyCpfHours("l", 150))) == Decimal("2250.00")


def test_no_credit_after_the_year_of_retirement_and_only_the_cec_is_usable() -> None:
    # L5151-2 (S36): at retirement the CPF is no longer credited nor usable; the CEC stays usable.
    events: list[RightsEvent] = [
        *(WorkYear(f"w{y}", y, hours=Decimal(1607)) for y in range(2019, 2024)),
        Retired("r", date(2023, 7, 1)),
        WorkYear("w2024", 2024, hours=Decimal(800)),  # a part-time job after retirement
        CecActivity("cec", 2023, CecCategory.CIVIC_SERVICE, months=Decimal(6)),
        TrainingBooked("b", "T1", Decimal("300.00"), date(2025, 9, 1), participation_exempt=True),
    ]
    holder_rights = rights(*events)
    # 2019–2023 credited (2023 was worked before retirement), 2024 not.
    assert cpf(holder_rights) == Decimal("2500.00")
    assert holder_rights.balances().cec.eur == Decimal("0.00")  # the training used the CEC only
    lines = {line.event_id: line for line in holder_rights.history()}
    assert lines["w2024"].amount == 0 and "retraité depuis le 01/07/2023" in label(lines["w2024"])


def test_a_self_employed_year_without_the_cfp_contribution_earns_nothing() -> None:
    # L6323-27 (S9): the self-employed are credited subject to the CFP contribution being paid.
    paid = WorkYear("p", 2023, status=WorkStatus.SELF_EMPLOYED, days_active=365, cfp_contribution_paid=True)
    unpaid = WorkYear("u", 2023, status=WorkStatus.SELF_EMPLOYED, days_active=365, cfp_contribution_paid=False)
    assert cpf(rights(paid)) == Decimal("500.00")
    assert cpf(rights(unpaid)) == Decimal("0.00")
    assert "contribution à la formation professionnelle non acquittée" in label(rights(unpaid).history()[0])


def test_under_16_only_an_apprenticeship_earns_rights() -> None:
    # L5151-2 (S36): from 16, or from 15 with an apprenticeship contract. Born 2008: 15 in 2023.
    young = Holder(YearMonth(2008, 5))
    apprentice = WorkYear("a", 2023, hours=Decimal(1000), apprenticeship=True)
    summer_job = WorkYear("s", 2023, hours=Decimal(200), apprenticeship=False)
    assert cpf(rights(apprentice, holder=young)) == Decimal("500.00")
    assert cpf(rights(summer_job, holder=young)) == Decimal("0.00")
    at_16 = WorkYear("x", 2024, hours=Decimal(200), apprenticeship=False)
    assert cpf(rights(at_16, holder=young)) == Decimal("62.23")  # 500 × 200 / 1607, rounded up
    # A v1 body (no "apprenticeship") keeps its meaning: counted.
    assert cpf(rights(WorkYear("v1", 2023, hours=Decimal(1000)), holder=young)) == Decimal("500.00")
