"""Case- and accent-blind comparison of typed answers.

People type on phones with auto-capitalisation, without accents, with a stray hyphen or an article
("le pantalon"); none of that should cost an attempt. The comparison form is: Unicode NFKD, combining
marks dropped, case folded, ligatures expanded, every run of non-alphanumeric characters turned into one
space.
"""

from __future__ import annotations

import unicodedata

# Ligatures NFKD leaves alone but a French keyboard produces.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae"})

# Leading articles are ignored in typed *words* (not in typed characters of the text variant).
_ARTICLES = ("l", "le", "la", "les", "un", "une", "des", "du", "de")

# Cap on what we even look at: an answer is a word, anything longer is junk or an attack.
MAX_TYPED_LENGTH = 64


def normalise_answer(text: str) -> str:
    """Comparison form of a typed answer: ``"  Écharpe! "`` → ``"echarpe"``."""
    text = text[: MAX_TYPED_LENGTH * 2].translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    kept: list[str] = []
    for ch in decomposed:
        if unicodedata.category(ch) == "Mn":  # the accents NFKD split off
            continue
        kept.append(ch if ch.isalnum() else " ")
    return " ".join("".join(kept).casefold().split())


def normalise_word(text: str) -> str:
    """Like :func:`normalise_answer`, without a leading French article: ``"l'Écharpe"`` → ``"echarpe"``."""
    words = normalise_answer(text).split(" ")
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    return " ".join(words)


def normalise_characters(text: str) -> str:
    """Comparison form for the distorted-characters variant: case-blind, spaces ignored."""
    return normalise_answer(text).replace(" ", "")
