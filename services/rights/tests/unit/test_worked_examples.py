"""Every worked example of research/rights-rules.md §8 (and the ones in the text of §2), through the
simulator's code path: partner-contract JSON in, the simulator's JSON out."""

from __future__ import annotations

from typing import Any

import pytest

from services.rights.app.cli import SimulationInputError

from .conftest import Simulate, full_years


def cpf(output: dict[str, Any]) -> dict[str, str]:
    return dict(output["cpf"])


# --- A. CPF, ordinary workers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "balance"),
    [
        ("2020-04-29", "0.00"),
        ("2020-04-30", "500.00"),
        ("2021-05-01", "1000.00"),
        ("2022-05-01", "1500.00"),
        ("2023-05-01", "2000.00"),
        ("2024-05-01", "2500.00"),
    ],
)
def test_ex1_full_time_employee_from_2019(sim: Simulate, as_of: str, balance: str) -> None:
    output = sim(full_years(2019, 2023), as_of=as_of)
    assert output["cpf"]["rights_eur"] == balance
    assert output["cpf"]["usable_eur"] == balance
    assert output["cpf"]["ceiling_eur"] == "5000.00"


def test_ex1_full_output_shape(sim: Simulate) -> None:
    assert sim(full_years(2019, 2023), as_of="2024-05-01") == {
        "cpf": {
            "rights_eur": "2500.00",
            "dif_eur": "0.00",
            "abondements_eur": "0.00",
            "reserved_eur": "0.00",
            "usable_eur": "2500.00",
            "ceiling_eur": "5000.00",
        },
        "cec": {"eur": "0.00"},
        "c2p": {"points": 0, "reserved_for_training": 0},
        "public_hours": 0,
    }


def test_ex3_part_time_60_percent_counts_as_half_time_or_more(sim: Simulate) -> None:
    output = sim(full_years(2021, 2022, hours=964), as_of="2023-05-01")
    assert cpf(output)["rights_eur"] == "1000.00"


def test_ex4_below_half_time_is_pro_rata_rounded_up_to_the_cent(sim: Simulate) -> None:
    events = [{"type": "work_year", "year": 2023, "hours": 400}]
    assert sim(events, as_of="2024-04-29")["cpf"]["rights_eur"] == "0.00"  # posted 2024
    assert sim(events, as_of="2024-04-30")["cpf"]["rights_eur"] == "124.46"  # 124.4555… rounded up


def test_ex6_half_time_for_half_the_year_is_a_quarter_of_500(sim: Simulate) -> None:
    # Half-time Jan–Jun = 25 % of 1 607 h = 401.75 h.
    assert sim([{"type": "work_year", "year": 2023, "hours": 401.75}])["cpf"]["rights_eur"] == "125.00"


def test_ex6_same_with_two_half_year_declarations_of_one_employer_each(sim: Simulate) -> None:
    # Hours add up over the year's declarations: 2 × 401.75 h = half-time → the full 500 €.
    events = [
        {"type": "work_year", "year": 2023, "hours": 401.75, "event_id": "a"},
        {"type": "work_year", "year": 2023, "hours": 401.75, "event_id": "b"},
    ]
    assert sim(events)["cpf"]["rights_eur"] == "500.00"


# --- B. Majorations -------------------------------------------------------------------------------


def test_ex11_low_qualified_declared_in_2020(sim: Simulate) -> None:
    events = [{"type": "low_qualification_declared", "date": "2020-03-15"}, *full_years(2019, 2023)]
    output = sim(events, as_of="2024-05-01", history=True)
    assert output["cpf"]["rights_eur"] == "3700.00"
    assert output["cpf"]["ceiling_eur"] == "8000.00"
    credits = [line["amount"] for line in output["history"] if line["account"] == "cpf_rights"]
    assert credits == ["500.00", "800.00", "800.00", "800.00", "800.00"]


