"""Issue 21, item 12: `unionml generate --json` prints one document on stdout and nothing else."""

from __future__ import annotations

import json
import shutil

from ..helpers import EXAMPLES, run_cli


def _digits(tmp_path):
    work = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits", work, ignore=shutil.ignore_patterns("flyte2"))
    return work


def test_json_reports_each_outcome(tmp_path):
    work = _digits(tmp_path)
    clean = run_cli("generate", "app.py", "-o", "flyte", "--check", "--json", cwd=work)
    document = json.loads(clean.stdout)
    [project] = document["projects"]
    assert (document["exit"], project["status"], project["changed"]) == (0, "up to date", [])
    assert {d["code"] for d in project["diagnostics"]} == {"UMG209"}  # the warnings, as data
    (work / "flyte" / "Dockerfile").write_text("FROM evil\n")
    stale = run_cli("generate", "app.py", "-o", "flyte", "--diff", "--json", cwd=work)
    document = json.loads(stale.stdout)  # the diff is inside the document, not around it
    [project] = document["projects"]
    assert document["exit"] == 1 and project["status"] == "out of date" and project["changed"] == ["Dockerfile"]
    assert any("-FROM evil" in diff for diff in project["diffs"])
    written = json.loads(run_cli("generate", "app.py", "-o", "flyte", "--force", "--json", cwd=work).stdout)
    assert written["projects"][0]["status"] == "written" and written["projects"][0]["changed"] == ["Dockerfile"]
    app = work / "app.py"
    app.write_text(app.read_text().replace('expression="0 0 * * *"', 'expression="0 0 31 2 *"', 1))
    broken = run_cli("generate", "app.py", "-o", "flyte", "--json", cwd=work)
    document = json.loads(broken.stdout)
    assert document["exit"] == 2 and document["projects"][0]["status"] == "error"
    assert [d["severity"] for d in document["projects"][0]["diagnostics"]].count("error") >= 1


def test_json_reports_a_configuration_error(tmp_path):
    result = run_cli("generate", "--check", "--json", cwd=tmp_path)
    document = json.loads(result.stdout)
    assert result.returncode == 2 and document["exit"] == 2 and document["error"]["code"] == "UMG702"
