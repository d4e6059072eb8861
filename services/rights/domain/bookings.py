"""A booking's life: reserved when booked, spent on entry into training, given back in part by a refund
or in full by a cancellation before the training starts.

What a reserved booking holds still counts as the holder's (it comes back if the booking is cancelled);
once the training starts it is spent and no longer counts against the ceilings (R6323-1: credits are
made "dans la limite d'un plafond" of what the holder holds; L5151-9 for the CEC). See docs/rights.md.
A :class:`Booking` is immutable (each step returns the next one), so a snapshot of the holder's state
shares them instead of copying them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .errors import ErrorCode, RightsError
from .money import ZERO, fr_eur
from .policy import Fund

Taken = tuple[tuple[Fund, Decimal], ...]  # by fund, in the order the funds were used


class BookingState(StrEnum):
    RESERVED = "reserved"
    STARTED = "started"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Booking:
    booking_id: str
    booked_on: date
    due: Decimal  # price − participation: what the rights and the holder pay together
    taken: Taken  # what the booking still holds from the funds
    state: BookingState = BookingState.RESERVED
    refunded: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.taken), ZERO)

    def _check_not_cancelled(self) -> None:
        if self.state is BookingState.CANCELLED:
            raise RightsError(ErrorCode.BOOKING_ALREADY_CANCELLED, f"booking {self.booking_id} is already cancelled")

    # Events are applied in date order (events.replay_key), so a start or refund never comes before its
    # booking here; one dated before it finds no booking (it is held, see holder_rights).
    def start(self) -> Booking:
        """Entry into training: what the booking holds is spent."""
        self._check_not_cancelled()
        if self.state is BookingState.STARTED:
            raise RightsError(ErrorCode.TRAINING_ALREADY_STARTED, f"training {self.booking_id} has already started")
        return replace(self, state=BookingState.STARTED)

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
            if back > 0:
                given[fund] = back
                remaining -= back
            kept.insert(0, (fund, held - back))
        return replace(self, taken=tuple(kept), refunded=self.refunded + amount), given

    def cancel(self, on: date) -> tuple[Booking, dict[Fund, Decimal]]:
        """Cancellation before the training starts: everything the booking holds goes back."""
        self._check_not_cancelled()
        if on < self.booked_on:
            raise RightsError(
                ErrorCode.CANCELLATION_BEFORE_BOOKING,
                f"booking {self.booking_id} was made on {self.booked_on.isoformat()}",
            )
        if self.state is BookingState.STARTED:
            raise RightsError(
                ErrorCode.TRAINING_ALREADY_STARTED,
                f"training {self.booking_id} has started: it can no longer be cancelled, only refunded in part",
            )
        given = {fund: amount for fund, amount in self.taken if amount > 0}
        return replace(self, state=BookingState.CANCELLED, taken=()), given


class BookingBook:
    """A holder's bookings by id, cheap to snapshot however many there are: a shared, never-changed
    ``base`` plus the ``recent`` changes; a snapshot copies only the recent part, and folds it into a
    new base once it grows to a quarter of the base (so each booking is copied O(1) times amortised)."""

    def __init__(self, base: dict[str, Booking] | None = None, recent: dict[str, Booking] | None = None) -> None:
        self._base: dict[str, Booking] = base if base is not None else {}
        self._recent: dict[str, Booking] = recent if recent is not None else {}

    def get(self, booking_id: str) -> Booking | None:
        found = self._recent.get(booking_id)
        return found if found is not None else self._base.get(booking_id)

    def __contains__(self, booking_id: str) -> bool:
        return booking_id in self._recent or booking_id in self._base

    def __setitem__(self, booking_id: str, booking: Booking) -> None:
        self._recent[booking_id] = booking

    def copy(self) -> BookingBook:
        if len(self._recent) * 4 > len(self._base):
            self._base = {**self._base, **self._recent}  # a new base; the old one may be shared
            self._recent = {}
        return BookingBook(self._base, dict(self._recent))
