"""The event envelope and its CloudEvents Kafka *binary-mode* binding.

The envelope travels in message headers (``ce_*``, as the CloudEvents Kafka protocol binding says) and
the message value is the payload JSON, so partners can read our topics with any CloudEvents SDK and
our payload schemas stay free of transport fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import EventData

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
SOURCE_PREFIX = "/mcf/"


class EnvelopeError(ValueError):
    """The headers do not carry a usable envelope (a poison message for the consumer)."""


class Envelope(BaseModel):
    """What every event says about itself, whatever its payload."""

    model_config = ConfigDict(frozen=True)

    event_id: str = Field(min_length=1, max_length=100)
    type: str = Field(min_length=1)
    schema_version: int = Field(ge=1)
    occurred_at: datetime
    correlation_id: str = Field(min_length=1, max_length=100, description="the registration request")
    producer: str = Field(min_length=1, description="the producing service")

    @classmethod
    def for_event(
        cls,
        data: EventData,
        *,
        producer: str,
        correlation_id: str,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        return cls(
            event_id=event_id or str(uuid.uuid4()),
            type=data.EVENT_TYPE,
            schema_version=data.SCHEMA_VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            correlation_id=correlation_id,
            producer=producer,
        )

    def to_headers(self) -> dict[str, str]:
        """CloudEvents binary-mode headers (attribute names lower-case alphanumerics, ``ce_`` prefix)."""
        return {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.event_id,
            "ce_type": self.type,
            "ce_source": SOURCE_PREFIX + self.producer,
            "ce_time": self.occurred_at.isoformat(),
            "ce_schemaversion": str(self.schema_version),
            "ce_correlationid": self.correlation_id,
            "content-type": CONTENT_TYPE,
        }

    @classmethod
    def from_headers(cls, headers: Mapping[str, str | bytes]) -> Envelope:
        def get(name: str) -> str:
            value = headers.get(name)
            if value is None:
                raise EnvelopeError(f"missing header {name}")
            return value.decode() if isinstance(value, bytes) else value

        if get("ce_specversion") != SPEC_VERSION:
            raise EnvelopeError("unsupported CloudEvents specversion")
        source = get("ce_source")
        try:
            return cls(
                event_id=get("ce_id"),
                type=get("ce_type"),
                schema_version=int(get("ce_schemaversion")),
                occurred_at=datetime.fromisoformat(get("ce_time")),
                correlation_id=get("ce_correlationid"),
                producer=source.removeprefix(SOURCE_PREFIX),
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise EnvelopeError(f"invalid envelope: {exc}") from exc