def test_low_qualification_ended_stops_from_the_following_calendar_year(sim: Simulate) -> None:
    events = [
        {"type": "low_qualification_declared", "date": "2020-03-15"},
        {"type": "low_qualification_ended", "date": "2022-07-01"},
        *full_years(2020, 2023),
    ]
    output = sim(events, history=True)
    credits = [line["amount"] for line in output["history"] if line["account"] == "cpf_rights"]
    assert credits == ["800.00", "800.00", "800.00", "500.00"]  # 2022 still majorated, 2023 not
    assert output["cpf"]["rights_eur"] == "2900.00"


def test_ex14_disability_status_full_time(sim: Simulate) -> None:
    events = full_years(2019, 2023) + [{"type": "disability_status", "year": y} for y in range(2019, 2024)]
    output = sim(events, as_of="2024-05-01")
    assert output["cpf"]["rights_eur"] == "4000.00"
    assert output["cpf"]["ceiling_eur"] == "8000.00"


def test_boeth_below_half_time_adds_300_within_800(sim: Simulate) -> None:
    events = [{"type": "work_year", "year": 2023, "hours": 400}, {"type": "disability_status", "year": 2023}]
    assert sim(events)["cpf"]["rights_eur"] == "424.46"


def test_boeth_and_low_qualified_capped_at_800_a_year(sim: Simulate) -> None:
    events = [
        {"type": "low_qualification_declared", "date": "2023-01-10"},
        {"type": "work_year", "year": 2023, "hours": 1607},
        {"type": "disability_status", "year": 2023},
    ]
    assert sim(events)["cpf"]["rights_eur"] == "800.00"


def test_boeth_needs_a_cent_earned_from_work(sim: Simulate) -> None:
    assert sim([{"type": "disability_status", "year": 2023}])["cpf"]["rights_eur"] == "0.00"


# --- C. Ceiling, abondements and debits (§2.6, §2.8, §2.9) ---------------------------------------


def test_credit_crossing_the_ceiling_is_reduced_to_reach_it(sim: Simulate) -> None:
    # 150 h legacy (2 250 €) + 70 h DIF (1 050 €) + 3 × 500 € = 4 800 €; then +500 € gives +200 €.
    events = [
        {"type": "legacy_cpf_hours", "hours": 150},
        {"type": "dif_registered", "hours": 70, "date": "2019-06-01"},
        *full_years(2019, 2023),
    ]
    assert sim(events, as_of="2022-05-01")["cpf"]["rights_eur"] == "3750.00"
    output = sim(events, history=True)
    assert output["cpf"]["rights_eur"] == "3950.00"
    assert output["cpf"]["dif_eur"] == "1050.00"
    assert output["cpf"]["usable_eur"] == "5000.00"
    credits = [line["amount"] for line in output["history"] if "activité" in line["label"]]
    assert credits == ["500.00", "500.00", "500.00", "200.00", "0.00"]


def test_abondements_are_outside_the_ceiling(sim: Simulate) -> None:
    events = [
        {"type": "legacy_cpf_hours", "hours": 150},
        {"type": "dif_registered", "hours": 120, "date": "2019-06-01"},
        {"type": "abondement", "amount_eur": "3000.00", "payer": "employer", "date": "2020-01-10"},
        *full_years(2019, 2023),
    ]
    output = sim(events)
    assert output["cpf"]["rights_eur"] == "3200.00"  # 2 250 € + 500 € (2019) + 450 € (2020), then full
    assert output["cpf"]["dif_eur"] == "1800.00"
    assert output["cpf"]["abondements_eur"] == "3000.00"
    assert output["cpf"]["usable_eur"] == "8000.00"


def test_press_example_120_h_dif_and_full_cpf_give_3240(sim: Simulate) -> None:
    # §2.9: (120 + 96) × 15 = 3 240 €: 72 h held on 2018-12-31, 24 h for 2018 (posted 2019), 120 h DIF.
    events = [
        {"type": "legacy_cpf_hours", "hours": 72},
        {"type": "work_year", "year": 2018, "hours": 1607},
        {"type": "dif_registered", "hours": 120, "date": "2019-03-01"},
    ]
    output = sim(events, as_of="2019-05-01")
    assert output["cpf"]["rights_eur"] == "1440.00"
    assert output["cpf"]["dif_eur"] == "1800.00"
    assert output["cpf"]["usable_eur"] == "3240.00"


