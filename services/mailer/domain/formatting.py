"""French renderings of dates and durations for mail bodies (no locale dependency: the container's
locale must not change what a holder reads)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def format_datetime_fr(moment: datetime, tz: ZoneInfo) -> str:
    """``3 mars 2025 à 14 h 05`` in the given zone (``1er`` for the first day, as French usage has it)."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    local = moment.astimezone(tz)
    day = "1er" if local.day == 1 else str(local.day)
    return f"{day} {_MONTHS[local.month - 1]} {local.year} à {local.hour} h {local.minute:02d}"


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def format_duration_fr(duration: timedelta) -> str:
    """``24 heures``, ``1 heure``, ``1 heure et 30 minutes``, ``2 jours``: how long a link stays valid.

    Rounded to the minute (a link issued a few milliseconds before its command was stamped is still a
    "24 heures" link); under a minute (test settings) it is ``moins d'une minute``, never an error: a
    mail must not fail over its wording."""
    total_minutes = round(duration.total_seconds() / 60)
    if total_minutes <= 0:
        return "moins d'une minute"
    days, rest = divmod(total_minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    # Durations up to two days read better in hours ("48 heures") as on most French sites.
    if days and total_minutes <= 48 * 60 and not minutes:
        hours += days * 24
        days = 0
    parts = []
    if days:
        parts.append(_plural(days, "jour", "jours"))
    if hours:
        parts.append(_plural(hours, "heure", "heures"))
    if minutes:
        parts.append(_plural(minutes, "minute", "minutes"))
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " et " + parts[-1]
