"""A booking's life: reserved when booked, spent on entry into training, given back in part by a refund
or in full by a cancellation before the training starts.

What a reserved booking holds still counts as the holder's (it comes back if the booking is cancelled);
once the training starts it is spent and no longer counts against the ceilings (R6323-1: credits are
made "dans la limite d'un plafond" of what the holder holds; L5151-9 for the CEC). See docs/rights.md.
A :class:`Booking` is immutable (each step returns the next one), so the undo log keeps the old ones.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from .errors import ErrorCode, RightsError
from .events import TrainingBooked, TrainingCancelled, TrainingRefunded, TrainingStarted
from .ledger import Account, LineKind
from .money import ZERO, fr_eur
from .policy import Fund, Shortfall

if TYPE_CHECKING:
    from .projection import Projection

Taken = tuple[tuple[Fund, Decimal], ...]  # by fund, in the order the funds were used

# The account each fund a booking draws on is taken from.
FUND_ACCOUNT = {
    Fund.ABONDEMENTS: Account.ABONDEMENTS,
    Fund.CPF_RIGHTS: Account.CPF_RIGHTS,
    Fund.DIF: Account.DIF,
    Fund.CEC: Account.CEC,
}


class BookingState(StrEnum):
    RESERVED = "reserved"
    STARTED = "started"
    CANCELLED = "cancelled"


# Members read once here: reading an enum member off its class costs about five plain attribute reads in
# CPython 3.11, and a booking's steps read several each.
_RESERVED, _STARTED, _CANCELLED = BookingState.RESERVED, BookingState.STARTED, BookingState.CANCELLED
_CEC_FUND, _REFUSE = Fund.CEC, Shortfall.REFUSE
_CPF = Account.CPF_RIGHTS
_BOOKED, _STARTED_LINE = LineKind.TRAINING_BOOKED, LineKind.TRAINING_STARTED
_REFUNDED_LINE, _CANCELLED_LINE = LineKind.TRAINING_REFUNDED, LineKind.TRAINING_CANCELLED
# (Amounts are compared with ZERO, not 0: a Decimal compared with an int makes a Decimal of it first,
# about four times the cost; the result is the same.)


class Booking(NamedTuple):
    """(A named tuple rather than a frozen dataclass: one is made at every step of every booking, and a
    tuple is built in one call where a frozen dataclass sets each field through ``object.__setattr__``.)"""

    booking_id: str
    booked_on: date
    due: Decimal  # price − participation: what the rights and the holder pay together
    taken: Taken  # what the booking still holds from the funds
    state: BookingState = BookingState.RESERVED
    refunded: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        total = ZERO
        for _, amount in self.taken:
            total += amount
        return total

    def _check_not_cancelled(self) -> None:
        if self.state is _CANCELLED:
            raise RightsError(ErrorCode.BOOKING_ALREADY_CANCELLED, f"booking {self.booking_id} is already cancelled")

    # Events are applied in date order (declarations.replay_key), so a start or refund never comes before its
    # booking here; one dated before it finds no booking (it is held, see holder_rights).
    def start(self) -> Booking:
        """Entry into training: what the booking holds is spent."""
        self._check_not_cancelled()
        if self.state is _STARTED:
            raise RightsError(ErrorCode.TRAINING_ALREADY_STARTED, f"training {self.booking_id} has already started")
        return Booking(self.booking_id, self.booked_on, self.due, self.taken, _STARTED, self.refunded)

    def refund(self, amount: Decimal) -> tuple[Booking, dict[Fund, Decimal]]:
        """Give ``amount`` back: to the funds, used last first (the CEC, used last, is refilled first), up
        to what they paid; any rest was the holder's own money and goes back to them, outside the rights."""
        self._check_not_cancelled()
        if amount > self.due - self.refunded:
            raise RightsError(
                ErrorCode.REFUND_EXCEEDS_BOOKING,
                f"booking {self.booking_id} cost {fr_eur(self.due)} (participation forfaitaire excluded), "
                f"{fr_eur(self.refunded)} already refunded; a refund of {fr_eur(amount)} is more than the rest",
            )
        given: dict[Fund, Decimal] = {}
        kept: list[tuple[Fund, Decimal]] = []
        remaining = amount
        for fund, held in reversed(self.taken):
            back = min(remaining, held)
            if back > ZERO:
                given[fund] = back
                remaining -= back
            kept.insert(0, (fund, held - back))
        refunded = Booking(self.booking_id, self.booked_on, self.due, tuple(kept), self.state, self.refunded + amount)
        return refunded, given

    def cancel(self, on: date) -> tuple[Booking, dict[Fund, Decimal]]:
        """Cancellation before the training starts: everything the booking holds goes back."""
        self._check_not_cancelled()
        if on < self.booked_on:
            raise RightsError(
                ErrorCode.CANCELLATION_BEFORE_BOOKING,
                f"booking {self.booking_id} was made on {self.booked_on.isoformat()}",
            )
        if self.state is _STARTED:
            raise RightsError(
                ErrorCode.TRAINING_ALREADY_STARTED,
                f"training {self.booking_id} has started: it can no longer be cancelled, only refunded in part",
            )
        given = {fund: amount for fund, amount in self.taken if amount > ZERO}
        return Booking(self.booking_id, self.booked_on, self.due, (), _CANCELLED, self.refunded), given


