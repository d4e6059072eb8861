"""The highest diploma, optional (not given by default, as on the real form; the French labels are the
pages' own: ``app/web/rendering.py``).

Levels follow the real site's list and the national qualification framework (décret 2019-14):
the European level is kept because the rights service needs it: a holder below level 3
(no diploma at CAP/BEP level) is "low-qualified" and earns increased CPF rights (L6323-11-1).
The real form tells public agents of category A or B to leave the field at "Non renseigné".
"""

from __future__ import annotations

from enum import StrEnum

from services.registration.domain.errors import FieldError


class Diploma(StrEnum):
    NOT_GIVEN = "not_given"
    NONE = "none"
    CAP_BEP = "cap_bep"
    BAC = "bac"
    BAC_PLUS_2 = "bac_plus_2"
    BAC_PLUS_3_4 = "bac_plus_3_4"
    BAC_PLUS_5_OR_MORE = "bac_plus_5_or_more"

    @property
    def european_level(self) -> int | None:
        """Level of the national framework (3 = CAP/BEP ... 7/8 = master/doctorate); None if unknown."""
        return _LEVELS[self]

    @property
    def low_qualified(self) -> bool | None:
        """Below level 3 (L6323-11-1); ``None`` when the holder did not say."""
        level = self.european_level
        if self is Diploma.NOT_GIVEN:
            return None
        return level is None or level < 3


_LEVELS: dict[Diploma, int | None] = {
    Diploma.NOT_GIVEN: None,
    Diploma.NONE: None,
    Diploma.CAP_BEP: 3,
    Diploma.BAC: 4,
    Diploma.BAC_PLUS_2: 5,
    Diploma.BAC_PLUS_3_4: 6,
    Diploma.BAC_PLUS_5_OR_MORE: 7,
}


def validate_diploma(raw: str | None) -> Diploma | FieldError:
    text = (raw or "").strip().casefold()
    if not text:
        return Diploma.NOT_GIVEN
    try:
        return Diploma(text)
    except ValueError:
        return FieldError(
            "highest_diploma",
            "invalid_choice",
            "Choisissez votre diplôme le plus élevé dans la liste, ou laissez « Non renseigné ».",
        )
