"""The operate commands on a flyte2 project (deploy, activate-/deactivate-schedules, list-scheduled-*-runs,
fetch-model, fetch-predictions) through the flyte 2.x SDK in its own interpreter (UNIONML_FLYTE2_PYTHON),
against the Flyte 2 STAND-IN served from a process of its own (tests/support/flyte2_cluster.py: the SDK's
real client over Connect). One stand-in and one deployed project for the module: digits_batch, generated
with --target flyte2, its app saying not to activate daily_predictions on deploy; the stand-in fires the
triggers when a test says, running their tasks in the SDK's local mode with the inputs deployed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import types
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import joblib
import pytest

from ..e2e.test_flyte2 import flyte2_python
from ..helpers import EXAMPLES, REPO, UNIONML, run_cli

TRAIN = "digits-batch.digits_classifier_train"
FILE_PREDICT = "digits-batch.digits_classifier_predict_with_model_file"
LATEST_PREDICT = "digits-batch.digits_classifier_predict_with_model_version"
TRIGGERS = {"weekly_retraining": TRAIN, "daily_predictions": FILE_PREDICT,
            "hourly_predictions_with_latest_model": LATEST_PREDICT}  # fmt: skip
DURATION = re.compile(r"(?<=  )\d+\.\ds(?=  )")  # a DURATION cell of a runs table
#: What the commands printed (stderr, then stdout) the first time, by the command line as a user types it, for the
#: docs' journey.
SHOWN: dict[str, str] = {}
TRAINED_AT = (datetime(2026, 11, 23, 3, tzinfo=timezone.utc), datetime(2026, 11, 30, 3, tzinfo=timezone.utc))


class Standin:
    """The stand-in process: its endpoint, a config file for the SDK, and its control calls."""

    def __init__(self, root: Path, project: Path):
        self.process = subprocess.Popen(
            [str(flyte2_python()), str(REPO / "tests" / "support" / "flyte2_cluster.py"), str(root / "blobs"),
             str(project)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(root / "standin.log", "w"),
            text=True, env={**os.environ, "HOME": str(root / "home"), "PYTHONDONTWRITEBYTECODE": "1"},
        )  # fmt: skip
        line = self.process.stdout.readline()
        assert line, (root / "standin.log").read_text()
        self.endpoint = json.loads(line)["endpoint"]
        self.config = root / "config.yaml"
        self.config.write_text(f"admin:\n  endpoint: {self.endpoint}\n  insecure: true\nimage:\n  builder: remote\n")

    def control(self, op: str, ok: bool = True, **args) -> dict:
        request = urllib.request.Request(f"{self.endpoint}/_standin/{op}", data=json.dumps(args).encode(),
                                         method="POST")  # fmt: skip
        try:
            with urllib.request.urlopen(request) as answer:
                assert ok, f"{op} {args} was expected to be refused"
                return json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            assert not ok, refused.read()
            return json.loads(refused.read())

    def state(self) -> dict:
        return self.control("state")

    def active(self) -> dict[str, str]:
        return {name: t["version"] for name, t in self.state()["triggers"].items() if t["active"]}

    def fire(self, trigger: str, at: datetime, name: str, ok: bool = True, **overrides) -> dict:
        return self.control("fire", ok=ok, trigger=trigger, task=TRIGGERS[trigger], at=at.isoformat(), name=name,
                            overrides=overrides)  # fmt: skip

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("flyte2_cluster")
    shutil.copytree(EXAMPLES / "digits_batch", root / "digits_batch", ignore=shutil.ignore_patterns("flyte*"))
    app = root / "digits_batch" / "app.py"
    app.write_text(app.read_text().replace('    "daily_predictions",\n',
                                           '    "daily_predictions",\n    activate_on_deploy=False,\n'))  # fmt: skip
    project = root / "digits_batch" / "flyte2"
    generated = run_cli("generate", str(app), "-o", str(project), "--target", "flyte2")
    assert generated.returncode == 0 and "activate_on_deploy=False" in app.read_text(), generated.stderr
    (root / "home").mkdir()
    standin = Standin(root, project)
    env = {"UNIONML_FLYTE2_PYTHON": str(flyte2_python()), "HOME": str(root / "home"),
           "FLYTECTL_CONFIG": str(standin.config)}  # fmt: skip

    def unionml(*args: str, code: int = 0):
        """`unionml ARGS` in the app's directory (OUT is flyte2), the SDK finding its config as `flyte` does."""
        result = run_cli(*args, cwd=root / "digits_batch", env=env)
        assert result.returncode == code, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        SHOWN.setdefault(" ".join(("unionml",) + args), result.stderr + result.stdout)
        return result

    try:
        deployed = unionml("deploy", "flyte2", "--version", "v1")
        yield types.SimpleNamespace(standin=standin, project=project, root=root, unionml=unionml, env=env,
                                    deployed=deployed, after_deploy=standin.state())  # fmt: skip
    finally:
        standin.stop()


