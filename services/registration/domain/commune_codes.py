"""INSEE commune codes that changed after people were born there: data for the NIR cross-check.

A NIR keeps the code of the birth commune **as it was at birth**; FranceConnect's ``birthplace`` may carry
the code in force today. The two differ when the commune merged into another one (a "commune nouvelle",
absorption) or changed department. This module says which differences are explained.

Source: INSEE, Code officiel géographique (COG), "mouvements des communes" since 1943 (the dates are the
dates of effect there). Each row was read in that history; the figures in comments are INSEE's names.

**The merger table is partial**: France went from about 36,700 communes in 2015 to about 34,900 in 2024,
mostly through communes nouvelles, and only a sample is listed here (the cases the tests and support
meet first). A difference this table does not explain, inside one department, is reported by the
cross-check as "cannot check" (:class:`~.identity_check.CannotCheckReason.COMMUNE_CODE_CHANGED`),
never as a match. Production should load the whole COG history instead (docs/identity.md, "Still missing").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class CodeChange:
    """From ``effective``, the territory of commune ``old`` belongs to the commune coded ``new``."""

    old: str
    new: str
    effective: date
    note: str


MERGED_COMMUNES: tuple[CodeChange, ...] = (
    # Annecy (74010) becomes a commune nouvelle with five neighbours.
    CodeChange("74011", "74010", date(2017, 1, 1), "Annecy-le-Vieux -> Annecy"),
    CodeChange("74093", "74010", date(2017, 1, 1), "Cran-Gevrier -> Annecy"),
    CodeChange("74182", "74010", date(2017, 1, 1), "Meythet -> Annecy"),
    CodeChange("74217", "74010", date(2017, 1, 1), "Pringy -> Annecy"),
    CodeChange("74268", "74010", date(2017, 1, 1), "Seynod -> Annecy"),
    # Évry (91228) and Courcouronnes become Évry-Courcouronnes.
    CodeChange("91182", "91228", date(2019, 1, 1), "Courcouronnes -> Évry-Courcouronnes"),
    # Cherbourg: Octeville absorbed in 2000, then the commune nouvelle Cherbourg-en-Cotentin (50129).
    CodeChange("50383", "50129", date(2000, 2, 28), "Octeville -> Cherbourg-Octeville"),
    CodeChange("50173", "50129", date(2016, 1, 1), "Équeurdreville-Hainneville -> Cherbourg-en-Cotentin"),
    CodeChange("50203", "50129", date(2016, 1, 1), "La Glacerie -> Cherbourg-en-Cotentin"),
    CodeChange("50416", "50129", date(2016, 1, 1), "Querqueville -> Cherbourg-en-Cotentin"),
    CodeChange("50602", "50129", date(2016, 1, 1), "Tourlaville -> Cherbourg-en-Cotentin"),
    # Baugé-en-Anjou (49018), first step of 2013.
    CodeChange("49213", "49018", date(2013, 1, 1), "Montpollin -> Baugé-en-Anjou"),
    CodeChange("49245", "49018", date(2013, 1, 1), "Pontigné -> Baugé-en-Anjou"),
    CodeChange("49303", "49018", date(2013, 1, 1), "Saint-Martin-d'Arcé -> Baugé-en-Anjou"),
    CodeChange("49372", "49018", date(2013, 1, 1), "Le Vieil-Baugé -> Baugé-en-Anjou"),
    # The Seine and Seine-et-Oise departments split on 1 January 1968: the commune keeps its 3 digits
    # under a new department. A few of the largest; others are "cannot check" (DEPARTMENT_RECODED_1968).
    CodeChange("75012", "92012", date(1968, 1, 1), "Boulogne-Billancourt, Seine -> Hauts-de-Seine"),
    CodeChange("75066", "93066", date(1968, 1, 1), "Saint-Denis, Seine -> Seine-Saint-Denis"),
    CodeChange("75028", "94028", date(1968, 1, 1), "Créteil, Seine -> Val-de-Marne"),
    CodeChange("78228", "91228", date(1968, 1, 1), "Évry, Seine-et-Oise -> Essonne"),
    CodeChange("78477", "91477", date(1968, 1, 1), "Palaiseau, Seine-et-Oise -> Essonne"),
    CodeChange("78127", "95127", date(1968, 1, 1), "Cergy, Seine-et-Oise -> Val-d'Oise"),
    # Saint-Barthélemy and Saint-Martin leave Guadeloupe (971) and become collectivités (977, 978).
    CodeChange("97123", "97701", date(2007, 7, 15), "Saint-Barthélemy, Guadeloupe -> collectivité"),
    CodeChange("97127", "97801", date(2007, 7, 15), "Saint-Martin, Guadeloupe -> collectivité"),
)

# Seine (75) and Seine-et-Oise (78) were split into 75, 78, 91, 92, 93, 94 and 95 on this date.
ILE_DE_FRANCE_SPLIT = date(1968, 1, 1)
ILE_DE_FRANCE_OLD = frozenset({"75", "78"})
ILE_DE_FRANCE_NEW = frozenset({"75", "78", "91", "92", "93", "94", "95"})

# Communes with municipal arrondissements: a NIR carries the arrondissement's code, FranceConnect may
# give the commune's (INSEE COG: Paris 75101-75120, Marseille 13201-13216, Lyon 69381-69389).
ARRONDISSEMENTS: dict[str, frozenset[str]] = {
    "75056": frozenset(f"751{n:02d}" for n in range(1, 21)),
    "13055": frozenset(f"132{n:02d}" for n in range(1, 17)),
    "69123": frozenset(f"6938{n}" for n in range(1, 10)),
}


def explained_change(nir_code: str, provider_code: str, born: date) -> CodeChange | None:
    """The table's row explaining why a person born on ``born`` in ``nir_code`` is now in ``provider_code``."""
    for change in MERGED_COMMUNES:
        if change.old == nir_code and change.new == provider_code and born < change.effective:
            return change
    return None
