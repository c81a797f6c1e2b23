"""Benchmark: `unionml generate` against unionml's own route and the parse floor, side by side.

    .venv/bin/python bench/run.py [--repeat N] [--sizes 10,100,1000]

The source of truth for issue 10's targets. Every measurement is a whole command in a fresh
interpreter (as in a pre-commit hook), with the generator's bytecode cached as an installed
package's is (PYTHONDONTWRITEBYTECODE is dropped for the commands: else the generator alone
would compile its modules on every run), and the commands are interleaved: each round runs every
command once, in the same order, so load on the machine falls on all of them alike. For each
app (the digits example, and synthetic apps of 10, 100 and 1,000 training schedules with
proportionally many helper functions and constants, some used by the components and some not):

- `pass`: `python -c pass`, the cost of starting Python at all;
- `floor`: start Python, import libcst, parse the app (`libcst.parse_module`): no generator can
  read the app for less;
- `generate`: `unionml generate app.py -o OUT` into a new directory;
- `warm check`: `unionml generate app.py -o OUT --check` on an up-to-date project this machine
  generated, so its cache (cache.py, in the run's own cache directory) vouches for it: a developer's
  pre-commit hook;
- `cold check`: the same with `--no-cache`: render everything and compare byte for byte, as CI does
  on a fresh machine;
- `unionml` (digits only): unionml 0.2.1's route to the same launch plans: import the app and
  build each schedule's LaunchPlan in memory (`model.train_workflow()` + unionml's
  `create_scheduled_launchplan`), which is what `unionml deploy` does before it talks to a cluster.

Prints the machine, the load average, then a Markdown table of medians (seconds) and peak memory
(max RSS of the child, MB), and a table of the targets with met / not met. Nothing in the test
suite depends on these timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DIGITS = REPO / "examples" / "digits" / "app.py"
SRC = REPO / "src"

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
    except Exception as exc:  # kept from when a schedule failed to build; on flytekit 1.16.31 they build
        pass
"""

FLOOR = "import libcst, sys; libcst.parse_module(open('app.py', 'rb').read())"

IMPORTS = """
import sys
sys.argv = ["unionml", "generate", "app.py", "-o", "flyte", "--check"]
from unionml_codegen.cli import main
try:
    main(prog_name="unionml")
except SystemExit:
    pass
print(",".join(sorted({m.split(".")[0] for m in sys.modules} & {"libcst", "jinja2", "black", "croniter"})))
"""


