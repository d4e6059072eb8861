"""First name and birth name: letters (any script, accents included), spaces, hyphens, apostrophes.

Normalisation: Unicode NFC (a name typed on a Mac arrives decomposed), outer spaces trimmed, inner
runs of spaces collapsed, typographic apostrophes (’ ʼ ‘ `) turned into ``'``. The case is kept as
typed. A double hyphen is allowed: French civil status writes double names "Dupont--Durand".
"""

from __future__ import annotations

import re
import unicodedata

from services.registration.domain.errors import FieldError

NAME_MAX_LENGTH = 100  # generous: long compound and foreign names exist; bounded for storage and mails

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'", "`": "'", "´": "'"})
_SPACES = re.compile(r"\s+")
_SEPARATORS = frozenset(" -'")

_LABELS = {
    "first_name": ("Saisissez votre prénom (ex. : Chloé).", "Le prénom"),
    "birth_name": ("Saisissez votre nom de naissance (ex. : Dupont).", "Le nom de naissance"),
}


def normalise_name(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw).translate(_APOSTROPHES)
    return _SPACES.sub(" ", text).strip()


def _is_name_char(char: str) -> bool:
    if char in _SEPARATORS:
        return True
    # Letters of any script, plus combining marks that NFC could not fold into a letter.
    return unicodedata.category(char)[0] in ("L", "M")


MAX_MARKS_PER_LETTER = 2  # e.g. Vietnamese "ệ" decomposes to e + two marks when NFC cannot compose it


def _longest_mark_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if unicodedata.category(char)[0] == "M" else 0
        longest = max(longest, run)
    return longest


def validate_name(field: str, raw: str | None) -> str | FieldError:
    """The normalised name, or the error to show. ``field`` is ``first_name`` or ``birth_name``."""
    required_message, label = _LABELS[field]
    name = normalise_name(raw or "")
    if not name:
        return FieldError(field, "required", required_message)
    if len(name) > NAME_MAX_LENGTH:
        return FieldError(field, "too_long", f"{label} ne doit pas dépasser {NAME_MAX_LENGTH} caractères.")
    if not all(_is_name_char(c) for c in name):
        return FieldError(
            field,
            "invalid_characters",
            f"{label} ne peut contenir que des lettres (accentuées ou non), des espaces, des tirets et "
            "des apostrophes.",
        )
    if _longest_mark_run(name) > MAX_MARKS_PER_LETTER:
        # Real names carry at most a couple of diacritics per letter; a stack of them ("zalgo") only
        # garbles what staff and partners read.
        return FieldError(
            field, "invalid_characters", f"{label} contient trop d'accents sur une même lettre."
        )
    if unicodedata.category(name[0])[0] != "L" or unicodedata.category(name[-1])[0] not in "LM":
        return FieldError(field, "invalid_format", f"{label} doit commencer et se terminer par une lettre.")
    return name


def fold(text: str) -> str:
    """Case- and accent-insensitive form, letters and digits only (for "contains" comparisons)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed.casefold() if c.isalnum() and not unicodedata.combining(c))
