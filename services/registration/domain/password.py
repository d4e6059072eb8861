"""The password policy, and the port through which passwords are hashed.

Rules (the real form's, plus two OWASP additions):

- 8 to 128 characters, with at least one upper-case letter, one lower-case letter and one digit
  (the seeds' rule; accented letters count). The upper bound keeps argon2 hashing time bounded
  and refuses pasted megabytes.
- equal to its confirmation;
- not containing the NIR, nor the birth name (case- and accent-insensitive);
- not one of the most common passwords: the 30 000-entry password frequency list shipped offline
  with the ``zxcvbn`` package, compared case-insensitively, also after stripping leading/trailing
  digits and symbols and undoing common "leet" substitutions ("P@ssw0rd2024" is "password"), plus
  a few French and service-specific words missing from that English list ("Moncompte2015" is the
  example printed in the official tutorial). Refused with its own message.

Normalisation: passwords are NFKC-normalised before checks and hashing (NIST SP 800-63B), so the
same password typed on two keyboards that compose accents differently still matches. Login and
reset must therefore hash/verify :func:`normalise_password` of the input, never the raw text.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import Protocol

from services.registration.domain.errors import FieldError
from services.registration.domain.names import fold
from services.registration.domain.nir import Nir

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
_MIN_FOLDED_NAME = 3  # shorter name parts ("Le", "Ng") would refuse too many passwords by chance
_MIN_COMMON_BASE = 4  # "Abc1..." style stripped bases shorter than this are not meaningful words

# French and service-specific words the English zxcvbn list lacks (checked the same way).
_EXTRA_COMMON = frozenset(
    {
        "motdepasse",
        "moncompte",
        "moncompteformation",
        "compteformation",
        "monmotdepasse",
        "azerty",
        "azertyuiop",
        "bonjour",
        "soleil",
        "doudou",
        "loulou",
        "chouchou",
        "marseille",
        "formation",
        "cpf",
        "jetaime",
        "coucou",
        "bienvenue",
        "france",
        "nicolas",
        "camille",
    }
)
_DECORATION = "0123456789!?.,;:*_-+=#@$%&'\"()[]{}/\\|~^ "
_LEET = str.maketrans({"@": "a", "4": "a", "3": "e", "0": "o", "$": "s", "5": "s", "7": "t", "!": "i"})


class PasswordHasher(Protocol):
    """Port for password hashing; the argon2id adapter lives in ``adapters.argon2_hasher``.

    Implementations are CPU-bound (tens of milliseconds by design): async callers must run them
    off the event loop, e.g. ``await asyncio.to_thread(hasher.hash, password)``.
    """

    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


def normalise_password(raw: str) -> str:
    """NFKC form; never trimmed (spaces are legitimate password characters)."""
    return unicodedata.normalize("NFKC", raw)


@cache
def common_passwords() -> frozenset[str]:
    # Imported lazily: the list is large and only the sign-up and reset paths need it.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | _EXTRA_COMMON


def is_common_password(password: str) -> bool:
    """Case-insensitive match against the common list, also once decorated/leet forms are undone."""
    lowered = password.casefold()
    common = common_passwords()
    if lowered in common:
        return True
    candidates: set[str] = set()
    for base in (lowered, lowered.strip(_DECORATION)):
        candidates.add(base)
        for one in ("i", "l"):  # "1" stands for either letter
            unleeted = base.replace("1", one).translate(_LEET)
            candidates.update((unleeted, unleeted.strip(_DECORATION)))
    return any(len(c) >= _MIN_COMMON_BASE and c in common for c in candidates)


def _contains_birth_name(password: str, birth_name: str) -> bool:
    folded_password = fold(password)
    parts = [fold(p) for p in birth_name.replace("-", " ").replace("'", " ").split()]
    candidates = {fold(birth_name), *parts}
    return any(len(c) >= _MIN_FOLDED_NAME and c in folded_password for c in candidates)


def check_password(
    password: str | None,
    confirmation: str | None,
    *,
    nir: Nir | None = None,
    birth_name: str | None = None,
) -> list[FieldError]:
    """All errors on ``password`` and ``password_confirmation`` (empty list: acceptable).

    ``nir`` and ``birth_name`` are the already-validated values, when available; the checks that
    need them are skipped otherwise (their own fields carry the error).
    """
    errors: list[FieldError] = []
    pw = normalise_password(password or "")
    if not pw:
        errors.append(FieldError("password", "required", "Créez un mot de passe."))
    elif len(pw) > PASSWORD_MAX_LENGTH:
        errors.append(
            FieldError(
                "password",
                "too_long",
                f"Le mot de passe ne doit pas dépasser {PASSWORD_MAX_LENGTH} caractères.",
            )
        )
    else:
        errors.extend(_composition_errors(pw))
        if nir is not None and nir.value.casefold() in pw.casefold():
            errors.append(
                FieldError(
                    "password",
                    "contains_nir",
                    "Le mot de passe ne doit pas contenir votre numéro de sécurité sociale.",
                )
            )
        if birth_name and _contains_birth_name(pw, birth_name):
            errors.append(
                FieldError(
                    "password",
                    "contains_birth_name",
                    "Le mot de passe ne doit pas contenir votre nom de naissance.",
                )
            )
        if is_common_password(pw):
            errors.append(
                FieldError(
                    "password",
                    "too_common",
                    "Ce mot de passe fait partie des mots de passe les plus courants, faciles à deviner : "
                    "choisissez-en un autre. Une courte phrase de plusieurs mots est plus sûre.",
                )
            )
    confirm = normalise_password(confirmation or "")
    if not confirm:
        errors.append(
            FieldError(
                "password_confirmation",
                "required",
                "Confirmez votre mot de passe en le saisissant une seconde fois.",
            )
        )
    elif pw and confirm != pw:
        errors.append(FieldError("password_confirmation", "mismatch", "Les deux mots de passe ne sont pas identiques."))
    return errors


def _composition_errors(pw: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if len(pw) < PASSWORD_MIN_LENGTH:
        errors.append(
            FieldError(
                "password",
                "too_short",
                f"Le mot de passe doit comporter au moins {PASSWORD_MIN_LENGTH} caractères.",
            )
        )
    if not any(c.isupper() for c in pw):
        errors.append(
            FieldError(
                "password",
                "missing_uppercase",
                "Le mot de passe doit contenir au moins une lettre majuscule.",
            )
        )
    if not any(c.islower() for c in pw):
        errors.append(
            FieldError(
                "password",
                "missing_lowercase",
                "Le mot de passe doit contenir au moins une lettre minuscule.",
            )
        )
    if not any(c.isdecimal() for c in pw):
        errors.append(FieldError("password", "missing_digit", "Le mot de passe doit contenir au moins un chiffre."))
    return errors
