"""Fuzzing `unionml generate` (issue 13): every input gives a project that compiles (exit 0) or
diagnostics (exit 2); never a traceback, a hang, a memory blow-up or a file touched outside OUT.
See tests/fuzz/harness.py for the properties and tests/fuzz/strategies.py for the inputs.

The suite runs a short, fixed-seed run (derandomized). The long run is `scripts/fuzz` (docs/testing.md):
    FUZZ_EXAMPLES=5000 scripts/fuzz
which draws fresh inputs, keeps going after a failure and writes each finding (the app and what went
wrong) to FUZZ_FINDINGS (default `fuzz-findings/`). Every input that ever failed is kept in
tests/fuzz/regressions/ and replayed here.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from ..fuzz import harness
from ..fuzz.strategies import APPS, SCHEDULE_BASE

# Imported here so that forked runs do not import them again.
import unionml_codegen.cli  # noqa: F401
import unionml_codegen.generate  # noqa: F401
import unionml_codegen.render  # noqa: F401
import black  # noqa: F401
import jinja2  # noqa: F401

REGRESSIONS = Path(__file__).resolve().parents[1] / "fuzz" / "regressions"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
LONG = "FUZZ_EXAMPLES" in os.environ
FINDINGS = Path(os.environ["FUZZ_FINDINGS"]) if os.environ.get("FUZZ_FINDINGS") else None
PACKAGE_EVERY = int(os.environ.get("FUZZ_PACKAGE_EVERY", "50"))  # package one in N written projects

_written = 0
_seen = 0


def _record(source: str, outcome: harness.Outcome) -> None:
    """Keep a finding of the long run: the app, and what went wrong."""
    assert FINDINGS is not None
    signature = outcome.signature()
    group = FINDINGS / re.sub(r"[^A-Za-z0-9]+", "_", signature)[:80].strip("_")
    group.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    if len(list(group.glob("*.py"))) < 5:  # a few examples of each symptom are enough
        (group / f"{digest}.py").write_bytes(source.encode("utf-8", "surrogatepass"))
        stderr = "\n".join(line[:300] for line in outcome.run.stderr.splitlines()[-200:])
        report = "\n".join(outcome.problems) + "\n--- stderr (lines cut at 300 characters) ---\n" + stderr
        (group / f"{digest}.txt").write_text(report, encoding="utf-8", errors="backslashreplace")
    with open(FINDINGS / "log.txt", "a", encoding="utf-8") as log:
        log.write(f"{digest} {signature}\n")


@settings(
    max_examples=EXAMPLES,
    derandomize=not LONG,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)
@given(APPS)
def test_fuzzed_apps_compile_or_are_refused_without_traceback(source):
    global _written
    outcome = harness.check_app(source)
    if outcome.run.code == 0 and outcome.ok:
        _written += 1
        if PACKAGE_EVERY and _written % PACKAGE_EVERY == 1:
            outcome = harness.check_app(source, pyflyte=True)
    if FINDINGS is not None:
        global _seen
        _seen += 1
        if not outcome.ok:
            _record(source, outcome)
        if _seen % 25 == 0:
            (FINDINGS / "progress.txt").write_text(f"{_seen} inputs, {_written} projects written\n")
        return
    assert outcome.ok, _explain(source, outcome)


def _explain(source: str, outcome: harness.Outcome) -> str:
    return (
        "\n".join(outcome.problems)
        + f"\n--- stderr ---\n{outcome.run.stderr[-3000:]}\n--- app ---\n{source[-3000:]}"
        + "\nkeep it as a regression case in tests/fuzz/regressions/ once it is fixed"
    )


CASES = sorted(REGRESSIONS.glob("*.py"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_every_input_that_ever_failed_now_has_the_properties(case):
    source = case.read_bytes()
    # cases whose project used to fail `pyflyte package` are packaged again when they are written
    pyflyte = b"pyflyte package failed" in source.split(b"\n", 1)[0]
    outcome = harness.check_app(source, timeout=30, pyflyte=pyflyte)
    assert outcome.ok, _explain(source.decode("utf-8", "backslashreplace"), outcome)


def test_a_written_project_packages_and_passes_flyteadmins_rules():
    """The sample of written projects that is packaged with pyflyte, in the short run: one."""
    source = SCHEDULE_BASE + (
        'model.schedule_training("nightly", expression="0 0 * * MON-FRI", reader_time_arg="time", '
        'hyperparameters={"C": 1, "max_iter": 2**63}, labeled=True, launchplan_kwargs={"labels": {"a": "b"}})\n'
        'model.schedule_prediction("hourly", fixed_rate=timedelta(hours=1), reader_time_arg="time", '
        'model_file="model.joblib", labeled=False)\n'
    )
    outcome = harness.check_app(source, pyflyte=True)
    assert outcome.run.code == 0 and outcome.ok, _explain(source, outcome)


def test_the_command_line_has_the_properties_too():
    """The same checks through `python -m unionml_codegen` in a subprocess, for a hostile input."""
    source = (
        SCHEDULE_BASE + 'model.schedule_training("a", expression="@daily", reader_time_arg="time", labeled="yes")\n'
    )
    outcome = harness.check_app(source, runner=harness.subprocess_generate)
    assert outcome.run.code == 2 and outcome.ok, _explain(source, outcome)
    assert "error: the reader's labeled is 'yes'" in outcome.run.stderr


def test_the_harness_sees_each_kind_of_failure(monkeypatch):
    """The properties can fail: a traceback, a wrong exit code, a hang and a file written beside the app."""
    from unionml_codegen import generate

    def crash(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(generate, "render_app", crash)
    outcome = harness.check_app(SCHEDULE_BASE)
    assert "traceback on stderr" in outcome.problems and "exit code 99" in outcome.problems

    def hang(*args, **kwargs):
        while True:
            pass

    monkeypatch.setattr(generate, "render_app", hang)
    outcome = harness.check_app(SCHEDULE_BASE, timeout=1)
    assert outcome.problems == ["hang: no exit after 1 s"]

    def write_beside(app_path, *args, **kwargs):
        Path(app_path).with_name("stray.txt").write_text("x")
        raise SystemExit(2)

    monkeypatch.setattr(generate, "render_app", write_beside)
    outcome = harness.check_app(SCHEDULE_BASE)
    assert any(p.startswith("files outside OUT changed") and "'fuzzed/stray.txt'" in p for p in outcome.problems)
