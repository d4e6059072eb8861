"""The argon2id adapter: OWASP parameters, verify, rehash detection, timing helper."""

from __future__ import annotations

import pytest

from services.registration.adapters.argon2_hasher import Argon2PasswordHasher
from services.registration.domain.password import PasswordHasher


@pytest.fixture(scope="module")
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher()


def test_satisfies_the_domain_port(hasher: Argon2PasswordHasher) -> None:
    port: PasswordHasher = hasher
    assert port is hasher


def test_owasp_parameters_are_in_the_hash(hasher: Argon2PasswordHasher) -> None:
    encoded = hasher.hash("Tr0mpette-Bleue")
    assert encoded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "Tr0mpette" not in encoded


def test_salted(hasher: Argon2PasswordHasher) -> None:
    assert hasher.hash("Tr0mpette-Bleue") != hasher.hash("Tr0mpette-Bleue")


def test_verify(hasher: Argon2PasswordHasher) -> None:
    encoded = hasher.hash("Tr0mpette-Bleue")
    assert hasher.verify(encoded, "Tr0mpette-Bleue")
    assert not hasher.verify(encoded, "Tr0mpette-bleue")
    assert not hasher.verify("not a hash", "Tr0mpette-Bleue")
    assert not hasher.verify("$argon2id$v=19$m=19456,t=2,p=1$broken", "x")


def test_needs_rehash(hasher: Argon2PasswordHasher) -> None:
    weak = Argon2PasswordHasher(time_cost=1, memory_cost=8 * 1024)
    assert hasher.needs_rehash(weak.hash("Tr0mpette-Bleue"))
    assert not hasher.needs_rehash(hasher.hash("Tr0mpette-Bleue"))
    assert hasher.needs_rehash("garbage")


def test_dummy_verification_always_fails(hasher: Argon2PasswordHasher) -> None:
    assert hasher.verify_dummy("dummy-password-for-timing-equalisation") is False