def test_2018_transition_hours_pro_rata_rounded_up_to_a_whole_hour(sim: Simulate) -> None:
    # §2.1: 80 % × 24 h = 19.2 h, credited as 20 h × 15 € = 300 €.
    assert sim([{"type": "work_year", "year": 2018, "hours": 1285.6}])["cpf"]["rights_eur"] == "300.00"


@pytest.mark.parametrize(
    ("price", "rights_hours", "date", "debited", "left"),
    [
        ("1000.00", 80, "2024-06-01", "900.00", "300.00"),  # 1 000 € training, 1 200 € of rights: 900 €
        ("390.00", None, "2024-06-01", "290.00", "60.00"),  # 390 € training, 350 € of rights: 290 €
        ("80.00", 80, "2024-06-01", "0.00", "1200.00"),  # below the participation: CPF not used
        ("1000.00", 80, "2024-05-01", "1000.00", "200.00"),  # before 2 May 2024: no participation
        ("1000.00", 80, "2025-03-01", "897.77", "302.23"),  # 102.23 € in 2025
        ("1000.00", 80, "2026-03-01", "896.80", "303.20"),  # 103.20 € in 2026
    ],
)
def test_booking_debits_price_minus_participation_forfaitaire(
    sim: Simulate, price: str, rights_hours: int | None, date: str, debited: str, left: str
) -> None:
    funds: list[dict[str, Any]]
    if rights_hours is None:
        funds = [{"type": "abondement", "amount_eur": "350.00", "payer": "holder", "date": "2024-01-01"}]
    else:
        funds = [{"type": "legacy_cpf_hours", "hours": rights_hours}]
    booking = {"type": "training_booked", "booking_id": "T1", "price_eur": price, "date": date}
    output = sim([*funds, booking])
    assert output["cpf"]["reserved_eur"] == debited
    assert output["cpf"]["usable_eur"] == left


def test_booking_uses_abondements_then_rights_then_dif_then_cec(sim: Simulate) -> None:
    events = [
        {"type": "legacy_cpf_hours", "hours": 20},  # 300 €
        {"type": "dif_registered", "hours": 10, "date": "2019-02-01"},  # 150 €
        {"type": "abondement", "amount_eur": "100.00", "payer": "opco", "date": "2019-03-01"},
        {"type": "cec_activity", "year": 2019, "category": "military_reserve", "days": 90},  # 240 €
        {"type": "training_booked", "booking_id": "T1", "price_eur": "600.00", "date": "2021-01-01"},
    ]
    output = sim(events, history=True)
    assert output["cpf"]["abondements_eur"] == "0.00"
    assert output["cpf"]["rights_eur"] == "0.00"
    assert output["cpf"]["dif_eur"] == "0.00"
    assert output["cec"]["eur"] == "190.00"  # CEC last: 600 − 100 − 300 − 150 = 50 from the CEC
    assert output["cpf"]["reserved_eur"] == "600.00"


def test_cancellation_restores_exactly_what_the_booking_took(sim: Simulate) -> None:
    funds = [
        {"type": "legacy_cpf_hours", "hours": 20},
        {"type": "abondement", "amount_eur": "100.00", "payer": "opco", "date": "2019-03-01"},
    ]
    before = sim(funds)
    booked = [
        *funds,
        {"type": "training_booked", "booking_id": "T1", "price_eur": "250.00", "date": "2024-06-01"},
    ]
    assert sim(booked)["cpf"]["reserved_eur"] == "150.00"
    cancelled = [*booked, {"type": "training_cancelled", "booking_id": "T1", "date": "2024-06-15"}]
    assert sim(cancelled) == before


# --- D. DIF ---------------------------------------------------------------------------------------


