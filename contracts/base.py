"""The shape every event payload shares.

An event travels on Kafka in CloudEvents *binary* mode: the envelope (``event_id``, ``type``,
``schema_version``, ``occurred_at``, ``correlation_id``, ``producer``) rides in ``ce_*`` headers and the
message value is the JSON of the payload model (a subclass of :class:`EventData`). See
:mod:`contracts.envelope` for the mapping.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class EventData(BaseModel):
    """Base of every event payload.

    ``EVENT_TYPE`` is the stable, past-tense name partners filter on; ``SCHEMA_VERSION`` is bumped for
    every backward-compatible change (new optional field). A breaking change is a new ``vN`` topic.
    Unknown fields are ignored on read so that an older consumer keeps working when a producer adds one.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=False)

    EVENT_TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1
