"""The messages of ``rights.partner-declarations.v1`` as published in the AsyncAPI document.

On the topic each declaration is **flat**: its body (``contracts.partners``) plus the holder and delivery
fields ``event_id``, ``nir``, ``nir_key``. :data:`PartnerMessage` is that, one model per ``type``, so the
published payload is a ``oneOf`` discriminated by ``type`` from which a partner can generate a client.
The rights service subscribes with it; ``PartnerDeclaration.from_bytes`` then reads the same bytes
strictly (duplicate keys, huge numbers) and splits holder from body. A contract test keeps the two in step.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from contracts import partners as p


class _Delivery(BaseModel):
    """Who the declaration is about, and which delivery it is."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    event_id: str = Field(min_length=1, max_length=200, description="unique per declaration; a redelivery repeats it")
    nir: str = Field(
        pattern=r"^[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}$", description="the holder's NIR, 13 characters (personal data)"
    )
    nir_key: str = Field(pattern=r"^[0-9]{2}$", description="the NIR's 2-digit key")


class WorkYearMessage(p.WorkYear, _Delivery):
    __doc__ = p.WorkYear.__doc__


class LegacyCpfHoursMessage(p.LegacyCpfHours, _Delivery):
    __doc__ = p.LegacyCpfHours.__doc__


class LowQualificationDeclaredMessage(p.LowQualificationDeclared, _Delivery):
    """The holder declared being below a level-3 qualification (R6323-3-1)."""


class LowQualificationEndedMessage(p.LowQualificationEnded, _Delivery):
    """The holder declared they no longer meet the low-qualification condition."""


class RetirementMessage(p.Retirement, _Delivery):
    __doc__ = p.Retirement.__doc__


class DisabilityStatusMessage(p.DisabilityStatus, _Delivery):
    __doc__ = p.DisabilityStatus.__doc__


class DifRegisteredMessage(p.DifRegistered, _Delivery):
    __doc__ = p.DifRegistered.__doc__


class CecActivityMessage(p.CecActivity, _Delivery):
    __doc__ = p.CecActivity.__doc__


class C2pExposureMessage(p.C2pExposure, _Delivery):
    __doc__ = p.C2pExposure.__doc__


class C2pPointsUsedMessage(p.C2pPointsUsed, _Delivery):
    """The holder used C2P points for training, part-time work or retirement quarters."""


class AbondementMessage(p.Abondement, _Delivery):
    __doc__ = p.Abondement.__doc__


class TrainingBookedMessage(p.TrainingBooked, _Delivery):
    __doc__ = p.TrainingBooked.__doc__


class TrainingStartedMessage(p.TrainingStarted, _Delivery):
    __doc__ = p.TrainingStarted.__doc__


class TrainingRefundedMessage(p.TrainingRefunded, _Delivery):
    __doc__ = p.TrainingRefunded.__doc__


class TrainingCancelledMessage(p.TrainingCancelled, _Delivery):
    __doc__ = p.TrainingCancelled.__doc__


PartnerMessage = Annotated[
    WorkYearMessage
    | LegacyCpfHoursMessage
    | LowQualificationDeclaredMessage
    | LowQualificationEndedMessage
    | RetirementMessage
    | DisabilityStatusMessage
    | DifRegisteredMessage
    | CecActivityMessage
    | C2pExposureMessage
    | C2pPointsUsedMessage
    | AbondementMessage
    | TrainingBookedMessage
    | TrainingStartedMessage
    | TrainingRefundedMessage
    | TrainingCancelledMessage,
    Field(discriminator="type"),
]
"""One message of the partner-inbound topic: a declaration body with the holder and delivery fields."""

MESSAGE_MODELS: tuple[type[BaseModel], ...] = (
    WorkYearMessage,
    LegacyCpfHoursMessage,
    LowQualificationDeclaredMessage,
    LowQualificationEndedMessage,
    RetirementMessage,
    DisabilityStatusMessage,
    DifRegisteredMessage,
    CecActivityMessage,
    C2pExposureMessage,
    C2pPointsUsedMessage,
    AbondementMessage,
    TrainingBookedMessage,
    TrainingStartedMessage,
    TrainingRefundedMessage,
    TrainingCancelledMessage,
)