def test_ex22_dif_registered_before_the_deadline(sim: Simulate) -> None:
    output = sim([{"type": "dif_registered", "hours": 90, "date": "2021-06-01"}])
    assert output["cpf"]["dif_eur"] == "1350.00"
    assert output["cpf"]["usable_eur"] == "1350.00"


def test_ex22_dif_registered_after_the_deadline_is_refused(sim: Simulate) -> None:
    events = [{"type": "dif_registered", "hours": 90, "date": "2021-07-15"}]
    with pytest.raises(SimulationInputError, match="dif_deadline_passed"):
        sim(events)
    output = sim(events, keep_going=True)
    assert output["cpf"]["dif_eur"] == "0.00"
    assert output["rejected"][0]["code"] == "dif_deadline_passed"
    assert "2021-06-30" in output["rejected"][0]["reason"]


# --- E. CEC ---------------------------------------------------------------------------------------


def test_ex24_associative_volunteering_thresholds(sim: Simulate) -> None:
    events = [
        {
            "type": "cec_activity",
            "year": 2021,
            "category": "association_board",
            "hours_by_association": [150, 100],
        },
        {
            "type": "cec_activity",
            "year": 2022,
            "category": "association_board",
            "hours_by_association": [190],
        },
        {
            "type": "cec_activity",
            "year": 2023,
            "category": "association_board",
            "hours_by_association": [90, 80, 40],
        },
    ]
    output = sim(events, history=True)
    assert output["cec"]["eur"] == "240.00"
    assert [line["amount"] for line in output["history"]] == ["240.00", "0.00", "0.00"]
    assert "seuil non atteint" in output["history"][1]["label"]
    assert output["cpf"]["usable_eur"] == "0.00"  # CEC is shown on its own


def test_cec_categories_add_up_within_720(sim: Simulate) -> None:
    events = [
        {"type": "cec_activity", "year": 2020, "category": "military_reserve", "days": 90},
        {"type": "cec_activity", "year": 2020, "category": "health_reserve", "days": 30},
        {"type": "cec_activity", "year": 2021, "category": "civic_service", "months": 6},
        {
            "type": "cec_activity",
            "year": 2021,
            "category": "volunteer_firefighter",
            "commitment_signed": True,
        },
    ]
    assert sim(events)["cec"]["eur"] == "720.00"


def test_cec_2017_activity_earns_20_hours_converted_at_12_eur(sim: Simulate) -> None:
    events = [{"type": "cec_activity", "year": 2017, "category": "apprentice_master", "months": 7}]
    output = sim(events, history=True)
    assert output["cec"]["eur"] == "240.00"
    assert output["history"][0]["date"] == "2018-04-30"


# --- F. C2P ---------------------------------------------------------------------------------------


def test_ex29_exposure_to_three_factors(sim: Simulate) -> None:
    events = [
        {"type": "c2p_exposure", "year": 2021, "quarters": 4, "factors": 3},
        {"type": "c2p_exposure", "year": 2022, "quarters": 4, "factors": 3},
        {"type": "c2p_exposure", "year": 2024, "quarters": 4, "factors": 3},
    ]
    output = sim(events, history=True)
    assert [line["amount"] for line in output["history"]] == [8, 8, 12]
    assert output["c2p"]["points"] == 28


def _thirty_six_points() -> list[dict[str, Any]]:
    # 4 (2018, one factor) + 4 × 8 (2019–2022, several factors, old rule) = 36 points by spring 2023.
    return [{"type": "c2p_exposure", "year": 2018, "quarters": 4, "factors": 1}] + [
        {"type": "c2p_exposure", "year": year, "quarters": 4, "factors": 2} for year in range(2019, 2023)
    ]


