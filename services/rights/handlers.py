"""The rights service's use cases: keep each holder's declarations, project and publish balances."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from aiokafka import ConsumerRecord

from contracts import topics
from contracts.identity import holder_id as derive_holder_id
from contracts.partners import InvalidPartnerEvent, PartnerDeclaration, parse_partner_event
from contracts.registration import AccountActivated
from contracts.rights import BalancesProjected
from eventing.errors import PoisonMessage
from eventing.publishing import EventPublisher
from eventing.replay import replay
from services.rights.adapters.partner_mapping import balances_to_contract, message_to_domain, to_domain_event
from services.rights.adapters.redis_ledger import HolderRecord, RightsStore
from services.rights.domain.errors import RightsError
from services.rights.domain.holder import Holder, HolderRights, YearMonth

log = logging.getLogger("rights")


def _today() -> date:
    return datetime.now(UTC).date()


def _birth(text: str) -> YearMonth:
    year, month = text.split("-")
    return YearMonth(int(year), max(1, int(month)))  # month 00 (unknown): counted from January


@dataclass
class RightsService:
    store: RightsStore
    publisher: EventPublisher
    holder_key: bytes
    today: Callable[[], date] = _today

    async def rights_of(self, holder_id: str) -> tuple[HolderRecord, HolderRights] | None:
        record = await self.store.holder(holder_id)
        if record is None:
            return None
        events = [
            to_domain_event(parse_partner_event(body), event_id)
            for event_id, body in (await self.store.declarations(holder_id)).items()
        ]
        return record, HolderRights.replay(Holder(_birth(record.birth)), events)

    async def on_declaration(self, body: dict[str, Any], *, publish: bool = True) -> None:
        """A partner declared an acquisition or a use. A refused one is parked and changes nothing."""
        try:
            nir, event = message_to_domain(body)
            declaration = PartnerDeclaration.from_message(body)
        except (InvalidPartnerEvent, RightsError) as exc:
            raise PoisonMessage(f"refused declaration: {exc}") from exc
        holder_id = derive_holder_id(nir.value, self.holder_key)
        found = await self.rights_of(holder_id)
        if found is None:
            birth = nir.birth(self.today().year)
            record = HolderRecord(
                holder_id, f"{birth.year:04d}-{birth.month:02d}" if birth else "1970-01", False
            )
            rights = HolderRights(Holder(_birth(record.birth)))
        else:
            record, rights = found
        try:
            rights.record(event)  # refuses what the law does not allow (e.g. DIF after 2021-06-30)
        except RightsError as exc:
            raise PoisonMessage(f"refused declaration {declaration.event_id}: {exc}") from exc
        stored = declaration.declaration.model_dump(mode="json", exclude_none=True)
        if found is None:
            await self.store.save_holder(record)
        await self.store.add_declaration(holder_id, declaration.event_id, stored)
        if record.active and publish:
            await self.publish(holder_id, declaration.event_id)

    async def on_account_activated(
        self,
        holder_id: str,
        birth_year_month: str,
        activated_at: datetime,
        cause_event_id: str,
        *,
        publish: bool = True,
    ) -> None:
        record = await self.store.holder(holder_id)
        if record is None or not record.active:
            await self.store.save_holder(
                HolderRecord(holder_id, birth_year_month, True, activated_at.isoformat())
            )
        if publish:
            await self.publish(holder_id, cause_event_id)

    async def rebuild(self, bootstrap: str) -> None:
        """An empty Redis is filled again from the topics (each holder's balances come out the same)."""

        async def declaration(record: ConsumerRecord[bytes, bytes]) -> None:
            try:
                await self.on_declaration(json.loads(record.value or b"null"), publish=False)
            except (PoisonMessage, ValueError):
                pass  # it was refused (and parked) the first time too

        async def activation(record: ConsumerRecord[bytes, bytes]) -> None:
            event = AccountActivated.model_validate_json(record.value or b"{}")
            await self.on_account_activated(
                event.holder_id, event.birth_year_month, event.activated_at, "", publish=False
            )

        await replay(bootstrap, topics.ACCOUNT_ACTIVATED, activation)
        await replay(bootstrap, topics.PARTNER_DECLARATIONS, declaration)
        await self.store.mark_rebuilt()

    async def publish(self, holder_id: str, cause: str) -> BalancesProjected | None:
        found = await self.rights_of(holder_id)
        if found is None:
            return None
        _record, rights = found
        as_of = self.today()
        balances = balances_to_contract(holder_id, rights.balances(as_of), as_of)
        await self.publisher.publish(topics.BALANCES_PROJECTED, balances, key=holder_id, correlation_id=cause)
        return balances
