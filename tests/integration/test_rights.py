"""Rights over the real stack: partner declarations before and after activation, BalancesProjected for
partners (no NIR), the holder's balances over HTTP, refused declarations parked, and a full replay of the
topics into an empty store giving identical balances."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import Platform
from tests.support.journey import Holder, activate_holder, log_in
from tests.support.kafka import eventually, publish_raw, read_topic

pytestmark = pytest.mark.integration
DECLARATIONS = "rights.partner-declarations.v1"
BALANCES = "rights.balances-projected.v1"


async def declare(platform: Platform, holder: Holder, body: dict[str, Any], event_id: str | None = None) -> str:
    event_id = event_id or f"partner-{uuid.uuid4()}"
    message = {"event_id": event_id, "nir": holder.nir, "nir_key": holder.key, **body}
    await publish_raw(platform.kafka, DECLARATIONS, json.dumps(message).encode(), key=holder.nir)
    return event_id


async def projected(platform: Platform, holder_id: str, until: Any) -> list[dict[str, Any]]:
    """The holder's BalancesProjected events once the *latest* one satisfies ``until`` (an older one may too)."""

    def mine(records: list[Any]) -> list[dict[str, Any]]:
        return [r.json() for r in records if r.key == holder_id]

    records = await read_topic(
        platform.kafka, BALANCES, until=lambda rs: bool(mine(rs)) and until(mine(rs)[-1]), timeout=45
    )
    return mine(records)


