"""Golden examples: each examples/<case>/app.py regenerates to its committed examples/<case>/flyte,
and the generated project packages, registers (dry run) and decodes as the app says."""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import black
import pytest

from unionml_codegen.options import Options
from unionml_codegen.generate import render_app

from ..helpers import EXAMPLES, read_tree, run_cli
from ..support.flyte_package import describe_launch_plan, flyteadmin_problems, load_entities, package

CASES = sorted(p.parent.name for p in EXAMPLES.glob("*/app.py"))
#: Examples packaged with pyflyte and checked against flyteadmin's rules here (a few seconds each);
#: every example is checked with `generate --check`, and the shapes of the others are packaged and
#: run by their own tests (test_pytorch, test_keras, test_real_apps, test_sql_datasets).
PACKAGED_CASES = ["digits", "digits_batch", "seed_guide"]
REFRESH = "bash scripts/regenerate-examples"


def _options(case: str) -> Options:
    args_file = EXAMPLES / case / "generate.args"
    models = {}
    if args_file.exists():
        words = args_file.read_text().split()
        models = dict(w.split("=", 1) for w in words[1::2])  # "--model NAME=PATH" pairs
    return Options(models=models)


@pytest.mark.parametrize("case", CASES)
def test_example_matches_committed_project(case):
    committed = EXAMPLES / case / "flyte"
    generated = {
        path: content.encode() if isinstance(content, str) else content
        for path, content in render_app(EXAMPLES / case / "app.py", committed, _options(case)).files.items()
    }
    on_disk = read_tree(committed)
    if generated != on_disk:
        diff = []
        for path in sorted(set(generated) | set(on_disk)):
            old, new = on_disk.get(path, b""), generated.get(path, b"")
            if old != new:
                old_text, new_text = old.decode(errors="replace"), new.decode(errors="replace")
                diff += difflib.unified_diff(
                    old_text.splitlines(True), new_text.splitlines(True), f"a/{path}", f"b/{path}"
                )
        pytest.fail(f"examples/{case}/flyte is stale; refresh it with `{REFRESH}`\n" + "".join(diff))


def _generate_args(case: str) -> list[str]:
    args_file = EXAMPLES / case / "generate.args"
    return args_file.read_text().split() if args_file.exists() else []


@pytest.mark.parametrize("case", CASES)
def test_the_cli_check_finds_each_committed_project_up_to_date(case):
    """What a pre-commit hook or CI runs: `unionml generate APP -o OUT --check` from the repository root."""
    app, out = f"examples/{case}/app.py", f"examples/{case}/flyte"
    result = run_cli("generate", app, "-o", out, "--check", *_generate_args(case), cwd=EXAMPLES.parent)
    assert result.returncode == 0, f"{result.stderr}\nrefresh it with `{REFRESH}`"
    assert f"{out} is up to date" in result.stderr


def test_every_example_has_a_readme_and_is_listed_in_the_examples_page():
    page = (EXAMPLES.parent / "docs" / "examples.md").read_text()
    listed = re.findall(r"^\| `examples/(\w+)/` \|", page, re.M)
    assert listed == sorted(listed, key=listed.index) and set(listed) == set(CASES)
    assert len(CASES) >= 9
    for case in CASES:
        readme = (EXAMPLES / case / "README.md").read_text()
        assert readme.startswith("# ") and f"unionml generate examples/{case}/app.py -o examples/{case}/flyte" in readme


