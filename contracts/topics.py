"""The topic catalog: the single source of truth for topic names, keys, owners and data carried.

Deploy manifests (Strimzi ``KafkaTopic``/``KafkaUser``), the local stack's topic creation, the AsyncAPI
document and the services' subscriptions are all generated from or checked against this list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from contracts import captcha, mailer, registration, rights
from contracts.base import EventData

DAY_MS = 24 * 3600 * 1000


class Audience(StrEnum):
    INTERNAL = "internal"  # read only by our services
    PARTNER_READ = "partner-read"  # partners may read it: never a NIR or contact detail
    PARTNER_WRITE = "partner-write"  # partners publish on it


@dataclass(frozen=True)
class TopicSpec:
    name: str
    payload: type[EventData] | None  # None: several partner payloads (see contracts.partners)
    key: str  # what the message key is
    producer: str  # a service name, or "partners"
    consumers: tuple[str, ...]
    personal_data: str  # what personal data a message carries, in words
    audience: Audience
    partitions: int = 6
    retention_ms: int | None = 14 * DAY_MS  # None: keep forever
    compacted: bool = False
    with_dlq: bool = True  # consumers park poison messages on f"{name}.dlq"
    description: str = ""

    @property
    def dlq(self) -> str:
        return f"{self.name}.dlq"

    @property
    def config(self) -> dict[str, str]:
        # A compacted topic with a retention keeps the latest record per key, and only for that long.
        policy = "delete" if not self.compacted else "compact" if self.retention_ms is None else "compact,delete"
        cfg: dict[str, str] = {"cleanup.policy": policy}
        cfg["retention.ms"] = str(self.retention_ms if self.retention_ms is not None else -1)
        return cfg


SECURITY_CHECK_REQUESTED = TopicSpec(
    name="registration.security-check-requested.v1",
    payload=registration.SecurityCheckRequested,
    key="request_id",
    producer="registration",
    consumers=("captcha",),
    personal_data="none",
    audience=Audience.INTERNAL,
    description="A holder submitted a valid sign-up form; registration asks the captcha for a security check.",
)
MAIL_REQUESTED = TopicSpec(
    name="registration.mail-requested.v1",
    payload=registration.MailRequested,
    key="subject_id",
    producer="registration",
    consumers=("mailer",),
    personal_data="e-mail address and first name of the recipient; no NIR, never a link's token",
    audience=Audience.INTERNAL,
    retention_ms=7 * DAY_MS,
    description="Registration asks the mailer for one mail (confirmation link, duplicate sign-up warning, "
    "welcome, password reset); the mailer composes and sends it once.",
)
ACCOUNT_ACTIVATED = TopicSpec(
    name="registration.account-activated.v1",
    payload=registration.AccountActivated,
    key="holder_id",
    producer="registration",
    consumers=("rights",),
    personal_data="pseudonymous holder_id only",
    audience=Audience.INTERNAL,
    retention_ms=None,
    compacted=True,
    description="A holder followed the confirmation link: the account exists from now on.",
)
IDENTITY_VERIFIED = TopicSpec(
    name="registration.identity-verified.v1",
    payload=registration.IdentityVerified,
    key="holder_id",
    producer="registration",
    consumers=(),
    personal_data="pseudonymous holder_id only",
    audience=Audience.PARTNER_READ,
    retention_ms=None,
    description="The person behind an account was verified with FranceConnect (and at which eIDAS level).",
)
ACCOUNT_RECLAIMED = TopicSpec(
    name="registration.account-reclaimed.v1",
    payload=registration.AccountReclaimed,
    key="holder_id",
    producer="registration",
    consumers=(),
    personal_data="pseudonymous holder_id only",
    audience=Audience.PARTNER_READ,
    retention_ms=None,
    description="An account opened with a mailbox only was reclaimed by the person FranceConnect verified: "
    "its sessions and password were revoked (partners may want to review recent actions).",
)
ACCOUNT_STATE = TopicSpec(
    name="registration.account-state.v1",
    payload=registration.AccountStateRecorded,
    key="holder_id or request_id",
    producer="registration",
    consumers=("registration",),
    personal_data="NIR, names, contact details, argon2id password hash: private to registration",
    audience=Audience.INTERNAL,
    retention_ms=None,
    compacted=True,
    with_dlq=False,
    description="Registration's own durable state (latest record per request and per account); "
    "Redis is rebuilt from it. Readable by no other service.",
)
CHALLENGE_ISSUED = TopicSpec(
    name="captcha.challenge-issued.v1",
    payload=captcha.CaptchaChallengeIssued,
    key="request_id",
    producer="captcha",
    consumers=("registration",),
    personal_data="none",
    audience=Audience.INTERNAL,
    retention_ms=2 * DAY_MS,
    description="The public part of a new or renewed security check (never its answer).",
)
CAPTCHA_PASSED = TopicSpec(
    name="captcha.passed.v1",
    payload=captcha.CaptchaPassed,
    key="request_id",
    producer="captcha",
    consumers=("registration",),
    personal_data="none",
    audience=Audience.INTERNAL,
    description="The holder passed the security check for this request.",
)
CAPTCHA_FAILED = TopicSpec(
    name="captcha.failed.v1",
    payload=captcha.CaptchaFailed,
    key="request_id",
    producer="captcha",
    consumers=("registration",),
    personal_data="none",
    audience=Audience.INTERNAL,
    description="The request exhausted its security checks; it is rejected.",
)
MAIL_SENT = TopicSpec(
    name="mailer.mail-sent.v1",
    payload=mailer.MailSent,
    key="subject_id",
    producer="mailer",
    consumers=(),  # the report on registration's MailRequested; operators' monitoring reads it
    personal_data="none",
    audience=Audience.INTERNAL,
    description="A requested mail was accepted by SMTP.",
)
MAIL_FAILED = TopicSpec(
    name="mailer.mail-failed.v1",
    payload=mailer.MailFailed,
    key="correlation id",
    producer="mailer",
    consumers=(),  # operators' monitoring and alerting read it; no service reacts to it yet
    personal_data="none (the SMTP reason, never the address)",
    audience=Audience.INTERNAL,
    description="A mail was refused for good (SMTP 5xx); the original event is on the dead-letter topic.",
)
MAIL_JOBS = TopicSpec(
    name="mailer.mail-jobs.v1",
    payload=mailer.MailJobRecorded,
    key="job id",
    producer="mailer",
    consumers=("mailer",),
    personal_data="e-mail address and first name while a mail is queued (never the link's token): "
    "private to the mailer",
    audience=Audience.INTERNAL,
    retention_ms=30 * DAY_MS,
    compacted=True,
    with_dlq=False,
    description="The mailer's own durable queue (latest record per mail job); Redis is refilled from it "
    "after a wipe. Readable by no other service.",
)
PARTNER_DECLARATIONS = TopicSpec(
    name="rights.partner-declarations.v1",
    payload=None,
    key="holder NIR (partners know it; the topic is write-only for them)",
    producer="partners",
    consumers=("rights",),
    personal_data="NIR of the holder and what they acquired or spent: readable by rights only",
    audience=Audience.PARTNER_WRITE,
    partitions=12,
    retention_ms=None,
    description="What a holder acquired or spent, as declared by employers, funds and training bodies "
    "(see contracts.partners for the bodies).",
)
BALANCES_PROJECTED = TopicSpec(
    name="rights.balances-projected.v1",
    payload=rights.BalancesProjected,
    key="holder_id",
    producer="rights",
    consumers=("partners",),
    personal_data="pseudonymous holder_id and balances; no NIR, no contact details",
    audience=Audience.PARTNER_READ,
    partitions=12,
    retention_ms=None,
    compacted=True,
    with_dlq=False,
    description="A holder's latest balances: after activation, and after each fetch of declarations that"
    " changes them (one event for all of a holder's declarations read together; keep the latest per holder).",
)

CATALOG: tuple[TopicSpec, ...] = (
    SECURITY_CHECK_REQUESTED,
    MAIL_REQUESTED,
    ACCOUNT_ACTIVATED,
    IDENTITY_VERIFIED,
    ACCOUNT_RECLAIMED,
    ACCOUNT_STATE,
    CHALLENGE_ISSUED,
    CAPTCHA_PASSED,
    CAPTCHA_FAILED,
    MAIL_SENT,
    MAIL_FAILED,
    MAIL_JOBS,
    PARTNER_DECLARATIONS,
    BALANCES_PROJECTED,
)


@dataclass(frozen=True)
class PhysicalTopic:
    """A topic as the broker sees it (catalog topics and their dead-letter topics)."""

    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def physical_topics() -> list[PhysicalTopic]:
    out: list[PhysicalTopic] = []
    for spec in CATALOG:
        out.append(PhysicalTopic(spec.name, spec.partitions, spec.config))
        if spec.with_dlq:
            # Dead letters are kept 30 days for operators to inspect and replay.
            dlq_cfg = {"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)}
            out.append(PhysicalTopic(spec.dlq, 1, dlq_cfg))
    return out


def by_name(name: str) -> TopicSpec:
    for spec in CATALOG:
        if spec.name == name:
            return spec
    raise KeyError(name)
