"""Diagnostic codes: one registry (codes.py), every report names its code, docs/errors.md documents
each code with an example that gives it, and the CLI prints the codes."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from unionml_codegen import codes
from unionml_codegen.codes import REGISTRY
from unionml_codegen.diagnostics import AppError
from unionml_codegen.options import Options
from unionml_codegen.generate import render_app

from ..helpers import EXAMPLES, REPO, run_cli

SOURCE = REPO / "src" / "unionml_codegen"
ERRORS_MD = REPO / "docs" / "errors.md"
CODE = re.compile(r"UMG\d{3}")
CONSTANTS = {name: value for name, value in vars(codes).items() if isinstance(value, codes.Code)}

#: Codes whose docs/errors.md example is not an app: they need files, options or a broken machine.
#: Several of them are exercised through the CLI below.
NOT_FROM_AN_APP = {
    "UMG117", "UMG401", "UMG407", "UMG409", "UMG501", "UMG504", "UMG511", "UMG512", "UMG513", "UMG516", "UMG517",
    "UMG410", "UMG411", "UMG412", "UMG413", "UMG414", "UMG415",  # --train-models (tests/e2e/test_train_models.py)
    "UMG601", "UMG602", "UMG603", "UMG604", "UMG605", "UMG606", "UMG607", "UMG608", "UMG609", "UMG610",
    "UMG701", "UMG702", "UMG703", "UMG704", "UMG705", "UMG706", "UMG707", "UMG901",
} | {key for key, code in REGISTRY.items() if code.area == codes.OPERATING}  # fmt: skip (tests/operate/test_operate_errors.py)


#: Examples that necessarily give a second code, as their docs/errors.md entry says.
ALSO = {"UMG509": {"UMG506"}}


def _sections() -> dict[str, str]:
    text = ERRORS_MD.read_text()
    parts = re.split(r'<a id="(UMG\d{3})"></a>\n', text)
    return dict(zip(parts[1::2], parts[2::2]))


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def _source_modules() -> dict[str, ast.Module]:
    return {path.relative_to(SOURCE).as_posix(): ast.parse(path.read_text()) for path in sorted(SOURCE.rglob("*.py"))}


def test_the_registry_is_well_formed():
    assert len(REGISTRY) == len(CONSTANTS) >= 60
    names = [code.name for code in REGISTRY.values()]
    assert len(set(names)) == len(names)
    for key, code in REGISTRY.items():
        assert key == code.code and re.fullmatch(r"UMG[1-9]\d\d", key)
        assert code.area  # a known area
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", code.name)
        assert code.severity in ("error", "warning") and code.summary
    with pytest.raises(ValueError):
        codes._code("UMG101", "another-name", "error", "taken")


def test_every_report_in_the_source_names_a_registered_code_and_every_code_is_used():
    used: set[str] = set()
    for module_name, tree in _source_modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "codes":
                assert node.attr in CONSTANTS or node.attr in ("Code", "tagged"), f"{module_name}: codes.{node.attr}"
                if node.attr in CONSTANTS:
                    used.add(node.attr)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                method = node.func.attr
                receiver = ast.unparse(node.func.value)
                if method in ("error", "warning", "error_in") and "diagnostics" in receiver:
                    first = node.args[0] if node.args else None
                    assert first is not None, f"{module_name}:{node.lineno}: {receiver}.{method}() names no code"
                    shown = ast.unparse(first)
                    named = (
                        shown.startswith("codes.") or shown in ("exc.code", "code") or isinstance(first, ast.Starred)
                    )
                    assert named, f"{module_name}:{node.lineno}: {receiver}.{method}({shown}, ...) names no code"
                    if shown.startswith("codes."):
                        severity = CONSTANTS[shown.removeprefix("codes.")].severity
                        assert severity == ("warning" if method == "warning" else "error"), (module_name, node.lineno)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and module_name != "codes.py":
                assert not CODE.search(node.value), f"{module_name}:{node.lineno}: a code written out: {node.value!r}"
    unused = {CONSTANTS[name].code for name in CONSTANTS} - {CONSTANTS[name].code for name in used}
    assert not unused, f"registered but never reported: {sorted(unused)}"


def test_every_code_is_documented_once_with_its_name_and_a_fix_and_nothing_else_is():
    text = ERRORS_MD.read_text()
    sections = _sections()
    assert sorted(sections) == sorted(REGISTRY)
    assert len(re.findall(r'<a id="UMG\d{3}"></a>', text)) == len(REGISTRY)
    for key, body in sections.items():
        code = REGISTRY[key]
        assert body.startswith(f"### {key} {code.name}\n"), key
        assert f"**{code.severity.title()}.**" in body, key
        assert "**Fix:**" in body, key
        assert "```" in body, f"{key} has no example"
    documented = {c for c in CODE.findall(text)}
    assert documented <= set(REGISTRY), sorted(documented - set(REGISTRY))


def test_rules_cross_reference_the_codes():
    rules = (REPO / "docs" / "rules.md").read_text()
    referenced = set(CODE.findall(rules))
    assert referenced <= set(REGISTRY)
    missing = set(REGISTRY) - referenced - {c for c in REGISTRY if c[3] in "6789"}
    assert not missing, f"docs/rules.md does not mention {sorted(missing)}"
    assert "errors.md#UMG201" in rules


def _base_app() -> str:
    head = ERRORS_MD.read_text().split("## The app the examples extend", 1)[1]
    return _python_blocks(head)[0]


def _examples() -> list[tuple[str, str, bool]]:
    """(code, app, whether the example adds a Dataset or Model to the base app)."""
    found = []
    for key, body in _sections().items():
        blocks = _python_blocks(body)
        if key in NOT_FROM_AN_APP:
            assert not blocks, f"{key}: a python example, but listed as not from an app"
            continue
        assert len(blocks) == 1, f"{key}: one python example expected"
        block = blocks[0]
        if "from unionml import" in block:
            found.append((key, block, False))
        else:
            adds = re.search(r"\b(Dataset|Model)(\(|\.from_)", block) is not None
            found.append((key, _base_app() + "\n\n" + block, adds))
    return found


def _codes_of(app: str, tmp_path: Path, target: str = "flyte1") -> tuple[set[str], set[str]]:
    (tmp_path / "pyproject.toml").write_text("")  # the project's root, for model paths
    for name in ("model.bin", "model.joblib"):  # the model files the examples name
        (tmp_path / name).write_bytes(b"model")
    path = tmp_path / "app.py"
    path.write_text(app)
    try:
        result = render_app(path, tmp_path / "flyte", Options(target=target))
    except AppError as exc:
        return {d.code for d in exc.diagnostics.errors}, {d.code for d in exc.diagnostics if d.severity == "warning"}
    return set(), {d.code for d in result.diagnostics}


@pytest.mark.parametrize("target", ["flyte1", "flyte2"])
def test_the_base_app_of_the_examples_generates_cleanly(tmp_path, target):
    assert _codes_of(_base_app(), tmp_path, target) == (set(), set())


@pytest.mark.parametrize("key, app, adds_objects", _examples(), ids=[key for key, _, _ in _examples()])
def test_each_documented_example_gives_its_code_and_no_other_error(key, app, adds_objects, tmp_path):
    errors, warnings = _codes_of(app, tmp_path, "flyte2" if key.startswith("UMG8") else "flyte1")
    if REGISTRY[key].severity == "error":
        # a Dataset or Model the example adds may lack components the base app's have (UMG107)
        also = ALSO.get(key, set()) | ({"UMG107"} if adds_objects else set())
        assert key in errors and errors - also == {key}, (errors, warnings)
    else:
        assert not errors and key in warnings, (errors, warnings)


def test_an_untyped_workflow_input_is_an_error_even_without_a_schedule_not_an_internal_error(tmp_path):
    """A reader parameter or keyword-only trainer parameter without an annotation used to reach the
    renderer (`limit:  = 100`), which failed with UMG901 when no schedule checked it first."""
    app = _base_app().replace("def reader(time: datetime)", "def reader(time: datetime, limit=100)")
    app = app.replace(
        "target: pd.DataFrame) -> LogisticRegression", "target: pd.DataFrame, *, epochs=3) -> LogisticRegression"
    )
    (tmp_path / "app.py").write_text(app)
    with pytest.raises(AppError) as raised:
        render_app(tmp_path / "app.py", tmp_path / "flyte")
    found = [(d.code, d.message) for d in raised.value.diagnostics]
    assert found == [
        ("UMG307", "the reader parameter 'limit' has no type annotation"),
        ("UMG307", "the trainer's keyword-only parameter 'epochs' has no type annotation"),
    ]


#: Errors found while reading the app (all reported together), then errors found by validating it.
READING = """
import os