async def my_rights(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    resp = await http.get("/api/v1/me/rights", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def test_declarations_before_and_after_activation_reach_partners_and_the_holder(platform: Platform) -> None:
    holder = Holder.new("rights")
    holder_id = holder.holder_id(Path(platform.state.var) / "keys")
    # Before the account exists: kept, but nothing is published yet.
    await declare(platform, holder, {"type": "work_year", "year": 2023, "hours": 1607})
    await declare(platform, holder, {"type": "legacy_cpf_hours", "hours": 20})
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        await activate_holder(http, holder, platform.redis_url("captcha"), platform.smtp)
        first = await projected(platform, holder_id, lambda b: b["cpf"]["rights_eur"] == "800.00")
        assert first[-1]["legacy_hours_converted"] == {"hours": 20, "eur": "300.00"}

        # After activation: every change is published again.
        await declare(platform, holder, {"type": "work_year", "year": 2024, "hours": 1607})
        await declare(
            platform, holder, {"type": "abondement", "amount_eur": "3000.00", "payer": "employer", "date": "2024-06-01"}
        )
        await declare(
            platform,
            holder,
            {
                "type": "training_booked",
                "booking_id": "b-1",
                "price_eur": "800.00",
                "date": "2025-09-01",
                "participation_exempt": False,
            },
        )
        latest = (await projected(platform, holder_id, lambda b: b["cpf"]["reserved_eur"] != "0.00"))[-1]
        assert latest["cpf"] == {
            "rights_eur": "1300.00",
            "dif_eur": "0.00",
            "abondements_eur": "2302.23",
            "reserved_eur": "697.77",
            "usable_eur": "3602.23",
            "ceiling_eur": "5000.00",
        }
        assert holder.nir not in json.dumps(latest)

        token = await log_in(http, holder)
        mine = await my_rights(http, token)
        assert mine["balances"]["cpf"] == latest["cpf"]
        labels = " ".join(line["label"] for line in mine["history"])
        assert mine["history"] and any(line["amount"].startswith("-") for line in mine["history"]), labels

        # A cancellation restores exactly what the booking took.
        await declare(platform, holder, {"type": "training_cancelled", "booking_id": "b-1", "date": "2025-10-01"})
        restored = await projected(
            platform,
            holder_id,
            lambda b: b["cpf"]["abondements_eur"] == "3000.00" and b["cpf"]["reserved_eur"] == "0.00",
        )
        assert restored[-1]["cpf"]["usable_eur"] == "4300.00"


async def test_a_cancellation_sent_before_its_booking_is_held_then_applied(platform: Platform) -> None:
    holder = Holder.new("order")
    holder_id = holder.holder_id(Path(platform.state.var) / "keys")
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        await activate_holder(http, holder, platform.redis_url("captcha"), platform.smtp)
        await declare(platform, holder, {"type": "work_year", "year": 2023, "hours": 1607})
        await projected(platform, holder_id, lambda b: b["cpf"]["rights_eur"] == "500.00")
        # The training body's systems are faster than the marketplace: the cancellation comes first.
        cancel = await declare(
            platform, holder, {"type": "training_cancelled", "booking_id": "b-9", "date": "2025-03-02"}
        )
        book = await declare(
            platform,
            holder,
            {"type": "training_booked", "booking_id": "b-9", "price_eur": "300.00", "date": "2025-03-01"},
        )
        started_then_booked = await declare(
            platform, holder, {"type": "training_started", "booking_id": "b-8", "date": "2025-04-02"}
        )
        await declare(
            platform,
            holder,
            {"type": "training_booked", "booking_id": "b-8", "price_eur": "402.23", "date": "2025-04-01"},
        )
        latest = (
            await projected(
                platform,
                holder_id,
                lambda b: b["cpf"]["rights_eur"] == "200.00" and b["cpf"]["reserved_eur"] == "0.00",
            )
        )[-1]
        # b-9 booked and cancelled (nothing taken in the end); b-8 took 300 € (402.23 − 102.23) and started.
        assert latest["cpf"]["usable_eur"] == "200.00"
        token = await log_in(http, holder)
        labels = [line["label"] for line in (await my_rights(http, token))["history"]]
        assert any("Annulation de la formation b-9" in label for label in labels)
        assert any("Entrée en formation b-8" in label for label in labels)
        parked = await read_topic(platform.kafka, f"{DECLARATIONS}.dlq", timeout=5)
        assert not any(i.encode() in r.value for r in parked for i in (cancel, book, started_then_booked))


async def test_refused_declarations_are_parked_and_change_no_balance(platform: Platform) -> None:
    holder = Holder.new("poison")
    holder_id = holder.holder_id(Path(platform.state.var) / "keys")
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        await activate_holder(http, holder, platform.redis_url("captcha"), platform.smtp)
        await projected(platform, holder_id, lambda b: True)
        token = await log_in(http, holder)
        before = (await my_rights(http, token))["balances"]

        bad = {
            "dif-late": await declare(platform, holder, {"type": "dif_registered", "hours": 90, "date": "2021-08-01"}),
            "negative": await declare(platform, holder, {"type": "work_year", "year": 2024, "hours": -5}),
            "unknown": await declare(platform, holder, {"type": "lottery_win", "amount_eur": "1000000.00"}),
            "impossible-date": await declare(
                platform,
                holder,
                {"type": "abondement", "amount_eur": "10.00", "payer": "employer", "date": "2024-02-30"},
            ),
        }
        await publish_raw(
            platform.kafka,
            DECLARATIONS,
            json.dumps(
                {"event_id": "bad-nir", "nir": "123", "nir_key": "00", "type": "legacy_cpf_hours", "hours": 10}
            ).encode(),
        )
        await publish_raw(platform.kafka, DECLARATIONS, b"\xff not json at all")
        misspelt = await declare(
            platform, holder, {"type": "work_year", "year": 2024, "hours": 800, "reference_hour": 1}
        )
        twice = f"partner-{uuid.uuid4()}"
        await publish_raw(
            platform.kafka,
            DECLARATIONS,
            (
                f'{{"event_id": "{twice}", "nir": "{holder.nir}", "nir_key": "{holder.key}", '
                '"type": "legacy_cpf_hours", "hours": 10, "hours": 400}'
            ).encode(),
            key=holder.nir,
        )
        good = await declare(platform, holder, {"type": "legacy_cpf_hours", "hours": 10})

        parked = await read_topic(
            platform.kafka,
            f"{DECLARATIONS}.dlq",
            until=lambda rs: all(
                any(i.encode() in r.value for r in rs) for i in [*bad.values(), "bad-nir", misspelt, twice]
            ),
            timeout=45,
        )
        for record in parked:
            assert record.headers["dlq_reason"] and record.headers["dlq_original_topic"] == DECLARATIONS
        dif = next(r for r in parked if bad["dif-late"].encode() in r.value)
        assert "2021-06-30" in dif.headers["dlq_reason"]
        # Strict partner input: the reason names the misspelt field, the duplicate key.
        assert "reference_hour" in next(r for r in parked if misspelt.encode() in r.value).headers["dlq_reason"]
        assert "duplicate key 'hours'" in next(r for r in parked if twice.encode() in r.value).headers["dlq_reason"]
        assert good.encode() not in b"".join(r.value for r in parked)

        await projected(platform, holder_id, lambda b: b["legacy_hours_converted"]["hours"] == 10)
        after = (await my_rights(http, token))["balances"]
        assert after["cpf"]["rights_eur"] == "150.00"  # only the valid declaration counted
        assert {k: v for k, v in after.items() if k not in ("cpf", "legacy_hours_converted")} == {
            k: v for k, v in before.items() if k not in ("cpf", "legacy_hours_converted")
        }


async def test_replaying_the_topics_into_an_empty_store_gives_the_same_balances(platform: Platform) -> None:
    holder = Holder.new("replay")
    holder_id = holder.holder_id(Path(platform.state.var) / "keys")
    await declare(platform, holder, {"type": "work_year", "year": 2022, "hours": 800})
    await declare(platform, holder, {"type": "cec_activity", "year": 2022, "category": "civic_service", "months": 8})
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        await activate_holder(http, holder, platform.redis_url("captcha"), platform.smtp)
        await declare(platform, holder, {"type": "c2p_exposure", "year": 2024, "quarters": 4, "factors": 2})
        await projected(platform, holder_id, lambda b: b["c2p"]["points"] > 0)
        token = await log_in(http, holder)
        before = await my_rights(http, token)

        redis = Redis.from_url(platform.redis_url("rights"))
        await redis.flushdb()  # the projection is gone; the topics are the truth
        await redis.aclose()

        async def rebuilt() -> dict[str, Any] | None:
            resp = await http.get("/api/v1/me/rights", headers={"Authorization": f"Bearer {token}"})
            body: dict[str, Any] = resp.json()
            return body if resp.status_code == 200 and body["balances"]["c2p"]["points"] > 0 else None

        after = await eventually(rebuilt, timeout=30)
        assert after["balances"] == before["balances"]
        assert after["history"] == before["history"]