def test_ex31_using_points_for_training_then_retirement(sim: Simulate) -> None:
    events = _thirty_six_points()
    assert sim(events, birth="1975-06")["c2p"] == {"points": 36, "reserved_for_training": 20}
    events.append({"type": "c2p_points_used", "points": 20, "use": "training", "date": "2024-03-01"})
    output = sim(events, birth="1975-06")
    assert output["cpf"]["abondements_eur"] == "10000.00"  # 20 × 500 €, outside the ceiling
    assert output["cpf"]["ceiling_eur"] == "5000.00"
    assert output["c2p"] == {"points": 16, "reserved_for_training": 0}
    events.append({"type": "c2p_points_used", "points": 10, "use": "retirement", "date": "2024-04-01"})
    assert sim(events, birth="1975-06")["c2p"] == {"points": 6, "reserved_for_training": 0}


def test_ex31_training_exempt_from_participation_forfaitaire(sim: Simulate) -> None:
    events = [
        *_thirty_six_points(),
        {"type": "c2p_points_used", "points": 20, "use": "training", "date": "2024-03-01"},
        {
            "type": "training_booked",
            "booking_id": "R1",
            "price_eur": "10000.00",
            "date": "2024-06-01",
            "participation_exempt": True,
        },
    ]
    output = sim(events, birth="1975-06")
    assert output["cpf"]["reserved_eur"] == "10000.00"
    assert output["cpf"]["abondements_eur"] == "0.00"


def test_ex31_points_were_worth_375_before_september_2023(sim: Simulate) -> None:
    events = [
        *_thirty_six_points(),
        {"type": "c2p_points_used", "points": 20, "use": "training", "date": "2023-08-31"},
    ]
    assert sim(events, birth="1975-06")["cpf"]["abondements_eur"] == "7500.00"


@pytest.mark.parametrize(("birth", "reserved"), [("1975-06", 20), ("1961-04", 10), ("1958-11", 0)])
def test_ex31_points_reserved_by_birth_year(sim: Simulate, birth: str, reserved: int) -> None:
    assert sim(_thirty_six_points(), birth=birth)["c2p"]["reserved_for_training"] == reserved


def test_ex31_reserved_points_cannot_buy_retirement_quarters(sim: Simulate) -> None:
    use = {"type": "c2p_points_used", "points": 20, "use": "retirement", "date": "2024-04-01"}
    with pytest.raises(SimulationInputError, match="points_reserved_for_training"):
        sim([*_thirty_six_points(), use], birth="1975-06")  # only 16 points are free
    assert sim([*_thirty_six_points(), {**use, "points": 30}], birth="1958-11")["c2p"]["points"] == 6


# --- G. Other populations and the public sector ------------------------------------------------


def test_esat_worker_gets_800_whatever_the_time(sim: Simulate) -> None:
    output = sim([{"type": "work_year", "year": 2022, "status": "esat"}])
    assert output["cpf"]["rights_eur"] == "800.00"
    assert output["cpf"]["ceiling_eur"] == "8000.00"


def test_self_employed_pro_rata_of_days_active(sim: Simulate) -> None:
    output = sim([{"type": "work_year", "year": 2023, "status": "self_employed", "days_active": 100}])
    assert output["cpf"]["rights_eur"] == "136.99"  # 500 × 100 / 365 = 136.986… rounded up


def test_forfait_jours_reference(sim: Simulate) -> None:
    output = sim([{"type": "work_year", "year": 2023, "days": 50, "reference_days": 218}])
    assert output["cpf"]["rights_eur"] == "114.68"  # 500 × 50 / 218 = 114.678…


def test_public_agent_hours_25_a_year_up_to_150(sim: Simulate) -> None:
    events = [{"type": "work_year", "year": y, "status": "public_a_b"} for y in range(2017, 2026)]
    assert sim(events, as_of="2020-05-01")["public_hours"] == 72  # 3 × 24 h (2017–2019)
    assert sim(events)["public_hours"] == 150  # then 25 h a year, capped at 150 h
    assert sim(events)["cpf"]["rights_eur"] == "0.00"


def test_public_category_c_unqualified_50_hours_a_year(sim: Simulate) -> None:
    events = [{"type": "work_year", "year": y, "status": "public_c_unqualified"} for y in range(2020, 2023)]
    assert sim(events)["public_hours"] == 150