model.schedule_training(name="env", expression=os.getenv("CRON"), reader_time_arg="time")


@model.evaluator
def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(accuracy_score(target.squeeze(), estimator.predict(features)))
"""
VALIDATING = """
model.schedule_training(name="bad cron", expression="0 24 * * *", reader_time_arg="time")
model.schedule_prediction(name="predict", expression="0 0 * * *", reader_time_arg="time", model_object=object())
"""


def _first_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if re.match(r"app\.py:\d+:\d+: (error|warning): ", line)]


def test_the_cli_prints_the_codes_of_several_areas_after_the_message(tmp_path):
    """End to end: errors of four areas, a warning replayed from the manifest, a configuration
    error and an output error, each first line ending in its code."""
    (tmp_path / "pyproject.toml").write_text("")
    app = tmp_path / "app.py"
    for broken, expected in ((READING, ["UMG301", "UMG505"]), (VALIDATING, ["UMG210", "UMG201", "UMG404"])):
        app.write_text(_base_app() + broken)
        result = run_cli("generate", "app.py", "-o", "flyte", cwd=tmp_path)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        firsts = _first_lines(result.stderr)
        assert [re.search(r" \[(UMG\d{3})\]$", line).group(1) for line in firsts] == expected, result.stderr
        assert f"{len(expected)} errors; nothing was written" in result.stderr
        assert not (tmp_path / "flyte").exists()
    assert any(": error: hour value 24 is out of range 0-23 in '0 24 * * *' [UMG201]" in line for line in firsts)

    # a warning, printed when the project is written and replayed by --check from the manifest
    app.write_text(
        _base_app() + '\nmodel.schedule_training(name="d", fixed_rate=timedelta(days=1), reader_time_arg="time")\n'
    )
    written = run_cli("generate", "app.py", "-o", "flyte", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    check = run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    for result in (written, check):
        warning = next(line for line in result.stderr.splitlines() if ": warning: " in line)
        assert re.match(r"app\.py:\d+:\d+: warning: schedule 'd': .* \[UMG209\]$", warning), warning

    # configuration and output errors have no position: `error: MESSAGE [CODE]`
    missing = run_cli("generate", "app.py", cwd=tmp_path)
    assert missing.returncode == 2
    assert re.fullmatch(r"error: no output directory for app\.py: .* \[UMG701\]\n", missing.stderr)
    broad = run_cli("generate", "app.py", "-o", ".", cwd=tmp_path)
    assert broad.returncode == 2
    assert re.fullmatch(
        r"error: the output directory \. is a directory that holds the app; .* \[UMG601\]\n", broad.stderr
    )
    binding = run_cli("generate", "app.py", "-o", "flyte", "--model", "nope=m.joblib", cwd=tmp_path)
    assert binding.returncode == 2
    assert (
        "app.py:1:1: error: --model nope=...: the app has no prediction schedule named 'nope' [UMG401]"
        in binding.stderr
    )
