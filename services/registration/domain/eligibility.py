"""Who may open an account: 16 years old, or 15 with an apprenticeship contract (Code du travail
L6323-2 and the CPF guide: "plus de 16 ans, et pour les jeunes de 15 ans ayant signé un contrat
d'apprentissage").

The NIR gives only the birth year and (usually) the month, never the day. Rules:

- **Known month**: the age is counted in whole months, as the real site can only do: the holder is
  16 from the first day of their 16th-birthday month. (Counting from the month's last day would
  refuse up to 30 days of real 16-year-olds for no legal gain: rights accrue from activity anyway.)
- **Unknown month** (INSEE codes 20-30, 50-99): conservatively, the latest possible month,
  December, so nobody younger than the threshold gets in: eligible from 1 December of the year the
  holder turns 16 (15 with an apprenticeship).
"""

from __future__ import annotations

from datetime import date

from services.registration.domain.errors import FieldError
from services.registration.domain.nir import BirthYearMonth

MIN_AGE = 16
MIN_AGE_WITH_APPRENTICESHIP = 15


def minimum_age(apprenticeship_contract: bool) -> int:
    return MIN_AGE_WITH_APPRENTICESHIP if apprenticeship_contract else MIN_AGE


def earliest_signup_date(birth: BirthYearMonth, apprenticeship_contract: bool) -> date:
    """The first day the holder is old enough, with the month rules above."""
    month = birth.month if birth.month is not None else 12  # unknown month: assume the latest
    return date(birth.year + minimum_age(apprenticeship_contract), month, 1)


def is_eligible(birth: BirthYearMonth, today: date, apprenticeship_contract: bool) -> bool:
    return today >= earliest_signup_date(birth, apprenticeship_contract)


def check_eligibility(birth: BirthYearMonth, today: date, apprenticeship_contract: bool) -> FieldError | None:
    """``None`` when eligible, else the error to show on the NIR field (the age comes from it)."""
    if is_eligible(birth, today, apprenticeship_contract):
        return None
    if not apprenticeship_contract and is_eligible(birth, today, apprenticeship_contract=True):
        return FieldError(
            "apprenticeship_contract",
            "too_young_without_apprenticeship",
            "L'inscription est ouverte à partir de 16 ans, ou de 15 ans avec un contrat "
            "d'apprentissage : si vous avez signé un contrat d'apprentissage, cochez la case "
            "correspondante.",
        )
    when = earliest_signup_date(birth, apprenticeship_contract)
    return FieldError(
        "nir",
        "too_young",
        "L'inscription est ouverte à partir de 16 ans (15 ans avec un contrat d'apprentissage). "
        f"D'après votre numéro de sécurité sociale, vous pourrez vous inscrire à partir du "
        f"{when:%d/%m/%Y}.",
    )
