"""Benchmark: how long `unionml generate` takes, against unionml's own import-and-build route.

    .venv/bin/python bench/run.py [--repeat N]

Measures wall-clock time of whole commands (each a fresh interpreter, as in a pre-commit hook):
1. `unionml generate examples/digits/app.py -o OUT --check` on an up-to-date project;
2. the same app written fresh to a new directory;
3. an app with 1,000 training schedules (generated from the digits app), written and then checked;
4. `python -c "import flytekit"`, a floor for anything that imports flytekit;
5. unionml 0.2.1's route: import the app and build each schedule's LaunchPlan in memory
   (`model.train_workflow()` + unionml's `create_scheduled_launchplan`), which is what
   `unionml deploy` does before it talks to a cluster.
Prints the median and min of N runs for each. Results are not asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DIGITS = REPO / "examples" / "digits" / "app.py"

UNIONML_ROUTE = """
import importlib.util
from unionml.schedule import create_scheduled_launchplan
spec = importlib.util.spec_from_file_location("app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
workflow = app.model.train_workflow()
for s in app.model.training_schedules:
    try:
        create_scheduled_launchplan(workflow, s.name, expression=s.expression, offset=s.offset,
                                    fixed_rate=s.fixed_rate, time_arg=s.time_arg, inputs=s.inputs)
    except Exception as exc:  # unionml 0.2.1's training schedules fail to build on flytekit 1.16
        pass
"""


def many_schedules(count: int) -> str:
    source = DIGITS.read_text().split('if __name__ == "__main__":')[0]
    calls = "".join(
        f'model.schedule_training("training_{i:04d}", expression="{i % 60} {i % 24} * * *", '
        f'reader_time_arg="time", hyperparameters={{"C": {1 + i % 7}.0, "max_iter": 1000}})\n'
        for i in range(count)
    )
    return source + "\n" + calls


def timed(command: list[str], cwd: Path, repeat: int, before=None) -> list[float]:
    times = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="unionml-bench-"))
    digits = work / "digits"
    digits.mkdir()
    shutil.copy(DIGITS, digits / "app.py")
    big = work / "big"
    big.mkdir()
    (big / "app.py").write_text(many_schedules(1000))
    generate = [PYTHON, "-m", "unionml_codegen", "generate", "app.py", "-o"]
    subprocess.run(generate + ["flyte"], cwd=digits, check=True, capture_output=True)

    def fresh(directory: Path):
        return lambda: shutil.rmtree(directory / "fresh", ignore_errors=True)

    results = {
        "generate --check, digits (up to date)": timed(generate + ["flyte", "--check"], digits, args.repeat),
        "generate, digits (fresh directory)": timed(generate + ["fresh"], digits, args.repeat, fresh(digits)),
        "generate, 1,000 schedules (fresh)": timed(generate + ["fresh"], big, args.repeat, fresh(big)),
    }
    subprocess.run(generate + ["flyte"], cwd=big, check=True, capture_output=True)
    results["generate --check, 1,000 schedules"] = timed(generate + ["flyte", "--check"], big, args.repeat)
    results["python -c 'import flytekit'"] = timed([PYTHON, "-c", "import flytekit"], digits, args.repeat)
    results["unionml 0.2.1: import app + build plans, digits"] = timed([PYTHON, "-c", UNIONML_ROUTE], digits,
                                                                      args.repeat)  # fmt: skip
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; {args.repeat} runs each")  # fmt: skip
    for name, times in results.items():
        print(f"{name:50s} median {statistics.median(times):6.2f} s   min {min(times):6.2f} s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
