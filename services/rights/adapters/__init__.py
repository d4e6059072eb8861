"""Adapters of the rights service (contracts mapping, messaging, storage)."""
