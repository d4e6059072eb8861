"""The ``cpf-rights`` command itself: files, stdin, exit codes, stderr."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from services.rights.app.cli import main

INPUT = {
    "holder": {"birth": "1985-03"},
    "events": [
        {"type": "work_year", "year": 2022, "hours": 1607},
        {"type": "work_year", "year": 2023, "hours": 400},
    ],
}


def run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_simulate_a_file(tmp_path: Path) -> None:
    path = tmp_path / "holder.json"
    path.write_text(json.dumps(INPUT), encoding="utf-8")
    code, out, err = run(["simulate", str(path)])
    assert (code, err) == (0, "")
    assert json.loads(out)["cpf"]["rights_eur"] == "624.46"


def test_simulate_stdin_as_of_and_history() -> None:
    code, out, _ = run(["simulate", "-", "--as-of", "2023-05-01", "--history"], json.dumps(INPUT))
    output = json.loads(out)
    assert code == 0
    assert output["cpf"]["rights_eur"] == "500.00"
    assert output["history"] == [
        {
            "account": "cpf_rights",
            "date": "2023-04-30",
            "label": "Alimentation CPF au titre de l'activité 2022",
            "amount": "500.00",
            "unit": "EUR",
        }
    ]


def test_invalid_inputs_exit_2_with_a_reason_on_stderr(tmp_path: Path) -> None:
    cases = {
        "not json": "not valid JSON",
        json.dumps({"events": []}): 'missing "holder"',
        json.dumps({"holder": {"birth": "85-03"}, "events": []}): "birth must be YYYY-MM",
        json.dumps({"holder": {"birth": "1985-03"}, "events": {}}): '"events" must be a list',
        json.dumps({"holder": {"birth": "1985-03"}, "events": [{"type": "nope"}]}): "event #0 (nope): unknown_type",
        json.dumps(
            {"holder": {"birth": "1985-03"}, "events": [{"type": "work_year", "year": 2023, "hours": -1}]}
        ): "event #0 (work_year): invalid_event",
    }
    for stdin, fragment in cases.items():
        code, out, err = run(["simulate", "-"], stdin)
        assert code == 2, stdin
        assert out == ""
        assert fragment in err, err
    code, _, err = run(["simulate", str(tmp_path / "missing.json")])
    assert code == 2
    assert "cannot read" in err


def test_keep_going_lists_the_refused_events() -> None:
    document = {
        "holder": {"birth": "1985-03"},
        "events": [
            {"type": "dif_registered", "hours": 90, "date": "2021-06-01"},
            {"type": "training_cancelled", "booking_id": "X", "date": "2024-01-01"},
            {"type": "oops"},
        ],
    }
    code, out, _ = run(["simulate", "-", "--keep-going"], json.dumps(document))
    output = json.loads(out)
    assert code == 0
    assert output["cpf"]["dif_eur"] == "1350.00"
    assert [(r["index"], r["code"]) for r in output["rejected"]] == [
        (1, "unknown_booking"),
        (2, "unknown_type"),
    ]


def test_the_installed_command_runs_in_a_subprocess() -> None:
    script = Path(sys.executable).parent / "cpf-rights"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "services.rights.app.cli"]
    done = subprocess.run(
        [*command, "simulate", "-"], input=json.dumps(INPUT), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["cpf"]["usable_eur"] == "624.46"
    bad = subprocess.run([*command, "simulate", "-"], input="{}", capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "cpf-rights: invalid input" in bad.stderr