def test_the_regenerate_script_regenerates_the_examples_with_their_options(tmp_path):
    """scripts/regenerate-examples on a copy of the examples: each project is written from its app with
    the app's generate.args (the seed guide's --model bindings), and a stale project is refreshed."""
    root = tmp_path / "repo"
    for case in ("digits", "seed_guide"):  # two of them keep it quick: the script treats each alike
        shutil.copytree(
            EXAMPLES / case, root / "examples" / case, ignore=shutil.ignore_patterns("flyte2", "__pycache__")
        )
    (root / "scripts").mkdir()
    shutil.copy(EXAMPLES.parent / "scripts" / "regenerate-examples", root / "scripts")
    stale = root / "examples" / "seed_guide" / "flyte" / "seed_guide" / "launch_plans.py"
    stale.unlink()
    env = {"PYTHON": sys.executable}
    result = subprocess.run(["bash", "scripts/regenerate-examples"], cwd=root, capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert stale.is_file()
    regenerated, committed = (read_tree(d / "seed_guide" / "flyte") for d in (root / "examples", EXAMPLES))
    for tree in (regenerated, committed):  # the manifest records the files read, which differ in this copy
        del tree[".unionml-codegen.json"]
    assert regenerated == committed
    for case in ("digits", "seed_guide"):
        assert f"examples/{case}/flyte" in result.stderr
        assert not (root / "examples" / case / "flyte2").exists()  # only where the example has one


@pytest.mark.parametrize("case", CASES)
def test_generated_python_is_black_formatted(case):
    for path in (EXAMPLES / case / "flyte").rglob("*.py"):
        beside_app = EXAMPLES / case / path.relative_to(EXAMPLES / case / "flyte")
        if beside_app.is_file() and beside_app.read_bytes() == path.read_bytes():
            continue  # a module next to the app, copied as it is
        text = path.read_text()
        assert black.format_str(text, mode=black.Mode()) == text, path


def test_generation_is_identical_under_different_hash_seeds_and_locations(tmp_path, digits_app):
    trees = []
    for seed, where in (("1", "a"), ("987", "b/deeper")):
        app_dir = tmp_path / where / "digits"
        shutil.copytree(digits_app.parent, app_dir, ignore=shutil.ignore_patterns("flyte", "__pycache__"))
        result = run_cli("generate", "app.py", "-o", "out", cwd=app_dir, env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        trees.append(read_tree(app_dir / "out"))
    assert trees[0] == trees[1]
    assert all(str(tmp_path).encode() not in data for data in trees[0].values())


_PACKAGED: dict = {}


def _packaged(case: str, tmp_path_factory):
    """An example's committed project, packaged once per test session with pyflyte."""
    if case not in _PACKAGED:
        out = tmp_path_factory.mktemp(case) / "flyte"
        shutil.copytree(EXAMPLES / case / "flyte", out)
        tgz = package(out, case, output=out.parent / f"{case}.tgz")
        _PACKAGED[case] = (case, out, load_entities(tgz))
    return _PACKAGED[case]


@pytest.fixture(params=PACKAGED_CASES)
def packaged(request, tmp_path_factory):
    return _packaged(request.param, tmp_path_factory)


@pytest.fixture
def digits_package(tmp_path_factory):
    _, out, entities = _packaged("digits", tmp_path_factory)
    return out, entities


def test_digits_launch_plans_decode_as_the_app_says(digits_package):
    _, entities = digits_package
    plans = {name: describe_launch_plan(lp, entities.workflows) for name, lp in entities.launch_plans.items()}
    daily = plans["cron_daily_training"]
    assert (daily.schedule_kind, daily.cron_expression, daily.kickoff_time_input_arg) == ("cron", "0 0 * * *", "time")
    assert daily.workflow == "digits.workflows.digits_classifier_train"
    assert daily.fixed_inputs["hyperparameters"] == {"C": 0.1, "max_iter": 1000}
    assert type(daily.fixed_inputs["hyperparameters"]["max_iter"]) is int
    assert daily.fixed_inputs["splitter_kwargs"] == {"test_size": 0.2, "shuffle": True, "random_state": 12345}
    assert daily.fixed_inputs["parser_kwargs"] == {"features": None, "targets": ["target"]}
    assert daily.default_inputs["labeled"].default is True  # the reader's default survives

    croniter_style = plans["non_standard_training_schedule"]
    assert croniter_style.cron_expression == "@daily"
    assert croniter_style.fixed_inputs["hyperparameters"] == {"C": 1.0, "max_iter": 1000}

    rate = plans["fixed_rate_training_schedule"]
    assert rate.schedule_kind == "fixed_rate" and tuple(rate.rate) == (1, "DAY")
    assert rate.kickoff_time_input_arg is None  # the native scheduler would never fill it
    assert rate.workflow == "digits.workflows.digits_classifier_train_at_scheduled_time"
    assert rate.fixed_inputs["splitter_kwargs"]["test_size"] == 0.25


def test_every_packaged_launch_plan_passes_flyteadmin_rules(packaged):
    case, _, entities = packaged
    scheduled = [lp for lp in entities.launch_plans.values() if describe_launch_plan(lp).schedule_kind]
    app = (EXAMPLES / case / "app.py").read_text()
    assert len(scheduled) == app.count(".schedule_training(") + app.count(".schedule_prediction(")
    for lp in scheduled:
        assert flyteadmin_problems(lp, entities.workflows) == [], lp.id.name
        info = describe_launch_plan(lp, entities.workflows)
        unbound = [n for n, d in info.default_inputs.items() if d.required and n != info.kickoff_time_input_arg]
        assert unbound == [], (lp.id.name, unbound)


def test_register_dry_run_succeeds_without_a_cluster(packaged):
    case, out, entities = packaged
    pyflyte = Path(sys.executable).parent / "pyflyte"
    result = subprocess.run(
        [str(pyflyte), "register", "--dry-run", "--copy", "none", "--version", "v1", "--image", "ghcr.io/x/y:v1",
         case],
        cwd=out, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for name, lp in entities.launch_plans.items():
        if describe_launch_plan(lp).schedule_kind:
            assert name in result.stdout


def test_digits_batch_prediction_plans_decode_with_their_model_references(tmp_path_factory):
    _, _, entities = _packaged("digits_batch", tmp_path_factory)
    plans = {name: describe_launch_plan(lp, entities.workflows) for name, lp in entities.launch_plans.items()}
    daily = plans["daily_predictions"]
    assert daily.workflow == "digits_batch.workflows.digits_classifier_predict_with_model_file"
    assert (daily.cron_expression, daily.kickoff_time_input_arg) == ("0 6 * * *", "time")
    assert daily.fixed_inputs["model_file"].startswith("models/30518f316a884048")
    assert daily.fixed_inputs["loader_kwargs"] == {"mmap_mode": None}
    assert daily.fixed_inputs["labeled"] is False
    latest = plans["hourly_predictions_with_latest_model"]
    assert latest.workflow.endswith("predict_with_model_version_at_scheduled_time")
    assert (latest.schedule_kind, tuple(latest.rate), latest.kickoff_time_input_arg) == (
        "fixed_rate",
        (1, "HOUR"),
        None,
    )
    assert latest.fixed_inputs == {"model_version": "latest", "app_version": "", "labeled": False}
