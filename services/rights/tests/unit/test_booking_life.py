"""A booking's life (issue 14, point 1): reserved when booked, spent on entry into training, partly given
back by a refund, wholly by a cancellation. Spent money leaves the ceilings (R6323-1 "dans la limite d'un
plafond"; CEC, L5151-9 and D5151-11): a holder who spends and keeps working earns again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.rights.app.labels import label
from services.rights.domain import (
    Account,
    CecActivity,
    CecCategory,
    ErrorCode,
    Holder,
    HolderRights,
    RightsError,
    RightsEvent,
    TrainingBooked,
    TrainingCancelled,
    TrainingRefunded,
    TrainingStarted,
    WorkYear,
    YearMonth,
)

HOLDER = Holder(YearMonth(1985, 3))


def work(first: int, last: int) -> list[RightsEvent]:
    return [WorkYear(f"w{year}", year, hours=Decimal(1607)) for year in range(first, last + 1)]


def rights(*events: RightsEvent) -> HolderRights:
    return HolderRights.replay(HOLDER, events)


def cpf(holder_rights: HolderRights) -> Decimal:
    return holder_rights.balances().cpf.rights_eur


def test_spent_money_leaves_the_ceiling_and_four_more_years_earn_2000() -> None:
    # 10 full years reach the 5 000 € ceiling (R6323-1 I); a 2 000 € training is booked, then started.
    full = work(2019, 2028)
    booked = TrainingBooked("b", "T1", Decimal("2000.00"), date(2029, 6, 1), participation_exempt=True)
    started = TrainingStarted("s", "T1", date(2029, 9, 1))
    later = work(2029, 2032)
    holder_rights = rights(*full, booked, started, *later)
    assert cpf(holder_rights) == Decimal("5000.00")
    assert holder_rights.balances().cpf.reserved_eur == Decimal("0.00")
    credits_after = [line for line in holder_rights.history(account=Account.CPF_RIGHTS) if line.on > date(2029, 9, 1)]
    assert [line.amount for line in credits_after] == [Decimal("500.00")] * 4


def test_a_holder_who_spends_everything_earns_the_ceiling_again_in_ten_years() -> None:
    spend_all: list[RightsEvent] = [
        TrainingBooked("b", "T1", Decimal("5000.00"), date(2029, 6, 1), participation_exempt=True),
        TrainingStarted("s", "T1", date(2029, 6, 15)),
    ]
    holder_rights = rights(*work(2019, 2028), *spend_all, *work(2029, 2038))
    assert cpf(holder_rights) == Decimal("5000.00")


def test_money_of_a_booking_not_started_still_counts_and_the_history_says_so() -> None:
    # Until the training starts the booking can be cancelled and the money comes back: it still counts.
    booked = TrainingBooked("b", "T1", Decimal("2000.00"), date(2029, 6, 1), participation_exempt=True)
    holder_rights = rights(*work(2019, 2028), booked, WorkYear("w2029", 2029, hours=Decimal(1607)))
    assert cpf(holder_rights) == Decimal("3000.00")
    assert holder_rights.balances().cpf.reserved_eur == Decimal("2000.00")
    last = holder_rights.history(account=Account.CPF_RIGHTS)[-1]
    assert last.amount == Decimal("0.00")
    assert "limitée au plafond de 5 000,00 €, dont 2 000,00 € réservés pour une formation non commencée" in label(last)


def test_a_started_training_cannot_be_cancelled_but_can_be_refunded_in_part() -> None:
    booked = TrainingBooked("b", "T1", Decimal("2000.00"), date(2029, 6, 1), participation_exempt=True)
    started = TrainingStarted("s", "T1", date(2029, 9, 1))
    with pytest.raises(RightsError) as caught:
        rights(*work(2019, 2028), booked, started, TrainingCancelled("c", "T1", date(2029, 10, 1)))
    assert caught.value.code is ErrorCode.TRAINING_ALREADY_STARTED
    refunded = rights(
        *work(2019, 2028), booked, started, TrainingRefunded("r", "T1", Decimal("500.00"), date(2029, 10, 1))
    )
    assert cpf(refunded) == Decimal("3500.00")
    assert label(refunded.history()[-1]) == "Remboursement partiel de la formation T1 : droits restitués"


def test_a_refund_restores_rights_even_above_the_ceiling_and_then_blocks_new_credits() -> None:
    # Refunded rights were acquired (L6323-3): they come back whole; the ceiling only stops new credits.
    events = [
        *work(2019, 2028),
        TrainingBooked("b", "T1", Decimal("1000.00"), date(2029, 6, 1), participation_exempt=True),
        TrainingStarted("s", "T1", date(2029, 6, 2)),
        *work(2029, 2030),
        TrainingRefunded("r", "T1", Decimal("400.00"), date(2031, 6, 1)),
        WorkYear("w2031", 2031, hours=Decimal(1607)),
    ]
    holder_rights = rights(*events)
    assert cpf(holder_rights) == Decimal("5400.00")
    assert holder_rights.history(account=Account.CPF_RIGHTS)[-1].amount == Decimal("0.00")


def test_a_refund_before_the_start_lowers_what_is_reserved() -> None:
    booked = TrainingBooked("b", "T1", Decimal("2000.00"), date(2029, 6, 1), participation_exempt=True)
    refund = TrainingRefunded("r", "T1", Decimal("300.00"), date(2029, 7, 1))
    balances = rights(*work(2019, 2028), booked, refund).balances().cpf
    assert (balances.rights_eur, balances.reserved_eur) == (Decimal("3300.00"), Decimal("1700.00"))
    with pytest.raises(RightsError) as caught:
        rights(*work(2019, 2028), booked, refund, TrainingRefunded("r2", "T1", Decimal("1700.01"), date(2029, 8, 1)))
    assert caught.value.code is ErrorCode.REFUND_EXCEEDS_BOOKING


def _cec_years(year: int) -> list[RightsEvent]:
    return [
        CecActivity(f"mil{year}", year, CecCategory.MILITARY_RESERVE, days=Decimal(90)),
        CecActivity(f"hea{year}", year, CecCategory.HEALTH_RESERVE, days=Decimal(30)),
        CecActivity(f"civ{year}", year, CecCategory.CIVIC_SERVICE, months=Decimal(6)),
    ]


def test_the_cec_refills_after_a_training_it_paid_for_starts() -> None:
    # 720 € of CEC (3 categories in 2019), spent on a training (no CPF rights: CEC used, D5151-11).
    booked = TrainingBooked("b", "T1", Decimal("720.00"), date(2021, 1, 10), participation_exempt=True)
    started = TrainingStarted("s", "T1", date(2021, 2, 1))
    refilled = rights(*_cec_years(2019), booked, started, *_cec_years(2021))
    assert refilled.balances().cec.eur == Decimal("720.00")
    still_reserved = rights(*_cec_years(2019), booked, *_cec_years(2021))
    assert still_reserved.balances().cec.eur == Decimal("0.00")


def test_a_partial_refund_refills_the_fund_used_last_first() -> None:
    # 500 € of CPF rights then 720 € of CEC pay a 1 000 € training; 300 € back go to the CEC (used last).
    events = [
        *_cec_years(2019),
        WorkYear("w2019", 2019, hours=Decimal(1607)),
        TrainingBooked("b", "T1", Decimal("1000.00"), date(2021, 1, 10), participation_exempt=True),
        TrainingRefunded("r", "T1", Decimal("300.00"), date(2021, 3, 1)),
    ]
    balances = rights(*events).balances()
    assert (balances.cpf.rights_eur, balances.cec.eur) == (Decimal("0.00"), Decimal("520.00"))


@pytest.mark.parametrize(
    ("after", "code"),
    [
        (
            [TrainingStarted("s1", "T1", date(2029, 7, 1)), TrainingStarted("s2", "T1", date(2029, 8, 1))],
            ErrorCode.TRAINING_ALREADY_STARTED,
        ),
        (
            [TrainingCancelled("c", "T1", date(2029, 7, 1)), TrainingStarted("s", "T1", date(2029, 8, 1))],
            ErrorCode.BOOKING_ALREADY_CANCELLED,
        ),
        ([TrainingStarted("s", "T9", date(2029, 7, 1))], ErrorCode.UNKNOWN_BOOKING),
    ],
)
def test_booking_life_refusals(after: list[RightsEvent], code: ErrorCode) -> None:
    booked = TrainingBooked("b", "T1", Decimal("200.00"), date(2029, 6, 1), participation_exempt=True)
    with pytest.raises(RightsError) as caught:
        rights(*work(2019, 2020), booked, *after)
    assert caught.value.code is code