def test_deploy_sends_every_task_and_switches_the_triggers_as_the_app_said(cluster):
    assert cluster.deployed.stdout.splitlines()[0] == (
        "deployed digits_batch version v1 in flytesnacks/development: 10 tasks, 3 triggers"
    )
    assert cluster.deployed.stdout.splitlines()[2:] == [
        "weekly_retraining: ACTIVE at version v1",
        "hourly_predictions_with_latest_model: ACTIVE at version v1",
        "not activated (activate_on_deploy=False): daily_predictions",
    ]
    assert cluster.deployed.stderr.splitlines() == [
        "deploying digits_batch version v1 in flytesnacks/development with the flyte SDK: its environments and "
        "3 triggers"
    ]
    state = cluster.after_deploy
    assert {version for _, version in state["tasks"]} == {"v1"} and len(state["tasks"]) == 10
    assert {name: (t["task"], t["active"], t["revision"]) for name, t in state["triggers"].items()} == {
        "weekly_retraining": (TRAIN, True, 1),
        "daily_predictions": (FILE_PREDICT, False, 1),
        "hourly_predictions_with_latest_model": (LATEST_PREDICT, True, 1),
    }
    assert state["triggers"]["weekly_retraining"]["kickoff_input"] == "time"  # flyte.TriggerTime
    assert len(state["uploads"]) == 1  # the code bundle, with the vendored model file (include=)
    assert not list(cluster.project.rglob("__pycache__"))


def test_a_rerun_of_the_same_version_deploys_it_again_and_json_says_what_is_deployed(cluster):
    result = cluster.unionml("deploy", "flyte2", "--version", "v1", "--json")
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["version"] == "v1" and len(report["deployed"]["tasks"]) == 10
    assert {s["name"]: s["state"] for s in report["schedules"]} == {
        "weekly_retraining": "ACTIVE", "daily_predictions": "INACTIVE", "hourly_predictions_with_latest_model": "ACTIVE"
    }  # fmt: skip
    assert report["not_activated"] == ["daily_predictions"]
    assert "weekly_retraining: ACTIVE at version v1" in result.stderr  # the lines go to stderr
    state = cluster.standin.state()
    # the backend upserts a task's version and its triggers: each trigger deployed again, in the same state
    assert [t["revision"] for t in state["triggers"].values()] == [2, 2, 2]
    assert {n: t["active"] for n, t in state["triggers"].items()} == {
        n: t["active"] for n, t in cluster.after_deploy["triggers"].items()
    }
    assert state["tasks"] == cluster.after_deploy["tasks"]


def test_deploy_refuses_flyte1s_image_option(cluster):
    result = cluster.unionml("deploy", "flyte2", "--version", "v9", "--image", "ghcr.io/team/app:1", code=2)
    assert result.stderr.splitlines()[0].startswith("error: --image names a flyte1 task image")
    assert result.stderr.splitlines()[0].endswith("[UMG764]")
    assert "v9" not in {version for _, version in cluster.standin.state()["tasks"]}  # nothing deployed


