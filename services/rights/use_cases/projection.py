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

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from annotated_types import MaxLen

from contracts import topics
from contracts.envelope import Envelope
from contracts.identity import holder_id as derive_holder_id
from contracts.partners import InvalidPartnerEvent, PartnerDeclaration, parse_partner_event
from contracts.registration import AccountActivated
from contracts.rights import BalancesProjected
from eventing.errors import PoisonMessage
from services.rights.domain import Holder, HolderRights, RightsEvent, YearMonth
from services.rights.domain.errors import RightsError
from services.rights.domain.nir import Nir
from services.rights.use_cases.partner_mapping import balances_to_contract, declaration_to_domain, to_domain_event
from services.rights.use_cases.ports import Clock, HolderRecord, HolderStore, Publisher, TopicReplay

log = logging.getLogger("rights")


def _today() -> date:
    return datetime.now(UTC).date()


def _birth(text: str) -> YearMonth:
    year, month = text.split("-")
    return YearMonth(int(year), max(1, int(month)))  # month 00 (unknown): counted from January


def _correlation(event_id: str) -> str:
    """A partner's event_id as the correlation of the balances it changed: up to 200 characters in the
    partner contract, 100 in the envelope, so a longer one is named by its digest (still one per id)."""
    if len(event_id) <= MAX_CORRELATION:
        return event_id
    return "sha256:" + hashlib.sha256(event_id.encode()).hexdigest()


MAX_CORRELATION: int = next(
    rule.max_length for rule in Envelope.model_fields["correlation_id"].metadata if isinstance(rule, MaxLen)
)
CACHED_HOLDERS = 10_000
REBUILD_BATCH = 10_000  # declarations a rebuild reads before recording each holder's together


@dataclass(frozen=True)
class _Declared:
    """A declaration parsed from its message: whose it is, the domain event, and its contract form."""

    holder_id: str
    declaration: PartnerDeclaration
    nir: Nir
    event: RightsEvent

    @property
    def event_id(self) -> str:
        return self.declaration.event_id

    def stored(self) -> dict[str, Any]:
        """What the store keeps: the contract form without the NIR."""
        return self.declaration.declaration.model_dump(mode="json", exclude_none=True)


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
        """A partner declared an acquisition or a use (the message value, strict JSON): :meth:`on_declarations`
        for one message; one the law or the contract refuses raises ``PoisonMessage``, to be parked."""
        refused = await self.on_declarations([raw], publish=publish)
        if refused:
            raise PoisonMessage(refused[0])

    async def on_declarations(self, raws: Sequence[bytes], *, publish: bool = True) -> dict[int, str]:
        """Partners' declarations of one fetch, in their order of arrival. Each holder's are recorded
        together (``HolderRights.record_each``: what one at a time gives, in one sorted pass when some
        arrived out of order, where one at a time rewinds at every late one) and stored in one write, and
        that holder's balances are published once. One waiting for its predecessor is kept and held.
        Returns the refused ones, position -> reason, for the caller to park: they change nothing."""
        refused: dict[int, str] = {}
        by_holder: dict[str, list[tuple[int, _Declared]]] = {}
        for position, raw in enumerate(raws):
            try:
                declared = self._parse(raw)
            except PoisonMessage as exc:
                refused[position] = exc.reason
                continue
            by_holder.setdefault(declared.holder_id, []).append((position, declared))
        for holder_id, arrived in by_holder.items():
            record, recorded, errors = await self._record(holder_id, [declared for _, declared in arrived])
            for index, error in errors.items():  # e.g. DIF after 2021-06-30
                position, declared = arrived[index]
                refused[position] = f"refused declaration {declared.event_id}: {error}"
            if recorded.held:
                new = {declared.event_id for _, declared in arrived}
                for waiting, why in recorded.held:
                    if waiting.event_id in new:
                        log.info("declaration %s held until its predecessor arrives: %s", waiting.event_id, why.reason)
            kept = [declared for index, (_, declared) in enumerate(arrived) if index not in errors]
            if record.active and publish and kept:
                await self._publish(holder_id, recorded, _correlation(kept[-1].event_id))
        return dict(sorted(refused.items()))

    def _parse(self, raw: bytes) -> _Declared:
        try:
            declaration = PartnerDeclaration.from_bytes(raw)
            nir, event = declaration_to_domain(declaration)
        except (InvalidPartnerEvent, RightsError) as exc:
            raise PoisonMessage(f"refused declaration: {exc}") from exc
        return _Declared(derive_holder_id(nir.value, self.holder_key), declaration, nir, event)

    async def _record(
        self, holder_id: str, declared: list[_Declared]
    ) -> tuple[HolderRecord, HolderRights, dict[int, RightsError]]:
        """Record a holder's declarations in their order of arrival and store those kept (applied or held)
        in one write; the refused ones change nothing (their errors are returned, by position)."""
        found = await self.rights_of(holder_id)
        if found is None:
            birth = declared[0].nir.birth(self.today().year)
            record = HolderRecord(holder_id, f"{birth.year:04d}-{birth.month:02d}" if birth else "1970-01", False)
            rights = HolderRights(Holder(_birth(record.birth)))
        else:
            record, rights = found
        recorded, refused = rights.record_each([d.event for d in declared])
        if recorded is not rights:  # else only redeliveries (or refusals): stored already
            before = {event.event_id for event in rights.received}
            # The event objects kept (the first of a redelivered id): their own bodies are stored.
            kept = {id(event) for event in recorded.received if event.event_id not in before}
            bodies = {d.event_id: d.stored() for d in declared if id(d.event) in kept}
            if bodies:
                if found is None:
                    await self.store.save_holder(record)
                await self.store.add_declarations(holder_id, bodies)
            self._remember(holder_id, len(recorded.received), record.birth, recorded)
        return record, recorded, refused

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
            await self.store.save_holder(HolderRecord(holder_id, birth_year_month, True, activated_at.isoformat()))
        if publish:
            await self.publish(holder_id, cause_event_id)

    async def rebuild(self, replay_topic: TopicReplay) -> None:
        """An empty store is filled again from the topics (each holder's balances come out the same).

        Declarations are read ``REBUILD_BATCH`` at a time, and each holder's of a batch are recorded
        together (``HolderRights.record_many``: what one by one in the topic's order gives, the same ones
        refused and held, in one sorted pass when some arrived out of order) and stored in one write."""
        batch: dict[str, list[_Declared]] = {}
        size = 0

        async def flush() -> None:
            nonlocal size
            for holder_id, declared in batch.items():
                await self._record(holder_id, declared)  # (what it refuses was refused and parked the first time)
            batch.clear()
            size = 0

        async def declaration(raw: bytes) -> None:
            nonlocal size
            try:
                declared = self._parse(raw)
            except PoisonMessage:
                return  # it was refused (and parked) the first time too
            batch.setdefault(declared.holder_id, []).append(declared)
            size += 1
            if size >= REBUILD_BATCH:
                await flush()

        async def activation(raw: bytes) -> None:
            event = AccountActivated.model_validate_json(raw or b"{}")
            await self.on_account_activated(
                event.holder_id, event.birth_year_month, event.activated_at, "", publish=False
            )

        await replay_topic(topics.ACCOUNT_ACTIVATED, activation)
        await replay_topic(topics.PARTNER_DECLARATIONS, declaration)
        await flush()
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
