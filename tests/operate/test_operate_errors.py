"""Issue 21, item 13: the operate commands' errors have codes (UMG750 to UMG799, in codes.py's registry and
docs/errors.md) and a hint line; the command-line habits of unionml 0.2.1 and flytectl get the form meant here,
not click's bare usage error. (The cluster errors, UMG756 and UMG758 among them, are checked against the
flyteadmin stand-in in tests/operate/test_cluster_commands.py.)"""

from __future__ import annotations

import re
import shutil

import pytest

from unionml_codegen import codes
from unionml_codegen.codes import REGISTRY

from ..helpers import EXAMPLES, REPO, run_cli

OPERATING = sorted(key for key, code in REGISTRY.items() if code.area == codes.OPERATING)


def _lines(result) -> list[str]:
    assert result.returncode == 2 and result.stdout == "", result
    assert "Traceback" not in result.stderr and "Usage:" not in result.stderr, result.stderr
    return result.stderr.splitlines()


@pytest.mark.parametrize(
    "args, first, hint",
    [
        (["list-model-versions", "flyte", "-o", "json"], "unionml list-model-versions: no such option -o",
         "`-o json` is flytectl's form: these commands print JSON with --json"),
        (["list-scheduled-training-runs", "flyte", "--schedule-name", "weekly"],
         "unionml list-scheduled-training-runs: no such option --schedule-name",
         "name the schedule as an argument: `unionml list-scheduled-training-runs OUT SCHEDULE`"),
        (["fetch-model", "flyte", "--model-version", "latest"], "unionml fetch-model: no such option --model-version",
         "the model version is the training EXECUTION: `unionml fetch-model OUT EXECUTION -o FILE` "
         "(`unionml list-model-versions OUT` lists them)"),
        (["fetch-model", "flyte", "f0", "--output-file", "m.joblib"],
         "unionml fetch-model: no such option --output-file", "unionml's --output-file is -o FILE here"),
        (["activate-schedules", "flyte", "--app-version", "v1"], "unionml activate-schedules: no such option "
         "--app-version", "the deployed version is --version V here"),
        (["deploy", "flyte", "--allow-uncommitted", "--version", "v1"],
         "unionml deploy: no such option --allow-uncommitted",
         "unionml's deploy builds and pushes an image; here build the generated Dockerfile, then "
         "`unionml deploy OUT --version V --image IMAGE`"),
        (["deploy", "flyte"], "unionml deploy: missing option '--version'",
         "give every registered entity a version, the image's as a rule: "
         "`unionml deploy OUT --version $(git rev-parse --short HEAD)`"),
        (["deploy", "flyte", "--versio", "v1"], "unionml deploy: no such option --versio",
         "did you mean --version? (`unionml deploy --help`)"),
        (["schedules", "flyte", "extra"], "unionml schedules: got unexpected extra argument (extra)",
         "`unionml schedules --help` shows what it takes"),
        (["run"], "unionml run: expected [OUT] SCHEDULE, got 0 arguments", "`unionml run --help` shows what it takes"),
    ],
)  # fmt: skip
def test_unionml_and_flytectl_habits_get_the_form_meant_here_with_a_code(tmp_path, args, first, hint):
    assert _lines(run_cli(*args, cwd=tmp_path)) == [f"error: {first} [UMG764]", f"  hint: {hint}"]


def test_generate_keeps_clicks_usage_errors():
    """Only the operate commands answer a bad command line this way; generate's stays click's."""
    result = run_cli("generate", "--bogus")
    assert result.returncode == 2 and "Usage: unionml generate" in result.stderr and "UMG764" not in result.stderr


def test_a_bad_flyteadmin_setting_is_a_configuration_error_with_its_code(tmp_path):
    shutil.copytree(EXAMPLES / "digits", tmp_path / "digits", ignore=shutil.ignore_patterns("flyte2"))
    result = run_cli("list-model-versions", "flyte", cwd=tmp_path / "digits",
                     env={"UNIONML_FLYTEADMIN_RETRIES": "many"})  # fmt: skip
    assert _lines(result) == [
        "error: UNIONML_FLYTEADMIN_RETRIES='many' is not a number [UMG755]",
        "  hint: unset UNIONML_FLYTEADMIN_RETRIES or give it a number",
    ]
    # an unknown schedule: the project is found (and verified), the name is not in it
    result = run_cli("list-scheduled-training-runs", "flyte", "nightly", cwd=tmp_path / "digits")
    first, hint = _lines(result)
    assert first == "error: flyte has no schedule 'nightly' [UMG753]" and hint.startswith("  hint: its schedules: ")


def _sections() -> dict[str, str]:
    parts = re.split(r'<a id="(UMG\d{3})"></a>\n', (REPO / "docs" / "errors.md").read_text())
    return dict(zip(parts[1::2], parts[2::2]))


def test_the_operate_codes_are_a_range_of_their_own_each_documented_as_the_commands_print_it():
    assert OPERATING and all(750 <= int(key[3:]) < 800 for key in OPERATING)
    assert {code.area for key, code in REGISTRY.items() if key not in OPERATING}.isdisjoint({codes.OPERATING})
    sections = _sections()
    text = (REPO / "docs" / "errors.md").read_text()
    assert "(#operating-a-generated-project)" in text and "\n## Operating a generated project\n" in text
    for key in OPERATING:
        [example] = re.findall(r"```console\n(.*?)```", sections[key], re.S)
        lines = example.splitlines()
        assert any(line.startswith("$ unionml ") for line in lines), key
        if lines[0].startswith("$ unionml generate"):  # found in the app's model.remote(...): a diagnostic at its line
            severity = REGISTRY[key].severity
            pattern = rf"app\.py:\d+:\d+: {severity}: .* \[{key}\]$"
            [first] = [index for index, line in enumerate(lines) if re.match(pattern, line)]
            assert lines[first + 2].strip() == "^" and lines[first + 3].startswith("  hint: "), (key, lines)
            continue
        errors = [index for index, line in enumerate(lines) if line.startswith("error: ")]
        assert len(errors) == 1 and lines[errors[0]].endswith(f" [{key}]"), (key, lines)
        if key != "UMG799":  # every other operate error has a hint, on the line after it
            assert lines[errors[0] + 1].startswith("  hint: "), (key, lines)