def test_triggers_fire_only_while_active_and_their_runs_are_listed_newest_first(cluster):
    standin = cluster.standin
    for index, at in enumerate(TRAINED_AT):
        fired = standin.fire("weekly_retraining", at, f"weekly-{index}")
        assert fired["phase"] == "SUCCEEDED", fired["error"]
    refused = standin.fire("daily_predictions", TRAINED_AT[1], "daily-0", ok=False)
    assert "not active" in refused["error"]  # activate_on_deploy=False: the scheduler does not fire it

    runs = json.loads(cluster.unionml("list-scheduled-training-runs", "flyte2", "weekly_retraining",
                                      "--json").stdout)  # fmt: skip
    assert [r["execution"] for r in runs] == ["weekly-1", "weekly-0"]
    assert [r["kickoff"] for r in runs] == ["2026-11-30T03:00:00Z", "2026-11-23T03:00:00Z"]  # the TriggerTime input
    assert {(r["phase"], r["version"], r["started_by"]) for r in runs} == {("SUCCEEDED", "v1", "schedule")}
    table = cluster.unionml("list-scheduled-training-runs", "flyte2", "weekly_retraining", "--limit", "1")
    header, row = table.stdout.splitlines()
    assert header.split() == ["EXECUTION", "KICKOFF", "(UTC)", "PHASE", "DURATION", "VERSION", "STARTED", "BY"]
    assert row.split()[:3] == ["weekly-1", "2026-11-30T03:00:00Z", "SUCCEEDED"]
    assert row.split()[-2:] == ["v1", "schedule"]
    assert table.stderr == (
        "note: showing the newest 1 runs of weekly_retraining; there are more: pass a larger --limit (up to 10000)\n"
    )
    wrong = cluster.unionml("list-scheduled-prediction-runs", "flyte2", "weekly_retraining", code=2)
    assert "'weekly_retraining' is a training schedule [UMG753]" in wrong.stderr
    none = cluster.unionml("list-scheduled-prediction-runs", "flyte2", "daily_predictions")
    assert none.stdout == "no runs of daily_predictions in flytesnacks/development\n"


def test_fetch_model_writes_the_trained_model_as_unionml_saves_it(cluster):
    target = cluster.root / "digits_batch" / "trained.joblib"
    result = cluster.unionml("fetch-model", "flyte2", "weekly-1", "-o", "trained.joblib")
    first, hyperparameters, metrics = result.stdout.splitlines()
    assert first == (f"wrote trained.joblib: LogisticRegression (scikit-learn (joblib)) trained by execution weekly-1 "
                     f"({TRAIN}, version v1)")  # fmt: skip
    assert hyperparameters == 'hyperparameters: {"C": 0.1, "max_iter": 1000}'
    saved = joblib.load(target)
    assert saved["hyperparameters"] == {"C": 0.1, "max_iter": 1000}
    assert type(saved["model_obj"]).__name__ == "LogisticRegression"
    report = json.loads(cluster.unionml("fetch-model", "flyte2", "weekly-1", "-o", "trained.joblib",
                                        "--json").stdout)  # fmt: skip
    assert list(report["metrics"]) == ["train", "test"] and 0.8 < report["metrics"]["test"] <= 1.0  # unionml's order
    assert metrics == "metrics: " + ", ".join(f"{key} {value}" for key, value in report["metrics"].items())
    assert sorted(p.name for p in target.parent.glob("*.joblib*")) == ["model.joblib", "trained.joblib"]  # no temporary


def test_activated_file_prediction_runs_and_its_predictions_are_fetched(cluster):
    result = cluster.unionml("activate-schedules", "flyte2", "daily_predictions")
    assert result.stdout == "daily_predictions: ACTIVE at version v1\n"
    assert cluster.standin.active() == {name: "v1" for name in TRIGGERS}
    again = cluster.unionml("activate-schedules", "flyte2", "daily_predictions")
    assert again.stdout == "daily_predictions: ACTIVE at version v1 (already)\n"
    fired = cluster.standin.fire("daily_predictions", TRAINED_AT[1] + timedelta(hours=3), "daily-1")
    assert fired["phase"] == "SUCCEEDED", fired["error"]
    predictions = json.loads(cluster.unionml("fetch-predictions", "flyte2", "daily-1", "--json").stdout)
    assert len(predictions) >= 100 and set(predictions) <= set(range(10))  # digits
    text = cluster.unionml("fetch-predictions", "flyte2", "daily-1").stdout.splitlines()
    assert text[0] == f"{len(predictions)} predictions of execution daily-1 ({FILE_PREDICT}, version v1):"
    not_training = cluster.unionml("fetch-model", "flyte2", "daily-1", "-o", "m.joblib", code=2)
    assert not_training.stderr.splitlines()[0] == f"error: run daily-1 ran {FILE_PREDICT} [UMG762]"
    missing = cluster.unionml("fetch-predictions", "flyte2", "no-such-run", code=2)
    assert missing.stderr.splitlines()[0].endswith("[UMG758]") and "no-such-run" in missing.stderr


