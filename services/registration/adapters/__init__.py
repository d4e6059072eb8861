"""Infrastructure adapters of the registration service (hashing, storage, messaging)."""
