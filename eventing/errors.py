"""How a handler tells the runtime what kind of failure it met."""


class PoisonMessage(Exception):
    """The message can never be handled (invalid data, broken rule): park it, don't retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(Exception):
    """The event cannot be applied *yet* (it names a request, account or holder this service does not
    know yet, or an event that must come first has not arrived): it is held and retried with back-off for
    as long as ``RetryPolicy.hold_s``, never committed unapplied, and parked only after that."""
