"""The one error the rights domain raises: an event that the law (or the ledger) refuses.

A refused event never changes a balance. ``code`` is stable (services route on it, dead-letter records
carry it); ``reason`` is a sentence for people.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_EVENT_ID = "invalid_event_id"
    CONFLICTING_EVENT_ID = "conflicting_event_id"
    CONFLICTS_WITH_LATER_EVENT = "conflicts_with_later_event"
    INVALID_YEAR = "invalid_year"
    INVALID_DATE = "invalid_date"
    INVALID_HOURS = "invalid_hours"
    INVALID_DAYS = "invalid_days"
    INVALID_REFERENCE = "invalid_reference"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_STATUS = "invalid_status"
    MISSING_MEASURE = "missing_measure"
    INVALID_MEASURE = "invalid_measure"
    YEAR_BEFORE_REGIME = "year_before_regime"
    BEFORE_ELIGIBILITY_AGE = "before_eligibility_age"
    RULE_NOT_IN_FORCE = "rule_not_in_force"
    LEGACY_ALREADY_CONVERTED = "legacy_already_converted"
    LEGACY_HOURS_ABOVE_CEILING = "legacy_hours_above_ceiling"
    ALREADY_RETIRED = "already_retired"
    DIF_DEADLINE_PASSED = "dif_deadline_passed"
    DIF_HOURS_EXCEEDED = "dif_hours_exceeded"
    ALREADY_LOW_QUALIFIED = "already_low_qualified"
    NOT_LOW_QUALIFIED = "not_low_qualified"
    UNKNOWN_CEC_CATEGORY = "unknown_cec_category"
    INVALID_QUARTERS = "invalid_quarters"
    INVALID_FACTORS = "invalid_factors"
    INVALID_POINTS = "invalid_points"
    UNKNOWN_POINTS_USE = "unknown_points_use"
    INSUFFICIENT_POINTS = "insufficient_points"
    POINTS_RESERVED_FOR_TRAINING = "points_reserved_for_training"
    POINTS_NOT_IN_BLOCKS = "points_not_in_blocks"
    RETIREMENT_QUARTERS_EXCEEDED = "retirement_quarters_exceeded"
    INVALID_PAYER = "invalid_payer"
    INVALID_BOOKING_ID = "invalid_booking_id"
    DUPLICATE_BOOKING = "duplicate_booking"
    UNKNOWN_BOOKING = "unknown_booking"
    BOOKING_ALREADY_CANCELLED = "booking_already_cancelled"
    CANCELLATION_BEFORE_BOOKING = "cancellation_before_booking"
    TRAINING_ALREADY_STARTED = "training_already_started"
    REFUND_EXCEEDS_BOOKING = "refund_exceeds_booking"
    INSUFFICIENT_RIGHTS = "insufficient_rights"
    INVALID_NIR = "invalid_nir"
    INVALID_NIR_KEY = "invalid_nir_key"
    INVALID_BIRTH = "invalid_birth"


class RightsError(Exception):
    """An event (or input) refused by the rules; it changes nothing."""

    def __init__(self, code: ErrorCode, reason: str, *, event_id: str | None = None) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.event_id = event_id

    def for_event(self, event_id: str) -> RightsError:
        """The same error, tagged with the event that caused it."""
        return RightsError(self.code, self.reason, event_id=event_id)
