"""A booking's life: reserved when booked, spent on entry into training, given back in part by a refund
or in full by a cancellation before the training starts.

What a reserved booking holds still counts as the holder's (it comes back if the booking is cancelled);
once the training starts it is spent and no longer counts against the ceilings (R6323-1: credits are
made "dans la limite d'un plafond" of what the holder holds; L5151-9 for the CEC). See docs/rights.md.
A :class:`Booking` is immutable (each step returns the next one), so the undo log keeps the old ones.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
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
        return Booking(self.booking_id, self.booked_on, self.due, self.taken, BookingState.STARTED, self.refunded)

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
        if self.state is BookingState.STARTED:
            raise RightsError(
                ErrorCode.TRAINING_ALREADY_STARTED,
                f"training {self.booking_id} has started: it can no longer be cancelled, only refunded in part",
            )
        given = {fund: amount for fund, amount in self.taken if amount > 0}
        return Booking(self.booking_id, self.booked_on, self.due, (), BookingState.CANCELLED, self.refunded), given
