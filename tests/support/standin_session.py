"""A transcript of the cluster commands against the flyteadmin STAND-IN, for docs/operating.md.

    PYTHONPATH=src python -m tests.support.standin_session [WORKDIR]

Copies examples/digits_batch into WORKDIR (a new temporary directory by default), starts the
stand-in, points FLYTECTL_CONFIG at it, and runs the commands the guide shows from that directory,
printing each command line and its output (stdout and stderr) as a user sees them. Between
commands it plays the native scheduler (`fire`) and edits the app as the guide says. Execution
names are the scheduler's (deterministic); durations and creation times are this run's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from .flyteadmin_standin import FlyteAdminStandin

REPO = Path(__file__).resolve().parents[2]
IMAGE = "ghcr.io/acme/digits-batch:1f2e3d4"  # the image built from the generated Dockerfile


def main() -> None:
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="standin-session-"))
    example = work / "digits_batch"
    shutil.copytree(REPO / "examples" / "digits_batch", example, ignore=shutil.ignore_patterns("flyte2"))
    with FlyteAdminStandin(work / "blob") as standin:
        standin.add_image(IMAGE, example / "flyte")
        env = {**os.environ, "FLYTECTL_CONFIG": str(standin.write_config(work / "config.yaml")),
               "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "100"}  # fmt: skip

        def unionml(*args: str) -> str:
            result = subprocess.run([sys.executable, "-m", "unionml_codegen", *args], cwd=example, env=env,
                                    capture_output=True, text=True, timeout=600)  # fmt: skip
            print(f"$ unionml {' '.join(args)}   # exit {result.returncode}")
            print(result.stdout + result.stderr, end="\n", flush=True)
            return result.stdout

        def scheduler(*kickoffs: tuple[str, datetime]) -> list[str]:
            names = [standin.fire(schedule, at, run=False) for schedule, at in kickoffs]
            standin.run_executions(*names)
            for (schedule, at), name in zip(kickoffs, names):
                row = standin.execution(name)
                print(f"# scheduler: {schedule} at {at.isoformat()} -> {name} phase {row.phase} {row.error or ''}")
            print(flush=True)
            return names

        unionml("generate", "--image", IMAGE)  # deploy refuses the placeholder image
        unionml("deploy", "--version", "v1")
        utc = timezone.utc
        older, newer, daily, hourly = scheduler(
            ("weekly_retraining", datetime(2026, 11, 23, 3, tzinfo=utc)),
            ("weekly_retraining", datetime(2026, 11, 30, 3, tzinfo=utc)),
            ("daily_predictions", datetime(2026, 11, 30, 6, tzinfo=utc)),
            ("hourly_predictions_with_latest_model", datetime(2026, 11, 30, 7, tzinfo=utc)),
        )
        unionml("list-scheduled-training-runs", "weekly_retraining")
        unionml("list-scheduled-prediction-runs", "hourly_predictions_with_latest_model", "--json")
        unionml("list-model-versions")
        unionml("fetch-model", newer, "-o", "model-2026-11-30.joblib")
        unionml("fetch-predictions", daily)
        unionml("deactivate-schedules", "--all", "--yes")
        unionml("activate-schedules", "weekly_retraining")
        unionml("activate-schedules", "weekly_retraining", "nightly_retraining")
        unionml("deploy", "--version", "v2", "--no-schedule")
        unionml("activate-schedules", "--all", "--yes")
        app = example / "app.py"  # the hourly schedule leaves the app
        text = app.read_text()
        start = text.index('model.schedule_prediction(\n    "hourly_predictions_with_latest_model"')
        app.write_text(text[:start].rstrip() + "\n")
        print("# removed hourly_predictions_with_latest_model from app.py\n")
        unionml("generate")
        unionml("deploy", "--version", "v3")
        unionml("prune-schedules", "--dry-run")
        unionml("prune-schedules")
        unionml("backfill", "weekly_retraining", "--remote", "--from", "2026-11-01", "--to", "2026-11-16T23:00:00Z")
        unionml("list-scheduled-training-runs", "weekly_retraining", "--limit", "4")
        unionml("backfill", "weekly_retraining", "--remote", "--dry-run", "--from", "2026-11-23", "--to", "2026-12-08")
        unionml("schedules", "--remote")


if __name__ == "__main__":
    main()