def synthetic(count: int) -> str:
    """The digits app with `count` training schedules, `count // 10` helper functions the reader
    uses (through a table), as many it does not, and a constant per helper and schedule group."""
    head, _, _ = DIGITS.read_text().partition("\ndef snapshot_size")
    helpers = max(1, count // 10)
    lines = [head.rstrip(), ""]
    for k in range(helpers):
        lines += [
            f"OFFSET_{k} = {k % 13}",
            f"UNUSED_{k} = {{'k': {k}, 'name': 'unused_{k}'}}",
            f"C_{k} = {1 + k % 7}.0",
        ]
    lines.append("")
    for k in range(helpers):
        lines += ["", f"def offset_{k}(time: datetime) -> int:", f"    return (OFFSET_{k} * time.day) % 7", ""]
        lines += ["", f"def unused_{k}(time: datetime) -> int:", f"    return UNUSED_{k}['k'] + time.day", ""]
    lines.append("OFFSETS = [" + ", ".join(f"offset_{k}" for k in range(helpers)) + "]")
    body = DIGITS.read_text().partition("\ndef snapshot_size")[2].split("\nmodel.schedule_training(")[0]
    body = body.replace(
        "return BASE_ROWS + ROWS_PER_DAY * time.day",
        "return BASE_ROWS + ROWS_PER_DAY * time.day + sum(offset(time) for offset in OFFSETS)",
    )
    lines.append("\ndef snapshot_size" + body.rstrip())
    lines.append("")
    for i in range(count):
        lines.append(
            f"model.schedule_training(\n"
            f'    name="training_{i:04d}",\n'
            f'    expression="{i % 60} {i % 24} * * *",\n'
            f'    reader_time_arg="time",\n'
            f'    hyperparameters={{**HYPERPARAMETERS, "C": C_{i % helpers}}},\n'
            f")\n"
        )
    return "\n".join(lines)


CACHE: Path | None = None  # the run's own cache directory (never the user's)


def child_env() -> dict[str, str]:
    """The commands' environment: the generator from this checkout, its bytecode cached as an
    installed package's is (as libcst's and unionml's are); the first, untimed run writes it."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("UNIONML_CODEGEN_NO_CACHE", None)
    if CACHE is not None:
        env["UNIONML_CODEGEN_CACHE_DIR"] = str(CACHE)
    return env


def run(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall-clock seconds and peak memory (max RSS, MB) of one command in a fresh interpreter."""
    env = child_env()
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} in {cwd} failed ({proc.returncode}):\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024  # KB on Linux


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="10,100,1000", help="schedules of the synthetic apps")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    global CACHE
    work = Path(tempfile.mkdtemp(prefix="unionml-bench-"))
    CACHE = work / "cache"
    generate = [PYTHON, "-m", "unionml_codegen", "generate", "app.py", "-o"]
    apps: dict[str, Path] = {}
    try:
        for name, text in [("digits", DIGITS.read_text())] + [(f"{n} schedules", synthetic(n)) for n in sizes]:
            directory = work / name.replace(" ", "_")
            directory.mkdir()
            (directory / "app.py").write_text(text)
            run(generate + ["flyte"], directory)  # the up-to-date project `check` compares with
            apps[name] = directory
        imported = subprocess.run(
            [PYTHON, "-c", IMPORTS], cwd=apps["digits"], env=child_env(),
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip

        commands: list[tuple[str, str, list[str]]] = []
        for name in apps:
            commands += [
                (name, "pass", [PYTHON, "-c", "pass"]),
                (name, "floor", [PYTHON, "-c", FLOOR]),
                (name, "generate", generate + ["fresh"]),
                (name, "warm check", generate + ["flyte", "--check"]),
                (name, "cold check", generate + ["flyte", "--check", "--no-cache"]),
            ]
        commands.append(("digits", "unionml", [PYTHON, "-c", UNIONML_ROUTE]))
        times: dict[tuple[str, str], list[float]] = {(a, w): [] for a, w, _ in commands}
        memory: dict[tuple[str, str], list[float]] = {(a, w): [] for a, w, _ in commands}
        load_before = os.getloadavg()
        for _ in range(args.repeat):
            for app, what, command in commands:
                shutil.rmtree(apps[app] / "fresh", ignore_errors=True)
                elapsed, peak = run(command, apps[app])
                times[app, what].append(elapsed)
                memory[app, what].append(peak)
        load_after = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = {key: statistics.median(value) for key, value in times.items()}
    peak = {key: max(value) for key, value in memory.items()}
    print(f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")  # fmt: skip
    print(f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {args.repeat} interleaved rounds")
    print(f"- load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}")
    print()
    print("| app | python -c pass (s) | floor (s) | generate (s) | generate / floor | warm check (s) "
          "| warm / pass | cold check (s) | cold / floor | unionml 0.2.1 route (s) | generate peak (MB) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for app in apps:
        unionml = f"{med[app, 'unionml']:.2f}" if (app, "unionml") in med else ""
        print(f"| {app} | {med[app, 'pass']:.3f} | {med[app, 'floor']:.2f} | {med[app, 'generate']:.2f} | "
              f"{med[app, 'generate'] / med[app, 'floor']:.2f}x | {med[app, 'warm check']:.3f} | "
              f"{med[app, 'warm check'] / med[app, 'pass']:.2f}x | {med[app, 'cold check']:.2f} | "
              f"{med[app, 'cold check'] / med[app, 'floor']:.2f}x | {unionml} | {peak[app, 'generate']:.0f} |")  # fmt: skip
    print()
    rows = []
    speedup = med["digits", "unionml"] / med["digits", "warm check"]
    rows.append(("1. warm `--check` vs unionml's route, digits", ">= 20x faster", f"{speedup:.1f}x", speedup >= 20))
    warm = med["digits", "warm check"] / med["digits", "pass"]
    rows.append(("1. warm `--check` vs `python -c pass`, digits", "<= 3x", f"{warm:.2f}x", warm <= 3))
    rows.append(("1. warm `--check` imports none of libcst, jinja2, black, croniter", "none", imported or "none",
                 not imported))  # fmt: skip
    for app in apps:
        cold = med[app, "cold check"] / med[app, "floor"]
        rows.append((f"2. cold `--check` vs parse floor, {app}", "<= 3x", f"{cold:.2f}x", cold <= 3))
    if sizes:
        largest = f"{max(sizes)} schedules"
        ratio = med[largest, "generate"] / med[largest, "floor"]
        rows.append((f"3. fresh `generate` vs parse floor, {largest}", "<= 3x", f"{ratio:.2f}x", ratio <= 3))
        for small, big in zip(sizes, sizes[1:]):
            step = med[f"{big} schedules", "generate"] / med[f"{small} schedules", "generate"]
            rows.append((f"3. growth of `generate`, {small} -> {big} schedules", "<= 12x", f"{step:.2f}x", step <= 12))
        memory_ratio = peak[largest, "generate"] / peak[largest, "floor"]
        rows.append((f"4. peak memory of `generate` vs parse floor, {largest}", "< 2x", f"{memory_ratio:.2f}x",
                     memory_ratio < 2))  # fmt: skip
    print("| target | goal | measured | met |")
    print("|---|---|---|---|")
    for name, goal, value, met in rows:
        print(f"| {name} | {goal} | {value} | {'met' if met else 'NOT met'} |")
    if os.environ.get("BENCH_JSON"):
        Path(os.environ["BENCH_JSON"]).write_text(json.dumps({f"{a}|{w}": v for (a, w), v in times.items()}))


if __name__ == "__main__":
    main()
