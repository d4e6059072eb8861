"""The rights service's use cases: keep each holder's declarations, project and publish balances.

They take ports (:mod:`services.rights.use_cases.ports`: store, publisher, clock, topic replay), never a concrete
Redis or Kafka type; ``app/main.py`` wires the adapters, the use-case tests wire in-memory fakes.

A declaration is parsed once and projected once: the holder's rights are kept in memory after each
declaration (bounded cache), checked against the number of declarations the store holds (the store only
grows, so the same count means the same declarations, even if another replica handled some), and only
rebuilt from the store when they differ. A declaration whose predecessor has not arrived is stored
and held (``HolderRights.held``), not parked: it is applied when its predecessor arrives.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from contracts import topics
from contracts.identity import holder_id as derive_holder_id
from contracts.partners import InvalidPartnerEvent, PartnerDeclaration, parse_partner_event
from contracts.registration import AccountActivated
from contracts.rights import BalancesProjected
from eventing.errors import PoisonMessage
from services.rights.domain import Holder, HolderRights, YearMonth
from services.rights.domain.errors import RightsError
from services.rights.use_cases.partner_mapping import balances_to_contract, declaration_to_domain, to_domain_event
from services.rights.use_cases.ports import Clock, HolderRecord, HolderStore, Publisher, TopicReplay

log = logging.getLogger("rights")


def _today() -> date:
    return datetime.now(UTC).date()


def _birth(text: str) -> YearMonth:
    year, month = text.split("-")
    return YearMonth(int(year), max(1, int(month)))  # month 00 (unknown): counted from January


CACHED_HOLDERS = 10_000


@dataclass
class RightsService:
    store: HolderStore
    publisher: Publisher
    holder_key: bytes
    today: Clock = _today
    _cache: OrderedDict[str, tuple[int, str, HolderRights]] = field(default_factory=OrderedDict)

    async def rights_of(self, holder_id: str) -> tuple[HolderRecord, HolderRights] | None:
        record = await self.store.holder(holder_id)
        if record is None:
            return None
        count = await self.store.declaration_count(holder_id)
        cached = self._cache.get(holder_id)
        if cached is not None and cached[:2] == (count, record.birth):
            self._cache.move_to_end(holder_id)
            return record, cached[2]
        events = [
            to_domain_event(parse_partner_event(body), event_id)
            for event_id, body in (await self.store.declarations(holder_id)).items()
        ]
        rights = HolderRights.restore(Holder(_birth(record.birth)), events)
        self._remember(holder_id, len(events), record.birth, rights)
        return record, rights

    def _remember(self, holder_id: str, count: int, birth: str, rights: HolderRights) -> None:
        self._cache[holder_id] = (count, birth, rights)
        self._cache.move_to_end(holder_id)
        while len(self._cache) > CACHED_HOLDERS:
            self._cache.popitem(last=False)

    async def on_declaration(self, raw: bytes, *, publish: bool = True) -> None:
        """A partner declared an acquisition or a use (the message value, strict JSON). One the law or the
        contract refuses is parked and changes nothing; one waiting for its predecessor is kept and held."""
        try:
            declaration = PartnerDeclaration.from_bytes(raw)
            nir, event = declaration_to_domain(declaration)
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
            recorded = rights.record(event)  # refuses what the law does not allow (e.g. DIF after 2021-06-30)
        except RightsError as exc:
            raise PoisonMessage(f"refused declaration {declaration.event_id}: {exc}") from exc
        if recorded is not rights:  # else a redelivery: stored already, published again below
            stored = declaration.declaration.model_dump(mode="json", exclude_none=True)
            if found is None:
                await self.store.save_holder(record)
            await self.store.add_declaration(holder_id, declaration.event_id, stored)
            self._remember(holder_id, len(recorded.received), record.birth, recorded)
        for waiting, why in recorded.held:
            if waiting.event_id == event.event_id:
                log.info("declaration %s held until its predecessor arrives: %s", event.event_id, why.reason)
        if record.active and publish:
            await self._publish(holder_id, recorded, declaration.event_id)

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

    async def rebuild(self, replay_topic: TopicReplay) -> None:
        """An empty store is filled again from the topics (each holder's balances come out the same)."""

        async def declaration(raw: bytes) -> None:
            try:
                await self.on_declaration(raw, publish=False)
            except PoisonMessage:
                pass  # it was refused (and parked) the first time too

        async def activation(raw: bytes) -> None:
            event = AccountActivated.model_validate_json(raw or b"{}")
            await self.on_account_activated(
                event.holder_id, event.birth_year_month, event.activated_at, "", publish=False
            )

        await replay_topic(topics.ACCOUNT_ACTIVATED, activation)
        await replay_topic(topics.PARTNER_DECLARATIONS, declaration)
        await self.store.mark_rebuilt()

    async def publish(self, holder_id: str, cause: str) -> BalancesProjected | None:
        found = await self.rights_of(holder_id)
        if found is None:
            return None
        return await self._publish(holder_id, found[1], cause)

    async def _publish(self, holder_id: str, rights: HolderRights, cause: str) -> BalancesProjected:
        as_of = self.today()
        balances = balances_to_contract(holder_id, rights.balances(as_of), as_of)
        await self.publisher.publish(topics.BALANCES_PROJECTED, balances, key=holder_id, correlation_id=cause)
        return balances
