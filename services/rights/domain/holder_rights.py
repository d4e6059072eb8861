"""A holder's rights: the events received, and the balances and history they project to.

(Over 300 lines on purpose: the projection's apply, undo and hold steps share one holder's private
state and are easier to prove order-independent when read together.)

**Arrival order never matters.** Events are applied in one total order, :func:`declarations.replay_key`
(effective date, same-day rank, event_id), whatever order they arrived in. An event whose predecessor
has not arrived yet — a cancellation before its booking, points used before the exposures that earn
them, the end of a status before its declaration — is **held**: kept with the holder's events, not
applied, and tried again in its place whenever another event arrives. Only what the law refuses
whatever else arrives raises :class:`RightsError` (the service parks it on the dead-letter topic). So
the balances after any arrival order equal those of the sorted replay of the same events.

**Speed.** The state after the last applied event is kept: an event that falls after it is applied to
that state directly (a key comparison and appends, no replay). One that falls before it rewinds the
state to just before it with the projection's undo log (:mod:`.undo`), then applies it and the events
after it again: a late event costs O(events after it), never the whole history. The undo log covers the
last ``UNDO_HORIZON`` events (memory stays bounded); an event later than that rebuilds from the start.

This module is longer than most (~520 lines) because arrival order, holding, rewinding, recording many
events at once and staleness of earlier ``HolderRights`` are one piece of logic; the rules are elsewhere
(:mod:`.declarations`).
"""

from __future__ import annotations

import gc
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

from .declarations import RULE_OF, SAME_DAY_RANK, apply, replay_key
from .errors import ErrorCode, RightsError
from .events import (
    C2pExposure,
    C2pPointsUsed,
    LowQualificationDeclared,
    LowQualificationEnded,
    RightsEvent,
    TrainingBooked,
)
from .holder import Balances, Holder
from .ledger import Account, HistoryLine
from .parameters import PARAMETERS, RightsParameters
from .policy import DEFAULT_POLICY, RulesPolicy
from .projection import Projection

Key = tuple[date, int, str]
UNDO_HORIZON = 4096  # how many of the latest applied events a late event can rewind without a rebuild

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
    """The applied events in replay order and the projection after all of them, changed in place.

    Successive :class:`HolderRights` share one timeline; ``version`` changes with every change and
    ``arrived`` (the events kept, applied or held, in arrival order) only grows, so a ``HolderRights``
    made before a change knows it is stale and rebuilds a timeline of its own from its first arrivals.
    """

    __slots__ = (
        "arrived",
        "by_id",
        "events",
        "keep_from",
        "keys",
        "marks",
        "projection",
        "rewindable_from",
        "version",
    )

    def __init__(self, projection: Projection) -> None:
        self.keys: list[Key] = []
        self.events: list[RightsEvent] = []
        self.by_id: dict[str, RightsEvent] = {}
        # While every event arrived after the ones applied (the common case), the arrivals are the
        # applied events: one list for both (one list fewer a holder and one append fewer an event)
        # until :meth:`own_arrivals` separates them.
        self.arrived: list[RightsEvent] = self.events
        self.projection = projection
        self.marks: list[int] = []  # undo-log mark before each event from ``rewindable_from`` on
        self.rewindable_from = 0
        self.keep_from: int | None = None  # during an insertion: never forget the marks from there on
        self.version = 0

    def apply(self, key: Key, event: RightsEvent) -> None:
        """Apply ``event`` after the others; if the rules refuse it, nothing changed."""
        projection = self.projection
        undo = projection.undo
        mark = undo.base + len(undo.entries)  # undo.mark(), inlined: this runs for every event
        on = key[0]
        try:
            RULE_OF[type(event)](projection, event, on)
        except RightsError:
            undo.undo_to(mark, projection)  # a rule that refused after a change leaves no trace
            raise
        self.keys.append(key)
        self.events.append(event)
        self.by_id[event.event_id] = event
        self.marks.append(mark)
        if len(self.marks) >= 2 * UNDO_HORIZON:
            drop = len(self.marks) - UNDO_HORIZON
            if self.keep_from is not None:  # an insertion may still have to rewind to there
                drop = min(drop, self.keep_from - self.rewindable_from)
            if drop > 0:
                undo.forget_before(self.marks[drop])
                del self.marks[:drop]
                self.rewindable_from += drop

    def own_arrivals(self) -> list[RightsEvent]:
        """``arrived`` as a list of its own, before an arrival that is not the next applied event (held,
        or late: the applied ones are then reordered)."""
        if self.arrived is self.events:
            self.arrived = list(self.events)
        return self.arrived

    def rewind(self, position: int) -> list[tuple[Key, RightsEvent]]:
        """Undo the events from ``position`` on (at least ``rewindable_from``); returns them in order."""
        if position == len(self.events):
            return []
        if position < self.rewindable_from:
            raise ValueError(f"event {position} is beyond the undo log (from {self.rewindable_from})")
        self.projection.undo.undo_to(self.marks[position - self.rewindable_from], self.projection)
        tail = list(zip(self.keys[position:], self.events[position:], strict=True))
        del self.keys[position:], self.events[position:], self.marks[position - self.rewindable_from :]
        for _, event in tail:
            del self.by_id[event.event_id]
        return tail


