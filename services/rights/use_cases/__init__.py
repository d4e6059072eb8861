"""The rights service's use cases: ``projection.py`` applies declarations and activations and publishes
balances; ``queries.py`` is what the holder's page reads; ``ports.py`` what they need from outside."""
