"""How a handler tells the runtime what kind of failure it met."""


class PoisonMessage(Exception):
    """The message can never be handled (invalid data, broken rule): park it, don't retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryLater(Exception):
    """A dependency is not ready yet (e.g. an event that must come first): retry with back-off."""