@contextmanager
def _bulk() -> Iterator[None]:
    """Around a whole-history build (``replay``, ``restore``): the cyclic garbage collector paused.

    Such a build allocates only objects that stay (history lines, bookings, undo entries) and makes no
    garbage cycles, but CPython's collector walks every live object at each full collection, which
    took a third of a 100 000-event build. The build is synchronous (nothing else runs meanwhile) and
    the collector is restored as it was, even if the build raises."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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

    __slots__ = ("_arrived", "_held", "_timeline", "_version", "holder", "parameters", "policy")

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
        self._version = 0
        self._arrived = 0  # how many of the timeline's arrivals this object has seen
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
        with _bulk():
            for key, event in _keyed(_deduplicated(events), parameters):
                try:
                    timeline.apply(key, event)
                except RightsError as error:
                    raise error.for_event(event.event_id) from None
        rights._arrived = len(timeline.arrived)  # (the applied events: see _Timeline.arrived)
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
        with _bulk():
            return rights._insert(_deduplicated(received), new=None)

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
        topic: refused events go to the dead-letter topic and change nothing): :meth:`record_many` from
        no event."""
        return cls(holder, parameters=parameters, policy=policy).record_many(events)

    def record_many(self, events: Iterable[RightsEvent]) -> tuple[HolderRights, tuple[RightsError, ...]]:
        """What recording ``events`` one by one, in this order, gives: the rights, and the errors of the
        events the law refuses (they change nothing).

        In one sorted pass when that gives the same result and some event is late: if the sorted replay of
        every event kept so far and the new ones applies them all (nothing refused, nothing held), one by
        one refuses none either — a refusal other than for a missing predecessor is caused by an event
        that is there (the booking already made, the hours already converted), and one by one sees fewer
        — and ends where that replay does, without a rewind per late event, which made a shuffled history
        quadratic. Otherwise one by one. (Not "nothing refused" alone: an event held in the end may have
        been applied, and caused a refusal, before a later arrival held it; found by review.)"""
        rights, refused = self.record_each(events)
        return rights, tuple(refused.values())

    def record_each(self, events: Iterable[RightsEvent]) -> tuple[HolderRights, dict[int, RightsError]]:
        """:meth:`record_many`, with each refused event's error under its position in ``events`` (a
        service parks exactly the messages refused, even when two carry the same event_id)."""
        events = list(events)
        if len(events) > 1 and self._late(events):  # (one late event: its own rewind costs less)
            try:
                received = [*self.received, *events]
                at_once: HolderRights | None = HolderRights.restore(
                    self.holder, received, parameters=self.parameters, policy=self.policy
                )
            except RightsError:  # an event_id used for two different events: the later one is refused
                at_once = None
            if at_once is not None and not at_once.held:
                return at_once, {}
        rights, refused = self, {}
        for position, event in enumerate(events):
            try:
                rights = rights.record(event)
            except RightsError as error:
                refused[position] = error
        return rights, refused

    def _late(self, events: list[RightsEvent]) -> bool:
        """Whether recording ``events`` one by one would rewind: one of them falls before the last applied
        event or before another of them, or events are held (each arrival may retry them)."""
        if self._held:
            return True
        keys = self._current().keys
        last = keys[-1] if keys else None
        for event in events:
            try:
                key = replay_key(event, self.parameters)
            except RightsError:
                return True  # (refused one by one, with its reason)
            if last is not None and key < last:
                return True
            last = key
        return False

    def record(self, event: RightsEvent) -> HolderRights:
        timeline = self._timeline
        if self._version != timeline.version or self._arrived != len(timeline.arrived):
            timeline = self._current()  # a later HolderRights changed the shared timeline
        known = timeline.by_id.get(event.event_id)
        if known is None and self._held:
            known = self._known(event.event_id)
        if known is not None:
            if known == event:
                return self  # redelivery
            raise RightsError(
                ErrorCode.CONFLICTING_EVENT_ID,
                f"event_id {event.event_id} was already used for a different event",
                event_id=event.event_id,
            )
        try:  # (replay_key, inlined: this runs for every event)
            key = (event.effective_on(self.parameters), SAME_DAY_RANK[type(event)], event.event_id)
        except RightsError as error:
            raise error.for_event(event.event_id) from None
        held = self._held
        if held:
            unblocks = [waiting for waiting, why in held if _may_unblock(event, waiting, why)]
            if unblocks:
                return self._insert([*unblocks, event], new=event)
        keys = timeline.keys
        if keys and key < keys[-1]:
            return self._insert([event], new=event, keyed=[(key, event)])
        try:  # after every applied event: applied to the kept state (no replay)
            timeline.apply(key, event)
        except RightsError as error:
            if error.code in WAITING_FOR_PREDECESSOR:
                return self._with((*held, (event, error.for_event(event.event_id))), event)
            raise error.for_event(event.event_id) from None
        timeline.version += 1
        # (``_with``, inlined for this path: every event in order ends here)
        rights = object.__new__(HolderRights)
        rights.holder, rights.parameters, rights.policy = self.holder, self.parameters, self.policy
        rights._timeline = timeline
        arrived = timeline.arrived
        if arrived is not timeline.events:  # (the same list while every event arrived in order)
            arrived.append(event)
        rights._version, rights._arrived, rights._held = timeline.version, len(arrived), held
        return rights

    def _insert(
        self, extra: list[RightsEvent], new: RightsEvent | None, keyed: list[tuple[Key, RightsEvent]] | None = None
    ) -> HolderRights:
        """Apply ``extra`` (the new event and the held ones it may unblock) in their places: rewind to
        the first of them, apply them and the rewound events in replay order; what fails for want of a
        predecessor is held. If the law refuses the new event, or it would make an applied one invalid,
        the state is put back as it was and the error raised. ``keyed``: ``extra`` with their keys, in
        order, when the caller has them (one late event: its key is already known)."""
        timeline = self._timeline
        timeline.own_arrivals()  # the applied events are about to be reordered
        still_held: tuple[tuple[RightsEvent, RightsError], ...] = ()
        if self._held:
            extra_ids = {event.event_id for event in extra}
            still_held = tuple((held, why) for held, why in self._held if held.event_id not in extra_ids)
        keyed_extra = keyed if keyed is not None else _keyed(extra, self.parameters)
        start = bisect_left(timeline.keys, keyed_extra[0][0]) if keyed_extra else len(timeline.keys)
        if start < timeline.rewindable_from:  # beyond the undo log: rebuild up to there on a new timeline
            old = timeline
            timeline = _Timeline(self._new_projection())
            timeline.arrived = old.arrived[: self._arrived]
            for key, event in zip(old.keys[:start], old.events[:start], strict=True):
                timeline.apply(key, event)
            tail = list(zip(old.keys[start:], old.events[start:], strict=True))
        else:
            old = None
            tail = timeline.rewind(start)
        held: list[tuple[RightsEvent, RightsError]] = []
        timeline.keep_from = start
        # One extra event goes first: ``start`` is where its key falls, so every rewound one comes after it.
        if len(keyed_extra) == 1:
            ordered = [keyed_extra[0], *tail]
        else:
            ordered = sorted([*tail, *keyed_extra], key=lambda pair: pair[0])
        try:
            for key, candidate in ordered:
                try:
                    timeline.apply(key, candidate)
                except RightsError as error:
                    error = error.for_event(candidate.event_id)
                    if error.code not in WAITING_FOR_PREDECESSOR and new is not None:
                        if candidate is new:
                            raise error from None
                        if any(candidate is applied for _, applied in tail):  # it was applied before
                            raise RightsError(
                                ErrorCode.CONFLICTS_WITH_LATER_EVENT,
                                f"accepting it would make event {candidate.event_id} invalid: {error.reason}",
                                event_id=new.event_id,
                            ) from None
                    held.append((candidate, error))  # already held: it stays out, with the law's reason
        except RightsError:
            if old is None:  # put the shared timeline back as it was (same events, same state)
                timeline.rewind(start)
                for key, event in tail:
                    timeline.apply(key, event)
            raise
        finally:
            timeline.keep_from = None
        timeline.version += 1
        if new is None:  # restore: every event received counts as arrived
            timeline.arrived.extend(extra)
        return self._with((*still_held, *held), new, timeline)

    # --- reading -------------------------------------------------------------------------------
    @property
    def events(self) -> tuple[RightsEvent, ...]:
        """The applied events, in replay order."""
        return tuple(self._current().events)

    @property
    def held(self) -> tuple[tuple[RightsEvent, RightsError], ...]:
        """Events received but not applied yet (their predecessor is missing), with the reason."""
        return self._held

    @property
    def received(self) -> tuple[RightsEvent, ...]:
        """Every event kept for the holder, applied or held: what a store keeps to rebuild them."""
        return (*self._current().events, *(event for event, _ in self._held))

    def balances(self, as_of: date | None = None) -> Balances:
        if as_of is None:  # after every applied event: as of the last one's effective date
            keys = self._current().keys
            return self._projection_at(None).balances(keys[-1][0] if keys else None)
        return self._projection_at(as_of).balances(as_of)

    def history(self, as_of: date | None = None, account: Account | None = None) -> tuple[HistoryLine, ...]:
        lines = self._projection_at(as_of).history()
        return tuple(line for line in lines if account is None or line.account is account)

    # --- internals -----------------------------------------------------------------------------
    def _new_projection(self) -> Projection:
        return Projection(self.holder, self.parameters, self.policy)

    def _current(self) -> _Timeline:
        """This object's timeline, rebuilt from its own events if a later HolderRights changed it."""
        timeline = self._timeline
        if self._version == timeline.version and self._arrived == len(timeline.arrived):
            return timeline
        held = {event.event_id for event, _ in self._held}
        arrived = timeline.arrived[: self._arrived]
        timeline = _Timeline(self._new_projection())
        timeline.arrived = arrived
        for key, event in _keyed(arrived, self.parameters):
            if event.event_id not in held:
                timeline.apply(key, event)
        self._timeline, self._version = timeline, timeline.version
        return timeline

    def _known(self, event_id: str) -> RightsEvent | None:
        applied = self._timeline.by_id.get(event_id)
        if applied is not None:
            return applied
        if not self._held:
            return None
        return next((event for event, _ in self._held if event.event_id == event_id), None)

    def _projection_at(self, as_of: date | None) -> Projection:
        timeline = self._current()
        if as_of is None or not timeline.keys or as_of >= timeline.keys[-1][0]:
            return timeline.projection
        projection = self._new_projection()
        for key, event in zip(timeline.keys, timeline.events, strict=True):
            if key[0] > as_of:
                break
            apply(projection, event, key[0])
        return projection

    def _with(
        self,
        held: tuple[tuple[RightsEvent, RightsError], ...],
        arrived: RightsEvent | None,
        timeline: _Timeline | None = None,
    ) -> HolderRights:
        rights = object.__new__(HolderRights)  # not __init__: it would build a projection to throw away
        rights.holder, rights.parameters, rights.policy = self.holder, self.parameters, self.policy
        rights._timeline = timeline = timeline or self._timeline
        if arrived is not None:
            timeline.own_arrivals().append(arrived)
        rights._version, rights._arrived = timeline.version, len(timeline.arrived)
        rights._held = held
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
