"""The French words of the holder's history ("Voir mes droits"): one label per history line, made from
what the domain recorded (``HistoryLine.kind`` and its ``details``, see ``domain/ledger.py``).

Presentation only: the domain decides amounts and outcomes, this module says them in French.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from services.rights.domain import CecCategory, CecOutcome, CreditOutcome, HistoryLine, LineKind, NotCredited
from services.rights.domain.ledger import Detail
from services.rights.domain.money import fr_eur

PAYER_LABELS = {
    "employer": "employeur",
    "opco": "OPCO",
    "state": "État",
    "region": "région",
    "france_travail": "France Travail",
    "agefiph": "Agefiph",
    "holder": "titulaire",
    "c2p": "compte professionnel de prévention",
    "at_mp": "branche AT/MP",
}

CEC_LABELS = {
    CecCategory.CIVIC_SERVICE: "service civique",
    CecCategory.MILITARY_RESERVE: "réserve militaire opérationnelle",
    CecCategory.POLICE_OPERATIONAL_RESERVE: "réserve opérationnelle de la police nationale",
    CecCategory.DEFENCE_CITIZEN_RESERVE: "réserve citoyenne de défense et de sécurité",
    CecCategory.MUNICIPAL_CIVIL_SECURITY_RESERVE: "réserve communale de sécurité civile",
    CecCategory.EDUCATION_CITIZEN_RESERVE: "réserve citoyenne de l'Éducation nationale",
    CecCategory.POLICE_CITIZEN_RESERVE: "réserve civile de la police nationale",
    CecCategory.CIVIC_RESERVE: "réserve civique",
    CecCategory.HEALTH_RESERVE: "réserve sanitaire",
    CecCategory.APPRENTICE_MASTER: "maître d'apprentissage",
    CecCategory.ASSOCIATION_BOARD: "bénévolat associatif (direction ou encadrement)",
    CecCategory.CARER: "proche aidant",
    CecCategory.VOLUNTEER_FIREFIGHTER: "sapeur-pompier volontaire",
}


def label(line: HistoryLine) -> str:
    """The line's label as the holder reads it, e.g. ``Abondement : employeur``."""
    return _LABELS[line.kind](line.details)


def _eur(value: Detail) -> str:
    assert isinstance(value, Decimal)
    return fr_eur(value)


def _not_credited(d: tuple[Detail, ...]) -> str:
    year, why, retired_on = d
    if why == NotCredited.RETIRED:
        assert isinstance(retired_on, date)
        reason = f"titulaire retraité depuis le {retired_on.strftime('%d/%m/%Y')}, L5151-2"
    elif why == NotCredited.UNDER_16_WITHOUT_APPRENTICESHIP:
        reason = "moins de 16 ans sans contrat d'apprentissage, L5151-2"
    else:
        reason = "contribution à la formation professionnelle non acquittée, L6323-27"
    return f"Activité {year} : aucun droit ({reason})"


def _credit_outcome(outcome: Detail, ceiling: Detail, reserved: Detail) -> str:
    if outcome == CreditOutcome.CUT_AT_CEILING:
        held = f", dont {_eur(reserved)} réservés pour une formation non commencée" if reserved is not None else ""
        return f" (limitée au plafond de {_eur(ceiling)}{held})"
    if outcome == CreditOutcome.NOTHING_MORE:
        return " : aucun droit supplémentaire"
    return ""


def _work_year(d: tuple[Detail, ...]) -> str:
    year, low_qualified, outcome, ceiling, reserved = d
    text = f"Alimentation CPF au titre de l'activité {year}"
    if low_qualified:
        text += " (salarié peu qualifié)"
    return text + _credit_outcome(outcome, ceiling, reserved)


def _boeth(d: tuple[Detail, ...]) -> str:
    year, outcome, ceiling, reserved = d
    text = f"Majoration bénéficiaire de l'obligation d'emploi (BOETH) au titre de {year}"
    return text + _credit_outcome(outcome, ceiling, reserved)


