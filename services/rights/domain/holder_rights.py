"""A holder's rights: the events received, and the balances and history they project to.

**Arrival order never matters.** Events are applied in one total order, :func:`events.replay_key`
(effective date, same-day rank, event_id), whatever order they arrived in. An event whose predecessor
has not arrived yet — a cancellation before its booking, points used before the exposures that earn
them, the end of a status before its declaration — is **held**: kept with the holder's events, not
applied, and tried again in its place whenever another event arrives. Only what the law refuses
whatever else arrives raises :class:`RightsError` (the service parks it on the dead-letter topic). So
the balances after any arrival order equal those of the sorted replay of the same events.

**Speed.** The state after the last applied event is kept: an event that falls after it is applied to
that state directly (a key comparison and appends, no replay). One that falls before it (or any arrival
while events are held) replays only from the latest checkpoint before the first affected event: the
state is snapshotted every ``max(CHECKPOINT_GAP, state size)`` applied events, so snapshots cost O(1)
per event amortised, and ledger lines (append-only) are never copied into them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from datetime import date

from .errors import ErrorCode, RightsError
from .events import (
    C2pExposure,
    C2pPointsUsed,
    LowQualificationDeclared,
    LowQualificationEnded,
    RightsEvent,
    TrainingBooked,
    replay_key,
)
from .holder import Balances, Holder, Projection, Snapshot
from .ledger import Account, HistoryLine
from .parameters import PARAMETERS, RightsParameters
from .policy import DEFAULT_POLICY, RulesPolicy

Key = tuple[date, int, str]
CHECKPOINT_GAP = 64

# Refusals that a predecessor arriving later can lift: the event is held, not refused.
WAITING_FOR_PREDECESSOR = frozenset(
    {
        ErrorCode.UNKNOWN_BOOKING,  # its training_booked has not arrived
        ErrorCode.INSUFFICIENT_POINTS,  # the c2p_exposure that earns the points has not arrived
        ErrorCode.POINTS_RESERVED_FOR_TRAINING,  # ... nor those that free them (R4163-13)
        ErrorCode.NOT_LOW_QUALIFIED,  # low_qualification_ended before its declaration
        ErrorCode.ALREADY_LOW_QUALIFIED,  # a second declaration before the end of the first
        ErrorCode.INSUFFICIENT_RIGHTS,  # (policy "refuse") the credits paying for it have not arrived
        ErrorCode.LEGACY_HOURS_ABOVE_CEILING,  # > 150 h: the low-qualification declaration has not arrived
    }
)


class _Timeline:
    """The applied events in replay order and the projection after the first ``applied`` of them.

    Successive :class:`HolderRights` share one timeline while each only appends to it; a
    ``HolderRights`` that sees fewer events than the timeline holds rebuilds its own on demand.
    """

    def __init__(self, projection: Projection) -> None:
        self.keys: list[Key] = []
        self.events: list[RightsEvent] = []
        self.index: dict[str, int] = {}  # event_id -> position in events (of this timeline or a branch)
        self.projection = projection
        self.checkpoints: list[tuple[int, Snapshot]] = []  # (events applied, state then), in order

    def append(self, key: Key, event: RightsEvent) -> None:
        self.index[event.event_id] = len(self.events)
        self.keys.append(key)
        self.events.append(event)
        last = self.checkpoints[-1][0] if self.checkpoints else 0
        if len(self.events) - last >= CHECKPOINT_GAP:
            self.checkpoints.append((len(self.events), self.projection.snapshot()))

    def prefix(self, length: int) -> _Timeline:
        """A new timeline holding this one's first ``length`` events, from its latest checkpoint at or
        before ``length`` (the caller replays the events from ``len(result.events)`` on)."""
        base, snapshot = 0, None
        for count, taken in reversed(self.checkpoints):
            if count <= length:
                base, snapshot = count, taken
                break
        projection = self.projection
        timeline = _Timeline(
            Projection.restore(snapshot, projection)
            if snapshot
            else Projection(projection.holder, projection.parameters, projection.policy)
        )
        timeline.keys = self.keys[:base]
        timeline.events = self.events[:base]
        timeline.index = self.index  # shared: lookups check the position they find (see HolderRights._known)
        timeline.checkpoints = [checkpoint for checkpoint in self.checkpoints if checkpoint[0] <= base]
        return timeline


def _keyed(events: Iterable[RightsEvent], parameters: RightsParameters) -> list[tuple[Key, RightsEvent]]:
    keyed: list[tuple[Key, RightsEvent]] = []
    for event in events:
        try:
            keyed.append((replay_key(event, parameters), event))
        except RightsError as error:
            raise error.for_event(event.event_id) from None
    keyed.sort(key=lambda pair: pair[0])
    return keyed


class HolderRights:
    """A holder's events and what they project to. Immutable: :meth:`record` returns a new one.

    - ``HolderRights.replay(holder, events)`` rebuilds from raw events, strictly: the first refused or
      unapplicable event raises :class:`RightsError` with its ``event_id`` (the simulator's default);
    - ``rights.record(event)`` accepts one more event — applied, or held until its predecessor arrives
      (see ``held``) — and is idempotent on ``event_id``; it raises when the law refuses the event, and
      then nothing changed;
    - ``rights.balances(as_of)`` / ``rights.history(as_of)`` read the projection at a date (default:
      after every applied event).
    """

    def __init__(
        self,
        holder: Holder,
        *,
        parameters: RightsParameters = PARAMETERS,
        policy: RulesPolicy = DEFAULT_POLICY,
    ) -> None:
        self.holder = holder
        self.parameters = parameters
        self.policy = policy
        self._timeline = _Timeline(self._new_projection())
        self._applied = 0  # how many of the timeline's events this object sees
        self._held: tuple[tuple[RightsEvent, RightsError], ...] = ()

    # --- building ------------------------------------------------------------------------------
    @classmethod
    def replay(
        cls,
        holder: Holder,
        events: Iterable[RightsEvent],
        *,
        parameters: RightsParameters = PARAMETERS,
        policy: RulesPolicy = DEFAULT_POLICY,
    ) -> HolderRights:
        rights = cls(holder, parameters=parameters, policy=policy)
        timeline = rights._timeline
        projection = timeline.projection
        for key, event in _keyed(_deduplicated(events), parameters):
            try:
                projection.apply(event, key[0])
            except RightsError as error:
                raise error.for_event(event.event_id) from None
            timeline.append(key, event)
        rights._applied = len(timeline.events)
        return rights

    @classmethod
    def restore(
        cls,
        holder: Holder,
        received: Iterable[RightsEvent],
        *,
        parameters: RightsParameters = PARAMETERS,
        policy: RulesPolicy = DEFAULT_POLICY,
    ) -> HolderRights:
        """Rebuild from the events a store kept (applied and held, any order): never raises for an
        event the rules refuse — it is held again, with its reason, as when it was received."""
        rights = cls(holder, parameters=parameters, policy=policy)
        return rights._replay_lenient(_deduplicated(received), new=None)

    @classmethod
    def record_all(
        cls,
        holder: Holder,
        events: Iterable[RightsEvent],
        *,
        parameters: RightsParameters = PARAMETERS,
        policy: RulesPolicy = DEFAULT_POLICY,
    ) -> tuple[HolderRights, tuple[RightsError, ...]]:
        """Record events in arrival order, keeping the refused ones aside (what the service does with a
        topic: refused events go to the dead-letter topic and change nothing)."""
        rights = cls(holder, parameters=parameters, policy=policy)
        refused: list[RightsError] = []
        for event in events:
            try:
                rights = rights.record(event)
            except RightsError as error:
                refused.append(error)
        return rights, tuple(refused)

    def record(self, event: RightsEvent) -> HolderRights:
        known = self._known(event.event_id)
        if known is not None:
            if known == event:
                return self  # redelivery
            raise RightsError(
                ErrorCode.CONFLICTING_EVENT_ID,
                f"event_id {event.event_id} was already used for a different event",
                event_id=event.event_id,
            )
        try:
            key = replay_key(event, self.parameters)
        except RightsError as error:
            raise error.for_event(event.event_id) from None
        timeline = self._timeline
        at_the_end = not self._applied or key > timeline.keys[self._applied - 1]
        unblocks = [held for held, why in self._held if _may_unblock(event, held, why)]
        if at_the_end and not unblocks and self._applied == len(timeline.events):
            return self._append(key, event)
        return self._replay_lenient([*unblocks, event], new=event)

    def _append(self, key: Key, event: RightsEvent) -> HolderRights:
        """The event falls after every applied one: apply it to the kept state (no replay)."""
        timeline = self._timeline
        projection = timeline.projection
        try:
            projection.apply(event, key[0])  # a refused event changes nothing (Projection.apply)
        except RightsError as error:
            if error.code in WAITING_FOR_PREDECESSOR:
                return self._with(timeline, self._applied, ((event, error.for_event(event.event_id)),))
            raise error.for_event(event.event_id) from None
        timeline.append(key, event)
        return self._with(timeline, self._applied + 1, ())

    def _replay_lenient(self, extra: list[RightsEvent], new: RightsEvent | None) -> HolderRights:
        """Replay from the first of ``extra`` (the new event and the held ones it may unblock), from the
        latest checkpoint before it; what fails for want of a predecessor is held."""
        old = self._timeline
        still_held = tuple((held, why) for held, why in self._held if held not in extra)
        keyed_extra = _keyed(extra, self.parameters)
        start = bisect_left(old.keys, keyed_extra[0][0], 0, self._applied) if keyed_extra else self._applied
        timeline = old.prefix(start)
        base = len(timeline.events)
        previously_applied = {e.event_id for e in old.events[base : self._applied]}
        tail = list(zip(old.keys[base : self._applied], old.events[base : self._applied], strict=True))
        projection = timeline.projection
        held: list[tuple[RightsEvent, RightsError]] = []
        for key, candidate in sorted([*tail, *keyed_extra], key=lambda pair: pair[0]):
            try:
                projection.apply(candidate, key[0])
            except RightsError as error:
                error = error.for_event(candidate.event_id)
                if error.code not in WAITING_FOR_PREDECESSOR and new is not None:
                    if candidate is new:
                        raise error from None
                    if candidate.event_id in previously_applied:
                        raise RightsError(
                            ErrorCode.CONFLICTS_WITH_LATER_EVENT,
                            f"accepting it would make event {candidate.event_id} invalid: {error.reason}",
                            event_id=new.event_id,
                        ) from None
                held.append((candidate, error))  # already held: it stays out, with the law's reason
                continue
            timeline.append(key, candidate)
        return self._with(timeline, len(timeline.events), (*still_held, *held))

    # --- reading -------------------------------------------------------------------------------
    @property
    def events(self) -> tuple[RightsEvent, ...]:
        """The applied events, in replay order."""
        return tuple(self._applied_events())

    @property
    def held(self) -> tuple[tuple[RightsEvent, RightsError], ...]:
        """Events received but not applied yet (their predecessor is missing), with the reason."""
        return self._held

    @property
    def received(self) -> tuple[RightsEvent, ...]:
        """Every event kept for the holder, applied or held: what a store keeps to rebuild them."""
        return (*self._applied_events(), *(event for event, _ in self._held))

    def balances(self, as_of: date | None = None) -> Balances:
        return self._projection_at(as_of).balances(as_of)

    def history(self, as_of: date | None = None, account: Account | None = None) -> tuple[HistoryLine, ...]:
        lines = self._projection_at(as_of).history()
        return tuple(line for line in lines if account is None or line.account is account)

    # --- internals -----------------------------------------------------------------------------
    def _new_projection(self) -> Projection:
        return Projection(self.holder, self.parameters, self.policy)

    def _applied_events(self) -> list[RightsEvent]:
        return self._timeline.events[: self._applied]

    def _known(self, event_id: str) -> RightsEvent | None:
        events = self._timeline.events
        position = self._timeline.index.get(event_id)
        if position is not None and position < self._applied and events[position].event_id == event_id:
            return events[position]
        held = next((event for event, _ in self._held if event.event_id == event_id), None)
        if held is None and position is not None:
            # The index is shared with timelines branched from this one, which may have moved the event.
            held = next((event for event in events[: self._applied] if event.event_id == event_id), None)
        return held

    def _projection_at(self, as_of: date | None) -> Projection:
        timeline = self._timeline
        if as_of is None and self._applied == len(timeline.events):
            return timeline.projection
        projection = self._new_projection()
        for key, event in zip(timeline.keys[: self._applied], self._applied_events(), strict=True):
            if as_of is not None and key[0] > as_of:
                break
            projection.apply(event, key[0])
        if as_of is None:
            # Later events were appended by another HolderRights: keep this state on a timeline of our own.
            own = _Timeline(projection)
            for key, event in zip(timeline.keys[: self._applied], self._applied_events(), strict=True):
                own.append(key, event)
            self._timeline = own
        return projection

    def _with(
        self, timeline: _Timeline, applied: int, held: tuple[tuple[RightsEvent, RightsError], ...]
    ) -> HolderRights:
        rights = object.__new__(HolderRights)  # not __init__: it would build a projection to throw away
        rights.holder, rights.parameters, rights.policy = self.holder, self.parameters, self.policy
        rights._timeline = timeline
        rights._applied = applied
        rights._held = (*self._held, *held) if timeline is self._timeline else held
        return rights


_UNBLOCKED_BY: dict[ErrorCode, tuple[type, ...]] = {
    ErrorCode.INSUFFICIENT_POINTS: (C2pExposure, C2pPointsUsed),
    ErrorCode.POINTS_RESERVED_FOR_TRAINING: (C2pExposure, C2pPointsUsed),
    ErrorCode.NOT_LOW_QUALIFIED: (LowQualificationDeclared, LowQualificationEnded),
    ErrorCode.ALREADY_LOW_QUALIFIED: (LowQualificationDeclared, LowQualificationEnded),
    ErrorCode.LEGACY_HOURS_ABOVE_CEILING: (LowQualificationDeclared, LowQualificationEnded),
}


def _may_unblock(new: RightsEvent, held: RightsEvent, why: RightsError) -> bool:
    """Can ``new`` change why ``held`` fails? Only events of the held one's family can (its booking, C2P
    points, low-qualification periods): anything else leaves the held event failing for the same
    reason, so it need not be tried again — the new event then takes the fast path."""
    if why.code is ErrorCode.UNKNOWN_BOOKING:
        return isinstance(new, TrainingBooked) and new.booking_id == getattr(held, "booking_id", None)
    family = _UNBLOCKED_BY.get(why.code)
    return family is None or isinstance(new, family)  # unknown: try again (e.g. insufficient_rights)


def _deduplicated(events: Iterable[RightsEvent]) -> list[RightsEvent]:
    seen: dict[str, RightsEvent] = {}
    for event in events:
        previous = seen.get(event.event_id)
        if previous is None:
            seen[event.event_id] = event
        elif previous != event:
            raise RightsError(
                ErrorCode.CONFLICTING_EVENT_ID,
                f"event_id {event.event_id} is used for two different events",
                event_id=event.event_id,
            )
    return list(seen.values())
