"""docs/operating.md's whole journey ("The whole journey, on the flyteadmin stand-in"), run as a user runs it:
the seed guide's app (a copy of examples/seed_guide/app.py, without its hand-made model file) generated with
--train-models, packaged with pyflyte, deployed to the flyteadmin STAND-IN (tests/support/flyteadmin_standin.py,
flytekit's real client over gRPC), its schedules fired by the stand-in as the native scheduler would, runs listed,
a model and predictions fetched, a schedule switched off and on, a training schedule backfilled, and a failed run
diagnosed. Every command is the `unionml` console script (tests/helpers.run_cli) or pyflyte, in the app's
directory, with FLYTECTL_CONFIG pointing at the stand-in's config; what each printed (stderr, then stdout) is
kept in SHOWN by its command line, and the last test checks that each command block of the section is followed
by exactly that output.

What is normalised, because it truly varies from run to run and nowhere else: durations (generate's training
`done in 2.3s`, a runs table's DURATION cell, the `duration` and `created_at` values of --json), and the
temporary directory the journey runs in (shown as `~`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import types
from datetime import datetime, timezone
from pathlib import Path

import grpc
import joblib
import pytest

from ..helpers import EXAMPLES, REPO, run_cli
from ..support.docs_blocks import blocks_of
from ..support.flyteadmin_standin import FlyteAdminStandin, StandinError, forget_package

IMAGE = "ghcr.io/acme/seed-guide:2f1c9e0"  # the image built from the generated Dockerfile
MIDNIGHT = datetime(2026, 11, 30, tzinfo=timezone.utc)  # the kickoff the stand-in fires the schedules at
REMOTE = "daily_predictions_with_remote_model"  # model_version="f3c9a1e7b2d4c6e8a0b1": no such training run
SECTION = "## The whole journey, on the flyteadmin stand-in"
PACKAGE = f"cd flyte && pyflyte --pkgs seed_guide package --image {IMAGE} -o ../seed_guide.tgz --force"
#: What each command printed (stderr, then stdout), by its command line as the docs show it.
SHOWN: dict[str, str] = {}
_VARIES = (
    (re.compile(r"(?<=: done in )\d+(\.\d+)?s"), "D"),  # generate --train-models: how long training took
    (re.compile(r"(?<=  )\d+\.\ds(?=  )"), "D"),  # a runs table's DURATION cell
    (re.compile(r'(?<="duration": )[\d.]+'), "D"),  # --json: the run's duration in seconds
    (re.compile(r'(?<="created_at": )"[^"]*"'), "D"),  # --json: when the stand-in created the execution
)


def normalised(text: str) -> str:
    text = "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines())
    for pattern, replacement in _VARIES:
        text = pattern.sub(replacement, text)
    return text


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    root = tmp_path_factory.mktemp("journey")
    app_dir = root / "seed_guide"
    app_dir.mkdir()
    shutil.copy(EXAMPLES / "seed_guide" / "app.py", app_dir / "app.py")  # no model.joblib: --train-models makes it
    with FlyteAdminStandin(root / "blob") as standin:
        env = {"FLYTECTL_CONFIG": str(standin.write_config(root / "config.yaml")), "NO_COLOR": "1",
               "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip

        def keep(command: str, result: subprocess.CompletedProcess, code: int) -> subprocess.CompletedProcess:
            assert result.returncode == code, f"{command}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            assert command not in SHOWN, f"{command} runs twice: the docs could show only one of its outputs"
            SHOWN[command] = (result.stderr + result.stdout).replace(str(root), "~")
            return result

        def unionml(*args: str, code: int = 0) -> subprocess.CompletedProcess:
            return keep(" ".join(("unionml",) + args), run_cli(*args, cwd=app_dir, env=env), code)

        def shell(command: str) -> subprocess.CompletedProcess:
            path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"  # pyflyte beside python
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=app_dir, capture_output=True,
                                    text=True, timeout=120, env={**os.environ, **env, "PATH": path})  # fmt: skip
            return keep(command, result, 0)

        state = types.SimpleNamespace(root=root, app_dir=app_dir, standin=standin, unionml=unionml)
        state.generated = unionml("generate", "app.py", "-o", "flyte", "--train-models", "--image", IMAGE)
        state.packaged = shell(PACKAGE)
        standin.add_image(IMAGE, app_dir / "flyte")  # the image's code: the generated project
        state.deployed = unionml("deploy", "--version", "v1")
        state.after_deploy = standin.active()
        # the native scheduler at midnight on 30 November: a training, a prediction with the model trained in
        # memory, and the prediction of a model version that does not exist
        fired = [standin.fire(name, MIDNIGHT, run=False)
                 for name in ("cron_daily_training", "daily_predictions", REMOTE)]  # fmt: skip
        standin.run_executions(*fired)
        state.training, state.prediction, state.failed = fired
        state.training_runs = unionml("list-scheduled-training-runs", "cron_daily_training")
        state.prediction_runs = unionml("list-scheduled-prediction-runs", "daily_predictions")
        state.model = unionml("fetch-model", state.training, "-o", "model-2026-11-30.joblib")
        state.predictions = unionml("fetch-predictions", state.prediction)
        state.off = unionml("deactivate-schedules", "non_standard_training_schedule")
        with pytest.raises(StandinError) as refused:  # the scheduler fires only an ACTIVE version
            standin.fire("non_standard_training_schedule", MIDNIGHT, run=False)
        state.refused_fire = refused.value
        state.on = unionml("activate-schedules", "non_standard_training_schedule")
        window = ("--from", "2026-11-27", "--to", "2026-11-29T12:00:00Z", "--remote")
        state.backfill_dry = unionml("backfill", "cron_daily_training", *window, "--dry-run")
        state.after_dry = set(standin.executions)
        state.backfill = unionml("backfill", "cron_daily_training", *window)
        state.backfilled = standin.run_queued()
        state.all_training_runs = unionml("list-scheduled-training-runs", "cron_daily_training", "--limit", "5")
        state.failed_runs = unionml("list-scheduled-prediction-runs", REMOTE)
        state.failed_json = unionml("list-scheduled-prediction-runs", REMOTE, "--json")
        state.remote_off = unionml("deactivate-schedules", REMOTE)
        state.active_at_end = standin.active()
        yield state
    forget_package("seed_guide")


def test_generate_trains_the_in_memory_models_and_pyflyte_packages_the_project(journey):
    flyte = journey.app_dir / "flyte"
    models = sorted((flyte / "seed_guide" / "models").glob("*.joblib"))
    # made here, not by hand: one for model.train(...)'s artifact and model_object, one for model.save(..., compress=3)
    assert len(models) == 2 and not (journey.app_dir / "model.joblib").exists()
    for model in models:
        saved = joblib.load(model)
        assert type(saved["model_obj"]).__name__ == "LogisticRegression"
        assert saved["hyperparameters"] == {"C": 0.1, "max_iter": 5000}  # the app's model.train(...) arguments
    manifest = json.loads((flyte / ".unionml-codegen.json").read_text())
    assert set(manifest["trained_models"]) == {"daily_predictions", "daily_predictions_with_model_object",
                                               "daily_predictions_with_model_file"}  # fmt: skip
    assert run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=journey.app_dir).returncode == 0
    last = SHOWN[PACKAGE].splitlines()[-1]
    assert last == "Successfully packaged 26 flyte objects into ~/seed_guide/seed_guide.tgz"
    assert (journey.app_dir / "seed_guide.tgz").stat().st_size > 0


def test_deploy_registers_the_image_and_activates_every_schedule(journey):
    lines = journey.deployed.stdout.splitlines()
    assert lines[0].startswith("registered seed_guide version v1 in flytesnacks/development: ")
    assert lines[1] == f"  image         {IMAGE}"
    schedules = ["cron_daily_training", "non_standard_training_schedule", "fixed_rate_training_schedule",
                 "daily_predictions", "daily_predictions_with_model_object", "daily_predictions_with_model_file",
                 REMOTE]  # fmt: skip
    assert journey.after_deploy == {name: "v1" for name in schedules}
    assert [line for line in lines if ": ACTIVE at version v1" in line] == [
        f"{name}: ACTIVE at version v1" for name in schedules
    ]


def test_fired_runs_are_listed_and_their_model_and_predictions_fetched(journey):
    standin = journey.standin
    assert standin.execution(journey.training).error is None and standin.execution(journey.prediction).error is None
    [row] = journey.training_runs.stdout.splitlines()[1:]
    assert row.split()[:3] == [journey.training, "2026-11-30T00:00:00Z", "SUCCEEDED"]
    [row] = journey.prediction_runs.stdout.splitlines()[1:]
    assert row.split()[:3] == [journey.prediction, "2026-11-30T00:00:00Z", "SUCCEEDED"]
    saved = joblib.load(journey.app_dir / "model-2026-11-30.joblib")
    assert type(saved["model_obj"]).__name__ == "LogisticRegression"
    assert saved["hyperparameters"] == {"C": 0.1, "max_iter": 5000}
    assert journey.model.stdout.splitlines()[2].startswith("metrics: train ")
    first, listed = journey.predictions.stdout.splitlines()
    predictions = json.loads(listed)
    # day 30 of the month: the 50 rows after the first 900 + 25 * 30 (the app's reader)
    assert first == f"50 predictions of execution {journey.prediction} (daily_predictions, version v1):"
    assert len(predictions) == 50 and set(predictions) <= set(range(10))


def test_a_deactivated_schedule_does_not_fire_until_activated_again(journey):
    assert journey.off.stdout == "non_standard_training_schedule: INACTIVE (was active at version v1)\n"
    assert journey.refused_fire.code == grpc.StatusCode.FAILED_PRECONDITION
    assert journey.on.stdout == "non_standard_training_schedule: ACTIVE at version v1\n"


def test_backfill_dry_run_starts_nothing_and_the_backfill_runs_the_missing_kickoffs(journey):
    dry = journey.backfill_dry.stdout
    assert "dry run, nothing is started" in dry.splitlines()[0]
    assert dry.count("would start execution") == 3
    started = [line.split()[2] for line in journey.backfill.stdout.splitlines() if "started execution" in line]
    assert len(started) == 3 and set(journey.backfilled) == set(started)  # the three the dry run named
    assert all(f"would start execution {name} " in dry for name in started)
    assert journey.after_dry == set(journey.standin.executions) - {("flytesnacks", "development", n) for n in started}
    rows = [line.split() for line in journey.all_training_runs.stdout.splitlines()[1:]]
    assert [(r[0], r[2], r[-1]) for r in rows] == [
        *((name, "SUCCEEDED", "manual") for name in reversed(started)),
        (journey.training, "SUCCEEDED", "schedule"),
    ]  # newest first


def test_the_failed_run_is_diagnosed_from_the_list_and_its_schedule_switched_off(journey):
    table, failure = journey.failed_runs.stdout.split("\n\n")
    assert table.splitlines()[1].split()[:3] == [journey.failed, "2026-11-30T00:00:00Z", "FAILED"]
    assert failure.startswith(f"{journey.failed} FAILED at node ")
    assert "f3c9a1e7b2d4c6e8a0b1" in failure  # the model version the app names, which no training run is
    [run] = json.loads(journey.failed_json.stdout)
    assert run["phase"] == "FAILED" and run["failed_node"] and run["failed_task"]
    assert "f3c9a1e7b2d4c6e8a0b1" in run["error"]
    assert journey.remote_off.stdout == f"{REMOTE}: INACTIVE (was active at version v1)\n"
    assert REMOTE not in journey.active_at_end and len(journey.active_at_end) == 6


def test_the_docs_show_the_journey_as_the_commands_print_it(journey):
    """Each command block of the section (its marker names this module) is one command this module ran, and the
    block after it is what that command printed, stderr then stdout (normalised as the module's docstring says)."""
    text = (REPO / "docs" / "operating.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    section_lines = range(text[:start].count("\n") + 1, text[:end].count("\n") + 1)
    blocks = [b for b in blocks_of(REPO / "docs" / "operating.md", "docs/operating.md") if b.line in section_lines]
    commands = [b for b in blocks if b.language == "bash"]
    assert commands and all("tests/operate/test_journey.py" in b.marker.get("reason", "") for b in commands)
    following = {blocks[i].line: blocks[i + 1] for i in range(len(blocks) - 1)}
    wrong = []
    for block in commands:
        command = block.body.strip()
        shown = following.get(block.line)
        assert command in SHOWN, f"{block.id}: {command} was not run here"
        assert shown is not None and shown.language in ("text", "json"), f"{block.id}: no output block after it"
        if normalised(shown.body) != normalised(SHOWN[command]):
            wrong.append(f"{block.id}: `{command}` prints\n{SHOWN[command]}\n")
    assert not wrong, "\n".join(wrong)
    assert sorted(b.body.strip() for b in commands) == sorted(SHOWN), "a command ran here that the docs do not show"