def test_schedules_previews_the_triggers_with_flyte2s_fixed_rate_rule(cluster):
    result = cluster.unionml("schedules", "flyte2", "--now", "2026-12-01T00:00:00Z", "-n", "2")
    lines = result.stdout.splitlines()
    assert "  trigger      digits_batch.triggers.weekly_retraining -> digits-batch.digits_classifier_train" in lines
    assert '  defaults     hyperparameters={"C": 0.1, "max_iter": 1000}' in lines  # a run may override them
    assert "  next         2026-12-07T03:00:00Z, 2026-12-14T03:00:00Z" in lines  # cron, in UTC
    assert "  next         2026-12-01T01:00:00Z, 2026-12-01T02:00:00Z" in lines  # every hour from --now
    assert not [line for line in lines if "scheduler's time zone" in line or "reads its scheduled time" in line]
    activated = cluster.unionml("schedules", "flyte2", "--now", "2026-12-01T00:00:00Z", "--activated-at",
                                "2026-11-30T23:20:00Z", "-n", "1", "--json")  # fmt: skip
    [hourly] = [s for s in json.loads(activated.stdout)["schedules"] if s["fixed_rate_seconds"]]
    assert hourly["next_kickoffs"] == ["2026-12-01T00:20:00Z"]


def test_schedules_remote_shows_each_triggers_state_and_next_kickoff(cluster):
    standin = cluster.standin
    deployed_at = datetime.fromisoformat(standin.state()["triggers"]["hourly_predictions_with_latest_model"]
                                         ["deployed_at"])  # fmt: skip
    now = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    before = json.loads(cluster.unionml("schedules", "flyte2", "--remote", "--now", "2026-12-01T12:00:00Z",
                                        "--json").stdout)["schedules"]  # fmt: skip
    [hourly] = [s for s in before if s["name"] == "hourly_predictions_with_latest_model"]
    # not fired yet: the interval runs from when the trigger was last deployed (runs/scheduler/core/schedule_time.go)
    expected = deployed_at + timedelta(hours=(now - deployed_at) // timedelta(hours=1) + 1)
    assert hourly["next_kickoff"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ") and hourly["last_run"] is None
    fired = standin.fire("hourly_predictions_with_latest_model", datetime(2026, 12, 1, 5, 17, tzinfo=timezone.utc),
                         "hourly-0")  # fmt: skip
    assert fired["phase"] == "SUCCEEDED", fired["error"]  # with the newest training run's model (weekly-1)
    table = cluster.unionml("schedules", "flyte2", "--remote", "--now", "2026-12-01T12:00:00Z").stdout.splitlines()
    assert table[1].split() == ["SCHEDULE", "ACTIVE", "VERSION", "LAST", "RUN", "LAST", "KICKOFF", "(UTC)", "NEXT",
                                "KICKOFF", "(UTC)"]  # fmt: skip
    rows = {line.split()[0]: line.split()[1:] for line in table[2:5]}
    assert rows == {
        "weekly_retraining": ["v1", "weekly-1", "SUCCEEDED", "2026-11-30T03:00:00Z", "2026-12-07T03:00:00Z"],
        "daily_predictions": ["v1", "daily-1", "SUCCEEDED", "2026-11-30T06:00:00Z", "2026-12-02T06:00:00Z"],
        # fired at 05:17: the interval runs from its last fire
        "hourly_predictions_with_latest_model": ["v1", "hourly-0", "SUCCEEDED", "2026-12-01T05:17:00Z",
                                                 "2026-12-01T12:17:00Z"],
    }  # fmt: skip


def test_a_failed_run_is_listed_with_its_error_and_cannot_be_fetched(cluster):
    fired = cluster.standin.fire("weekly_retraining", TRAINED_AT[1] + timedelta(days=7), "weekly-bad",
                                 hyperparameters={"C": -1.0, "max_iter": 1000})  # fmt: skip
    assert fired["phase"] == "FAILED" and "parameter of LogisticRegression" in fired["error"]  # C < 0
    listed = cluster.unionml("list-scheduled-training-runs", "flyte2", "weekly_retraining")
    table, failures = listed.stdout.split("\n\n")
    assert table.splitlines()[1].split()[:3] == ["weekly-bad", "2026-12-07T03:00:00Z", "FAILED"]
    assert failures.strip() == f"weekly-bad FAILED at node a0 ({TRAIN}): {fired['error']}"  # the error, one line
    [run] = [r for r in json.loads(cluster.unionml("list-scheduled-training-runs", "flyte2",
                                                   "weekly_retraining", "--json").stdout) if r["phase"] == "FAILED"]  # fmt: skip
    assert run["error_code"] == "KIND_USER" and run["failed_task"] == TRAIN
    refused = cluster.unionml("fetch-model", "flyte2", "weekly-bad", "-o", "m.joblib", code=2)
    assert refused.stderr.splitlines()[0] == "error: run weekly-bad is FAILED [UMG762]"


def test_model_versions_are_the_succeeded_training_runs_newest_first(cluster):
    versions = json.loads(cluster.unionml("list-model-versions", "flyte2", "--json").stdout)
    assert [(v["model_version"], v["launch_plan"], v["app_version"], v["kickoff"]) for v in versions] == [
        ("weekly-1", TRAIN, "v1", "2026-11-30T03:00:00Z"),
        ("weekly-0", TRAIN, "v1", "2026-11-23T03:00:00Z"),
    ]  # weekly-bad failed: not a model version
    table = cluster.unionml("list-model-versions", "flyte2", "--limit", "1")
    assert table.stdout.splitlines()[1].split()[:3] == ["weekly-1", TRAIN, "v1"] and "there are more" in table.stderr
    other = cluster.unionml("list-model-versions", "flyte2", "--app-version", "v2")
    assert other.stdout == "no successful training execution of digits_batch in flytesnacks/development\n"


def test_deactivate_all_switches_every_trigger_off(cluster):
    standin = cluster.standin
    refused = cluster.unionml("deactivate-schedules", "flyte2", "--all", code=2)
    assert refused.stderr.splitlines()[0].endswith("[UMG765]")  # no terminal: --all needs --yes
    result = cluster.unionml("deactivate-schedules", "flyte2", "--all", "--yes")
    assert result.stdout.splitlines() == [
        *(f"{name}: INACTIVE (was active at version v1)" for name in TRIGGERS),
        f"deactivated 3 of 3 schedules in flytesnacks/development ({', '.join(TRIGGERS)})",
    ]
    assert standin.active() == {}
    assert "not active" in standin.fire("weekly_retraining", TRAINED_AT[1], "weekly-2", ok=False)["error"]
    again = cluster.unionml("deactivate-schedules", "flyte2", "weekly_retraining")
    assert again.stdout == "weekly_retraining: INACTIVE (already)\n"
    other = cluster.unionml("activate-schedules", "flyte2", "weekly_retraining", "-d", "production", code=2)
    assert other.stderr.splitlines()[0].endswith("[UMG758]")  # no such project/domain on the stand-in
    assert standin.active() == {}


def test_switch_json_is_the_flyte1_document(cluster):
    """--json of activate-/deactivate-schedules and prune-schedules on a flyte2 project: flyte1's document."""
    before = cluster.standin.active()
    on = cluster.unionml("activate-schedules", "flyte2", "weekly_retraining", "--json")
    document = json.loads(on.stdout)
    assert document == {
        "command": "activate-schedules", "project": "flytesnacks", "domain": "development", "ok": True,
        "changed": [] if "weekly_retraining" in before else ["weekly_retraining"],
        "schedules": [{"name": "weekly_retraining", "state": "ACTIVE", "version": "v1",
                       "changed": "weekly_retraining" not in before, "won": True,
                       "message": on.stderr.strip().splitlines()[-1]}],
    }  # fmt: skip
    off = json.loads(cluster.unionml("deactivate-schedules", "flyte2", "weekly_retraining", "--json").stdout)
    assert [(r["state"], r["changed"]) for r in off["schedules"]] == [("INACTIVE", True)]
    pruned = json.loads(cluster.unionml("prune-schedules", "flyte2", "--dry-run", "--json").stdout)
    assert pruned["command"] == "prune-schedules" and pruned["dry_run"] and pruned["package"] == "digits_batch"
    if "weekly_retraining" in before:
        cluster.unionml("activate-schedules", "flyte2", "weekly_retraining")
    assert cluster.standin.active() == before


def test_prune_switches_off_what_an_earlier_deploy_left_and_leaves_hand_made_triggers_alone(cluster):
    standin = cluster.standin
    standin.control("copy_trigger", task=TRAIN, trigger="weekly_retraining", name="nightly_retraining",
                    keep_annotations=True)  # an earlier deploy of the app scheduled it  # fmt: skip
    standin.control("copy_trigger", task=TRAIN, trigger="weekly_retraining", name="hand_made_retraining",
                    keep_annotations=False)  # someone's own trigger on the project's task  # fmt: skip
    assert set(standin.active()) == {"nightly_retraining", "hand_made_retraining"}
    dry = cluster.unionml("prune-schedules", "flyte2", "--dry-run")
    assert dry.stdout == f"would deactivate nightly_retraining (version v1, runs {TRAIN})\n"
    assert set(standin.active()) == {"nightly_retraining", "hand_made_retraining"}
    result = cluster.unionml("prune-schedules", "flyte2")
    assert result.stdout == f"deactivated nightly_retraining (version v1, runs {TRAIN})\n"
    assert set(standin.active()) == {"hand_made_retraining"}  # not the generator's to prune
    nothing = cluster.unionml("prune-schedules", "flyte2")
    assert nothing.stdout == (
        "nothing to prune: every active schedule of digits_batch in flytesnacks/development is in the project\n"
    )


def test_run_fires_a_trigger_locally_and_gives_the_flyte1_plans_result(cluster):
    app_dir = cluster.root / "digits_batch"
    generated = run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir)  # the same app, the flyte1 target
    assert generated.returncode == 0, generated.stderr
    for schedule, at in (("weekly_retraining", "2026-11-30T03:00:00Z"), ("daily_predictions", "2026-11-30T06:00:00Z")):
        flyte2 = json.loads(cluster.unionml("run", "flyte2", schedule, "--at", at, "--json").stdout)
        flyte1 = run_cli("run", "flyte", schedule, "--at", at, "--json", cwd=app_dir, env=cluster.env)
        assert flyte1.returncode == 0, flyte1.stderr
        assert flyte2 == json.loads(flyte1.stdout) and flyte2["ok"], schedule  # metrics, or every prediction
    text = cluster.unionml("run", "flyte2", "weekly_retraining", "--at", "2026-11-30T03:00:00Z").stdout.splitlines()
    assert text[0] == f"weekly_retraining at 2026-11-30T03:00:00Z (training, {TRAIN}, locally)"
    assert text[3].split()[:2] == ["metrics", "train"]
    shutil.rmtree(app_dir / "flyte")  # one project here again, for the tests that find it


def test_backfill_fires_each_kickoff_locally_as_the_flyte1_backfill_and_refuses_remote(cluster):
    """`unionml backfill` of a flyte2 project: every kickoff of the range, each the trigger's task in the SDK's
    local mode, the same document as the flyte1 project's backfill; --remote is refused (docs/flyte2.md)."""
    app_dir = cluster.root / "digits_batch"
    generated = run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir)  # the same app, the flyte1 target
    assert generated.returncode == 0, generated.stderr
    window = ("--from", "2026-11-09T00:00:00Z", "--to", "2026-11-23T23:00:00Z", "--json")
    flyte2 = json.loads(cluster.unionml("backfill", "flyte2", "weekly_retraining", *window).stdout)
    flyte1 = run_cli("backfill", "flyte", "weekly_retraining", *window, cwd=app_dir, env=cluster.env)
    assert flyte1.returncode == 0, flyte1.stderr
    assert flyte2 == json.loads(flyte1.stdout)
    assert [run["kickoff"] for run in flyte2["runs"]] == ["2026-11-09T03:00:00Z", "2026-11-16T03:00:00Z",
                                                          "2026-11-23T03:00:00Z"] and flyte2["ok"] == 3  # fmt: skip
    shutil.rmtree(app_dir / "flyte")  # one project here again, for the tests that find it
    before = cluster.standin.state()["triggers"]
    result = cluster.unionml("backfill", "flyte2", "weekly_retraining", *window[:4], "--remote", code=2)
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: `unionml backfill --remote` does not start runs of a flyte2 project's triggers")
    assert first.endswith("[UMG751]") and "without --remote" in result.stderr
    assert cluster.standin.state()["triggers"] == before  # nothing sent