# The rules: each event of a booking's life, applied to the holder's projection.
def apply_booked(state: Projection, event: TrainingBooked, on: date) -> None:
    if event.booking_id in state.bookings:
        raise RightsError(ErrorCode.DUPLICATE_BOOKING, f"booking {event.booking_id} already exists")
    participation = ZERO if event.participation_exempt else state.parameters.participation_forfaitaire_eur.at(on)
    # The CPF covers price − participation; below the participation the holder pays it all (S20).
    due = max(ZERO, event.price_eur - participation)
    taken: dict[Fund, Decimal] = {}
    remaining = due
    if remaining > ZERO:
        totals, retired = state.totals, state.retired_on is not None
        for fund in state.policy.debit_order:
            if retired and fund is not _CEC_FUND:
                continue  # after retirement only the CEC can be used (L5151-2, S36)
            held = totals[FUND_ACCOUNT[fund]]
            if held > ZERO:
                take = held if held < remaining else remaining  # min(remaining, held), the same value
                taken[fund] = take
                remaining -= take
                if remaining <= ZERO:
                    break  # (nothing more to take)
    if remaining > ZERO and state.policy.booking_shortfall is _REFUSE:
        raise RightsError(
            ErrorCode.INSUFFICIENT_RIGHTS,
            f"the training needs {fr_eur(due)} and the rights cover {fr_eur(due - remaining)}",
        )
    details = (event.booking_id, event.price_eur, participation, remaining, not taken)
    for fund, amount in taken.items():
        state.post(FUND_ACCOUNT[fund], on, _BOOKED, details, -amount, event.event_id)
    if not taken:
        state.post(_CPF, on, _BOOKED, details, ZERO, event.event_id)
    state.bookings[event.booking_id] = Booking(event.booking_id, on, due, tuple(taken.items()))
    state.reserve(taken.items(), +1)


def _booking(state: Projection, booking_id: str, what: str) -> Booking:
    booking = state.bookings.get(booking_id)
    if booking is None:
        raise RightsError(ErrorCode.UNKNOWN_BOOKING, f"no booking {booking_id} to {what}")
    return booking


def apply_started(state: Projection, event: TrainingStarted, on: date) -> None:
    booking = _booking(state, event.booking_id, "start").start()
    state.bookings[event.booking_id] = booking
    state.reserve(booking.taken, -1)
    # The money was debited at booking; from now on it is spent and leaves the ceilings.
    details = (event.booking_id, booking.total)
    state.post(_CPF, on, _STARTED_LINE, details, ZERO, event.event_id)


def apply_refunded(state: Projection, event: TrainingRefunded, on: date) -> None:
    booking, given = _booking(state, event.booking_id, "refund").refund(event.amount_eur)
    state.bookings[event.booking_id] = booking
    if booking.state is _RESERVED:
        state.reserve(given.items(), -1)
    for fund, amount in given.items():
        state.post(FUND_ACCOUNT[fund], on, _REFUNDED_LINE, (event.booking_id,), amount, event.event_id)


def apply_cancelled(state: Projection, event: TrainingCancelled, on: date) -> None:
    booking, given = _booking(state, event.booking_id, "cancel").cancel(on)
    state.bookings[event.booking_id] = booking
    state.reserve(given.items(), -1)
    for fund, amount in given.items():
        state.post(FUND_ACCOUNT[fund], on, _CANCELLED_LINE, (event.booking_id,), amount, event.event_id)
    if not given:
        state.post(_CPF, on, _CANCELLED_LINE, (event.booking_id,), ZERO, event.event_id)
