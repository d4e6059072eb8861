"""Broker construction and topic administration."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from contracts.topics import PhysicalTopic, physical_topics
from eventing.settings import ConnectionSettings

log = logging.getLogger("eventing.kafka")


def new_broker(bootstrap_servers: str, *, client_id: str, graceful_timeout_s: float = 15.0) -> KafkaBroker:
    """A broker whose producer waits for all in-sync replicas and never duplicates on retry."""
    return KafkaBroker(
        bootstrap_servers,
        security=ConnectionSettings().broker_security(),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        graceful_timeout=graceful_timeout_s,
        allow_auto_create_topics=False,
        logger=logging.getLogger(f"faststream.{client_id}"),
        # FastStream's "Received" and "Processed" lines, two per message: debugging detail, not operations
        # (a write per line on the hot path; failures are still logged at their own level).
        log_level=logging.DEBUG,
    )


async def ensure_topics(
    bootstrap_servers: str, topics: list[PhysicalTopic] | None = None, replication_factor: int = 1
) -> list[str]:
    """Create the catalog's topics that do not exist yet (local stack and tests; Strimzi in production)."""
    wanted = topics if topics is not None else physical_topics()
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="topic-admin", **ConnectionSettings().client_kwargs()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(t.name, t.partitions, replication_factor, topic_configs=t.config) for t in missing]
                )
            except TopicAlreadyExistsError:
                pass  # a concurrent creator won the race; the topic is there either way
        return [t.name for t in missing]
    finally:
        await admin.close()