def test_no_flyte_sdk_interpreter_is_one_coded_line(cluster, tmp_path):
    app_dir = cluster.root / "digits_batch"
    missing = {**cluster.env, "UNIONML_FLYTE2_PYTHON": str(tmp_path / "missing-python")}
    unset = {key: value for key, value in {**os.environ, **cluster.env}.items() if key != "UNIONML_FLYTE2_PYTHON"}
    without_sdk = {**cluster.env, "UNIONML_FLYTE2_PYTHON": sys.executable}  # flytekit's: no flyte SDK
    for env, said in ((missing, "is not an executable interpreter"), ({**unset, "PATH": str(tmp_path)},
                      "no interpreter with it is configured"), (without_sdk, "has no flyte 2.x SDK")):  # fmt: skip
        result = subprocess.run([*UNIONML, "list-scheduled-training-runs", "flyte2", "weekly_retraining"],
                                cwd=app_dir, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 2, result.stderr
        first, hint = result.stderr.splitlines()
        assert said in first and first.endswith("[UMG775]") and hint.startswith("  hint: ")
    silent = tmp_path / "silent-python"  # answers nothing: the driver's answer is missing
    silent.write_text("#!/bin/sh\necho 'Segmentation fault' >&2\nexit 139\n")
    silent.chmod(0o755)
    result = subprocess.run([*UNIONML, "fetch-model", "flyte2", "weekly-1", "-o", str(tmp_path / "m.joblib")],
                            cwd=app_dir, env={**cluster.env, "UNIONML_FLYTE2_PYTHON": str(silent)},
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 2 and result.stderr.splitlines()[0] == (
        f"error: the flyte SDK's interpreter {silent} exited 139 without an answer: Segmentation fault [UMG778]"
    )
    assert not list(tmp_path.glob("*m.joblib*"))  # no model file, no temporary file


def test_the_docs_show_the_journey_as_the_commands_print_it(cluster):
    """docs/flyte2.md's journey: each command shown (a `bash` block whose marker names this module) is followed
    by a `text` block that is what the command printed here, stderr then stdout (the first time it ran)."""
    from ..support.docs_blocks import blocks_of

    blocks = blocks_of(REPO / "docs" / "flyte2.md", "docs/flyte2.md")
    pairs = [(block, after) for block, after in zip(blocks, blocks[1:])
             if block.language == "bash" and "test_flyte2_commands.py" in str(block.marker)]  # fmt: skip
    assert len(pairs) == 7
    wrong = []
    for block, shown in pairs:
        command = block.body.strip()
        assert shown.language == "text" and command in SHOWN, f"{block.id}: {command} was not run here"
        printed = "\n".join(line.rstrip() for line in SHOWN[command].rstrip("\n").splitlines())
        if DURATION.sub("D", shown.body.rstrip("\n")) != DURATION.sub("D", printed):  # a run's time is its own
            wrong.append(f"{block.id}: `{command}` prints\n{printed}\n")
    assert not wrong, "\n".join(wrong)


def test_an_unreachable_control_plane_is_one_coded_line_and_switches_nothing(cluster, tmp_path):
    closed = tmp_path / "closed.yaml"  # a port nothing listens on
    closed.write_text("admin:\n  endpoint: http://localhost:1\n  insecure: true\n")
    app_dir, before = cluster.root / "digits_batch", cluster.standin.state()["triggers"]
    for args in (("deactivate-schedules", "flyte2", "weekly_retraining"), ("deploy", "flyte2", "--version", "v2")):
        result = run_cli(*args, "--config", str(closed), cwd=app_dir, env=cluster.env)
        assert result.returncode == 2, result.stderr
        first, hint = result.stderr.splitlines()[-2:]
        assert first.startswith("error: cannot reach the Flyte 2 control plane configured in ") and first.endswith(
            "[UMG776]"
        )
        assert hint.startswith("  hint: check the endpoint of your flyte config (--config)")
    assert cluster.standin.state()["triggers"] == before  # nothing reached the stand-in
