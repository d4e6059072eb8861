"""Wiring of the mailer: subscribers, senders, health. The only place that knows concrete classes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI
from faststream import Depends
from faststream.kafka import KafkaMessage

from contracts import topics
from contracts.mailer import MailJobRecorded
from contracts.registration import MailRequested
from eventing.consuming import CurrentEnvelope, declare_publisher, subscribe
from eventing.service import ServiceRuntime, in_background
from services.mailer.adapters.dead_letters import KafkaDeadLetters, trigger_from_consumer_record
from services.mailer.adapters.journal import KafkaJournal
from services.mailer.adapters.redis_state import MailerState
from services.mailer.adapters.smtp import SmtpMailer
from services.mailer.adapters.templates import JinjaTemplateRenderer
from services.mailer.settings import Settings
from services.mailer.use_cases.ports import MailQueue, MessageSender, TriggerRecord
from services.mailer.use_cases.requests import QueueRequestedMails
from services.mailer.use_cases.sending import MailSender

GROUP = "mailer"
log = logging.getLogger("mailer.app")


async def _trigger(message: KafkaMessage) -> TriggerRecord:  # async: a sync one runs in a thread
    return trigger_from_consumer_record(message.raw_message)


# The record in hand: kept on the mail job it queues, parked on the dead-letter topic if that mail fails.
Trigger = Annotated[TriggerRecord, Depends(_trigger)]


def build(
    settings: Settings | None = None, *, queue: MailQueue | None = None, smtp: MessageSender | None = None
) -> tuple[ServiceRuntime, FastAPI]:
    """The service, wired to Redis and SMTP unless a test passes its own ``queue`` and ``smtp`` (fakes)."""
    settings = settings or Settings()
    rt = ServiceRuntime.create("mailer", kafka_bootstrap=settings.kafka_bootstrap_servers, redis_url=settings.redis_url)
    mail = settings.mail()
    renderer = JinjaTemplateRenderer()
    renderer.check()  # a broken template fails the start, not a holder's mail

    async def journal(record: MailJobRecorded) -> None:
        await rt.publisher.publish(topics.MAIL_JOBS, record, key=record.job_id, correlation_id=record.job_id)

    state = queue or MailerState(rt.redis, journal)
    link_key = settings.link_key()
    requests = QueueRequestedMails(state, clock=lambda: datetime.now(UTC))
    journal_topic = KafkaJournal(settings.kafka_bootstrap_servers)
    broker, guard = rt.broker, rt.guard

    @subscribe(broker, guard, topics.MAIL_REQUESTED, group_id=GROUP)
    async def mail_requested(command: MailRequested, env: CurrentEnvelope, trigger: Trigger) -> None:
        if await requests.on_mail_requested(command, env, trigger):
            sender.wake()  # one sender takes it now rather than at its next look at the queue

    for produced in (topics.MAIL_SENT, topics.MAIL_FAILED, topics.MAIL_JOBS):
        declare_publisher(broker, produced)

    pool: SmtpMailer | None = None  # the SMTP connections this process opened (closed when it stops)
    if smtp is None:
        smtp = pool = SmtpMailer(settings.smtp())
    sender = MailSender(
        state,
        smtp,
        rt.publisher,
        link_key,
        renderer,
        mail,
        settings.retry(),
        settings.cap(),
        lease_s=settings.send_lease_s,
        dead_letters=KafkaDeadLetters(broker, GROUP),
        gate=rt.gate,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await rt.start()
        senders = asyncio.create_task(sender.run(settings.senders))
        try:
            # Consumers and senders wait while a wiped (or first-started) Redis is refilled from the topics.
            marker = state.REBUILT if isinstance(state, MailerState) else None  # a test's fake queue: none
            refill = lambda: requests.rebuild(journal_topic)  # noqa: E731
            async with in_background(rt.watch_state(state.needs_rebuild, refill, marker=marker)):
                yield
        finally:
            sender.stop()
            await senders
            if pool is not None:
                await pool.close()
            await rt.stop()

    app = FastAPI(title="Mailer", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    rt.add_operational_routes(app)
    return rt, app


def create_app() -> FastAPI:
    return build()[1]
