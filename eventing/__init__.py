"""The delivery runtime every service shares: Kafka producers/consumers with the platform's rules.

Producers: ``acks=all``, idempotence on, envelope in CloudEvents headers, keyed by holder or request.
Consumers: commit after the effect, skip events already handled (by ``event_id``), retry transient
failures with back-off, and park poison messages on ``<topic>.dlq`` with the reason.
"""
