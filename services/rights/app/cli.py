"""``cpf-rights``: the rights simulator for partners and support staff.

    cpf-rights simulate FILE            # FILE, or - for stdin
    cpf-rights simulate FILE --as-of 2024-05-01 --history --keep-going

The input is ``{"holder": {"birth": "YYYY-MM"}, "events": [...]}`` with the events in their
partner-contract JSON form (``contracts.partners``, without the NIR; an optional ``event_id``). The
events are applied in date order by the same domain code as the service, and the balances are printed
as JSON. Invalid input: exit code 2 and the reason on stderr (with ``--keep-going``, the events are
recorded in file order as the service would, and refused ones — or ones whose predecessor never
comes, e.g. a cancellation of an unknown booking — are listed under ``"rejected"`` instead).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO

from contracts import strict_json
from contracts.partners import InvalidPartnerEvent, parse_partner_event
from services.rights.app.labels import label
from services.rights.domain import (
    Balances,
    HistoryLine,
    Holder,
    HolderRights,
    RightsError,
    RightsEvent,
    YearMonth,
)
from services.rights.use_cases.partner_mapping import to_domain_event

EXIT_OK = 0
EXIT_INVALID_INPUT = 2


class SimulationInputError(Exception):
    """The simulator's input cannot be simulated: one line per problem, each saying why."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Simulation:
    balances: Balances
    history: tuple[HistoryLine, ...]
    rejected: tuple[dict[str, Any], ...]


def _default_event_id(body: dict[str, Any], seen: dict[str, int]) -> str:
    # Derived from the content, not the position, so a shuffled input replays identically.
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    seen[digest] = seen.get(digest, 0) + 1
    return f"sim-{digest}" if seen[digest] == 1 else f"sim-{digest}-{seen[digest]}"


def _holder(document: Any) -> Holder:
    if not isinstance(document, dict):
        raise SimulationInputError('the input must be a JSON object {"holder": ..., "events": [...]}')
    unknown = sorted(set(document) - {"holder", "events"})
    if unknown:
        raise SimulationInputError(f'unknown field {unknown[0]!r} (the input has "holder" and "events")')
    holder = document.get("holder")
    if not isinstance(holder, dict) or "birth" not in holder:
        raise SimulationInputError('missing "holder": {"birth": "YYYY-MM"}')
    if set(holder) != {"birth"}:
        raise SimulationInputError(f'holder: unknown field {sorted(set(holder) - {"birth"})[0]!r} (only "birth")')
    try:
        return Holder(YearMonth.parse(holder["birth"]))
    except RightsError as error:
        raise SimulationInputError(f"holder: {error.reason}") from None


@dataclass
class _Parsed:
    events: list[RightsEvent]
    input_index: dict[str, int]  # event_id -> position in the input list
    rejected: list[dict[str, Any]]

    def problem(self, error: RightsError) -> dict[str, Any]:
        event = next((e for e in self.events if e.event_id == error.event_id), None)
        return {
            "index": self.input_index.get(error.event_id or "", -1),
            "type": _type_of(event) if event is not None else None,
            "code": str(error.code),
            "reason": error.reason,
        }


def _events(document: dict[str, Any], keep_going: bool) -> _Parsed:
    raw = document.get("events")
    if not isinstance(raw, list):
        raise SimulationInputError('"events" must be a list')
    parsed = _Parsed([], {}, [])
    seen: dict[str, int] = {}
    problems: list[str] = []
    for index, body in enumerate(raw):
        body_dict = dict(body) if isinstance(body, dict) else {}
        event_id = body_dict.pop("event_id", None)
        try:
            if not isinstance(body, dict):
                raise InvalidPartnerEvent("invalid_event", "an event is a JSON object")
            if event_id is not None and (not isinstance(event_id, str) or not event_id.strip()):
                # Never dropped: a redelivered event without its id would count twice.
                raise InvalidPartnerEvent("invalid_event", f"event_id: must be a non-empty string, got {event_id!r}")
            contract = parse_partner_event(body_dict)
            if event_id is None:
                event_id = _default_event_id(contract.model_dump(mode="json"), seen)
            parsed.events.append(to_domain_event(contract, event_id))
            parsed.input_index[event_id] = index
        except (InvalidPartnerEvent, RightsError) as error:
            problem = {
                "index": index,
                "type": body_dict.get("type"),
                "code": str(error.code),
                "reason": error.reason,
            }
            if keep_going:
                parsed.rejected.append(problem)
            else:
                problems.append(_describe(problem))
    if problems:
        raise SimulationInputError(*problems)
    return parsed


def _describe(problem: dict[str, Any]) -> str:
    return f"event #{problem['index']} ({problem['type']}): {problem['code']}: {problem['reason']}"