def _public_hours(d: tuple[Detail, ...]) -> str:
    year, ceiling = d
    text = f"Heures CPF (fonction publique) au titre de {year}"
    return text + (f" (plafond de {ceiling} h)" if ceiling is not None else "")


def _legacy(d: tuple[Detail, ...]) -> str:
    hours, rate, ceiling = d
    text = f"Conversion des {hours} h CPF acquises avant 2019 ({_eur(rate)}/h)"
    return text + (f" (limitée au plafond de {_eur(ceiling)})" if ceiling is not None else "")


def _dif(d: tuple[Detail, ...]) -> str:
    hours, rate, ceiling = d
    text = f"Heures DIF inscrites : {hours} h × {_eur(rate)}"
    return text + (f" (limitées au plafond de {_eur(ceiling)})" if ceiling is not None else "")


def _cec(d: tuple[Detail, ...]) -> str:
    year, category, outcome, note = d
    text = f"Engagement citoyen {year} : {CEC_LABELS[CecCategory(str(category))]}"
    if outcome == CecOutcome.ALREADY_ACQUIRED:
        return text + " (déjà acquis pour cette année)"
    if outcome == CecOutcome.MINIMUM_NOT_MET:
        return text + f" (seuil non atteint, {note})"
    if outcome == CecOutcome.CUT_AT_CEILING:
        return text + f" (limité au plafond de {_eur(note)})"
    return text


def _booked(d: tuple[Detail, ...]) -> str:
    booking_id, price, participation, holder_pays, nothing_used = d
    text = f"Formation {booking_id} réservée (prix {_eur(price)}, participation forfaitaire {_eur(participation)})"
    if isinstance(holder_pays, Decimal) and holder_pays > 0:
        text += f", reste à payer par le titulaire {_eur(holder_pays)}"
    return text + (" : aucun droit utilisé" if nothing_used else "")


_LABELS: dict[LineKind, Callable[[tuple[Detail, ...]], str]] = {
    LineKind.NOT_CREDITED: _not_credited,
    LineKind.WORK_YEAR: _work_year,
    LineKind.BOETH: _boeth,
    LineKind.PUBLIC_HOURS: _public_hours,
    LineKind.LEGACY_CONVERSION: _legacy,
    LineKind.RETIRED: lambda d: (
        "Retraite : le CPF n'est plus alimenté ni utilisable ; le CEC reste utilisable (L5151-2)"
    ),
    LineKind.DIF_REGISTERED: _dif,
    LineKind.CEC_ACTIVITY: _cec,
    LineKind.C2P_EXPOSURE: lambda d: (
        f"Points C2P au titre de {d[0]} : {d[1]} trimestre(s) d'exposition, {d[2]} facteur(s)"
    ),
    LineKind.C2P_USED_FOR_TRAINING: lambda d: f"Points C2P utilisés pour une formation ({_eur(d[0])}/point)",
    LineKind.C2P_TOP_UP: lambda d: f"Abondement : {d[0]} points C2P × {_eur(d[1])}",
    LineKind.C2P_RETIREMENT: lambda d: f"Points C2P utilisés : {d[0]} trimestre(s) de retraite",
    LineKind.C2P_PART_TIME: lambda d: f"Points C2P utilisés : passage à temps partiel ({d[0]} bloc(s))",
    LineKind.ABONDEMENT: lambda d: f"Abondement : {PAYER_LABELS.get(str(d[0]), str(d[0]))}",
    LineKind.TRAINING_BOOKED: _booked,
    LineKind.TRAINING_STARTED: lambda d: f"Entrée en formation {d[0]} : {_eur(d[1])} de droits utilisés",
    LineKind.TRAINING_REFUNDED: lambda d: f"Remboursement partiel de la formation {d[0]} : droits restitués",
    LineKind.TRAINING_CANCELLED: lambda d: f"Annulation de la formation {d[0]} : droits restitués",
}