def simulate(document: Any, *, as_of: date | None = None, keep_going: bool = False) -> Simulation:
    """Run the simulator on a parsed input document (the function the command and the tests use)."""
    holder = _holder(document)
    parsed = _events(document, keep_going)
    if keep_going:
        rights, refused = HolderRights.record_all(holder, parsed.events)
        parsed.rejected.extend(parsed.problem(error) for error in refused)
        # The file is the whole history: an event still waiting for its predecessor will never get it.
        parsed.rejected.extend(parsed.problem(error) for _, error in rights.held)
    else:
        try:
            rights = HolderRights.replay(holder, parsed.events)
        except RightsError as error:
            raise SimulationInputError(_describe(parsed.problem(error))) from None
    rejected = tuple(sorted(parsed.rejected, key=lambda problem: int(problem["index"])))
    return Simulation(rights.balances(as_of), rights.history(as_of), rejected)


_TYPE_NAMES = {
    "WorkYear": "work_year",
    "LegacyCpfHours": "legacy_cpf_hours",
    "LowQualificationDeclared": "low_qualification_declared",
    "LowQualificationEnded": "low_qualification_ended",
    "Retired": "retirement",
    "DisabilityStatus": "disability_status",
    "DifRegistered": "dif_registered",
    "CecActivity": "cec_activity",
    "C2pExposure": "c2p_exposure",
    "C2pPointsUsed": "c2p_points_used",
    "Abondement": "abondement",
    "TrainingBooked": "training_booked",
    "TrainingStarted": "training_started",
    "TrainingRefunded": "training_refunded",
    "TrainingCancelled": "training_cancelled",
}


def _type_of(event: RightsEvent) -> str:
    return _TYPE_NAMES[type(event).__name__]


def _money(amount: Any) -> str:
    return f"{amount:.2f}"


def render(simulation: Simulation, *, with_history: bool = False) -> dict[str, Any]:
    """The simulator's JSON output: amounts as decimal strings with two decimals."""
    b = simulation.balances
    output: dict[str, Any] = {
        "cpf": {
            "rights_eur": _money(b.cpf.rights_eur),
            "dif_eur": _money(b.cpf.dif_eur),
            "abondements_eur": _money(b.cpf.abondements_eur),
            "reserved_eur": _money(b.cpf.reserved_eur),
            "usable_eur": _money(b.cpf.usable_eur),
            "ceiling_eur": _money(b.cpf.ceiling_eur),
        },
        "cec": {"eur": _money(b.cec.eur)},
        "c2p": {"points": b.c2p.points, "reserved_for_training": b.c2p.reserved_for_training},
        "public_hours": b.public_hours,
    }
    if with_history:
        output["history"] = [
            {
                "account": line.account.value,
                "date": line.on.isoformat(),
                "label": label(line),
                "amount": _money(line.amount) if line.unit.value == "EUR" else int(line.amount),
                "unit": line.unit.value,
            }
            for line in simulation.history
        ]
    if simulation.rejected:
        output["rejected"] = list(simulation.rejected)
    return output


def _read(path: str, stdin: TextIO) -> Any:
    raw: bytes | str
    try:
        if path == "-":
            buffer = getattr(stdin, "buffer", None)
            raw = buffer.read() if buffer is not None else stdin.read()
        else:
            with open(path, "rb") as handle:
                raw = handle.read()
    except OSError as error:
        raise SimulationInputError(f"cannot read {path}: {error.strerror}") from None
    try:
        return strict_json.loads(raw)
    except strict_json.InvalidJson as error:
        raise SimulationInputError(f"{path}: {error.reason}") from None


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cpf-rights", description="Training-rights tools (CPF, DIF, CEC, C2P).")
    commands = parser.add_subparsers(dest="command", required=True)
    simulate_cmd = commands.add_parser(
        "simulate",
        help="project balances from partner events",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulate_cmd.add_argument("file", metavar="FILE", help='JSON input file, or "-" for stdin')
    simulate_cmd.add_argument("--as-of", type=_iso_date, help="balances at this date (default: after all events)")
    simulate_cmd.add_argument("--history", action="store_true", help="also print the history lines")
    simulate_cmd.add_argument(
        "--keep-going", action="store_true", help='list refused events under "rejected" instead of failing'
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        document = _read(args.file, stdin or sys.stdin)
        simulation = simulate(document, as_of=args.as_of, keep_going=args.keep_going)
    except SimulationInputError as error:
        for problem in error.problems:
            print(f"cpf-rights: invalid input: {problem}", file=err)
        return EXIT_INVALID_INPUT
    json.dump(render(simulation, with_history=args.history), out, indent=2, ensure_ascii=False)
    out.write("\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
