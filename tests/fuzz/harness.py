"""Run `unionml generate` on one fuzzed app and check the properties every input must have.

Properties (issue 13, "What to build"):

1. exit 0 with a project whose every Python file compiles (and, when asked, that `pyflyte package`
   accepts and whose launch plans pass flyteadmin's rules) and that `--check` then finds up to date,
   or exit 2 with at least one `error:` diagnostic and no output directory;
2. never a traceback, and no exit code but 0 and 2;
3. no file outside OUT touched: the directory holding the app and OUT is snapshotted before and after;
4. bounded time and memory: the run is killed after `timeout` seconds, and its address space may
   grow by `memory` bytes (a forked child starts with the test process's mappings).

The generator runs in a forked child of the test process (`fork_generate`): fast, since nothing is
imported again, and isolated, so that a hang, a memory blow-up or a crash kills the child, not the run.
The child calls the click command in-process (`cli.main(..., standalone_mode=False)`) with its
stderr going to a file. `subprocess_generate` runs the real command line instead (`python -m
unionml_codegen`), for a sample of the inputs and wherever fork is not available.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODEL_FILE = REPO / "examples" / "digits_batch" / "model.joblib"
TIMEOUT = 20.0  # seconds per input
MEMORY = 2 * 1024**3  # bytes of address space per input


@dataclass
class Run:
    """What one generator run did."""

    code: int | None  # exit code; None when killed (timeout) or ended by a signal
    stderr: str
    seconds: float
    signal: int | None = None
    timed_out: bool = False


@dataclass
class Outcome:
    run: Run
    problems: list[str] = field(default_factory=list)
    project: Path | None = None  # OUT, when the run wrote it

    @property
    def ok(self) -> bool:
        return not self.problems

    def signature(self) -> str:
        """A short, stable description of the failure, to group findings."""
        if not self.problems:
            return "ok"
        first = self.problems[0]
        if "Traceback" in self.run.stderr:
            lines = [line for line in self.run.stderr.strip().splitlines() if line and not line.startswith(" ")]
            last = lines[-1] if lines else ""
            where = [line.strip() for line in self.run.stderr.splitlines() if line.strip().startswith('File "')]
            frame = where[-1].split(",")[0:3] if where else []
            return f"traceback: {last[:120]} at {' '.join(frame)[-120:]}"
        return first.splitlines()[0][:160]


def _snapshot(root: Path, skip: Path) -> dict[str, tuple]:
    """Every entry under root (not under `skip`), with what a write would change."""
    entries: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        current = Path(dirpath)
        if current == skip or skip in current.parents:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = current / name
            if path == skip:
                continue
            st = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return entries


def _address_space() -> int:
    """Bytes of address space this process maps now (/proc/self/statm's first field)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _child(command, args: list[str], stderr_path: str, memory: int) -> None:
    """In the forked child: limit memory, run the command line in-process, exit with its code."""
    code = 70
    try:
        fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        os.dup2(fd, 1)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        limit = _address_space() + memory  # the fork inherits the test process's mappings (torch, gRPC threads...)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        try:
            command(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # what a user would see as a traceback
            traceback.print_exc()
            code = 99
    except BaseException:
        try:
            traceback.print_exc()
        except BaseException:
            pass
        code = 98
    finally:
        try:
            sys.stderr.flush()
            sys.stdout.flush()
        except BaseException:
            pass
        os._exit(code)


def _unionml(args: list[str]) -> None:
    from unionml_codegen.cli import main

    main.main(args, prog_name="unionml", standalone_mode=False)


def _pyflyte(args: list[str]) -> None:
    from flytekit.clis.sdk_in_container.pyflyte import main

    sys.dont_write_bytecode = True  # no __pycache__ in the project
    main.main(args, prog_name="pyflyte", standalone_mode=False)


def fork_generate(args: list[str], cwd: Path, timeout: float = TIMEOUT, memory: int = MEMORY) -> Run:
    """`unionml ARGS` in a forked child of this process, with bounded time and memory."""
    return fork_command(_unionml, args, cwd, timeout, memory)


def fork_command(command, args: list[str], cwd: Path, timeout: float = TIMEOUT, memory: int = MEMORY) -> Run:
    """`command(args)` (a click command run in-process) in a forked child, with bounded time and memory."""
    with tempfile.NamedTemporaryFile("rb", suffix=".stderr", delete=False) as handle:
        stderr_path = handle.name
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.chdir(cwd)
        except BaseException:
            os._exit(97)
        _child(command, args, stderr_path, memory)
    timed_out = False
    status = 0
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            timed_out = True
            break
        time.sleep(0.005)
    seconds = time.monotonic() - start
    stderr = Path(stderr_path).read_bytes().decode("utf-8", "backslashreplace")
    os.unlink(stderr_path)
    if timed_out:
        return Run(None, stderr, seconds, timed_out=True)
    if os.WIFSIGNALED(status):
        return Run(None, stderr, seconds, signal=os.WTERMSIG(status))
    return Run(os.WEXITSTATUS(status), stderr, seconds)


#: `python -m unionml_codegen` under an address-space limit (the first argument), set by the new
#: interpreter itself: a `preexec_fn` would run Python between fork and exec in a test process that
#: has gRPC threads, which is not safe (a child once aborted in gRPC's poller there).
_LIMITED_MAIN = (
    "import resource, runpy, sys\n"
    "limit = int(sys.argv.pop(1))\n"
    "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
    "runpy.run_module('unionml_codegen', run_name='__main__', alter_sys=True)\n"
)


def subprocess_generate(args: list[str], cwd: Path, timeout: float = TIMEOUT, memory: int = MEMORY) -> Run:
    """`python -m unionml_codegen ARGS` as a user runs it, with bounded time and memory."""
    start = time.monotonic()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _LIMITED_MAIN, str(memory), *args],
            cwd=cwd, capture_output=True, timeout=timeout, env=env,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        stderr = (exc.stderr or b"").decode("utf-8", "backslashreplace")
        return Run(None, stderr, time.monotonic() - start, timed_out=True)
    stderr = done.stderr.decode("utf-8", "backslashreplace")
    if done.returncode < 0:
        return Run(None, stderr, time.monotonic() - start, signal=-done.returncode)
    return Run(done.returncode, stderr, time.monotonic() - start)


def check_app(
    source: str | bytes,
    *,
    package_dir: str = "fuzzed",
    runner=fork_generate,
    pyflyte: bool = False,
    keep: Path | None = None,
    timeout: float = TIMEOUT,
) -> Outcome:
    """Generate `source` (an app, written as `<tmp>/<package_dir>/app.py` beside a model file) into
    `<tmp>/out` and check every property. With `pyflyte`, a written project is also packaged."""
    with tempfile.TemporaryDirectory(prefix="unionml-fuzz-") as tmp:
        root = Path(tmp)
        app_dir = root / package_dir
        app_dir.mkdir()
        data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
        (app_dir / "app.py").write_bytes(data)
        shutil.copy(MODEL_FILE, app_dir / "model.joblib")
        out = root / "out"
        before = _snapshot(root, out)
        run = runner(["generate", f"{package_dir}/app.py", "-o", "out"], root, timeout=timeout)
        outcome = Outcome(run)
        problems = outcome.problems
        after = _snapshot(root, out)
        if run.timed_out:
            problems.append(f"hang: no exit after {timeout:.0f} s")
        elif run.signal is not None:
            problems.append(f"killed by signal {run.signal}")
        elif run.code not in (0, 2):
            problems.append(f"exit code {run.code}")
        if "Traceback (most recent call last)" in run.stderr:
            problems.append("traceback on stderr")
        if before != after:
            changed = sorted(set(before) ^ set(after) | {k for k in before if k in after and before[k] != after[k]})
            problems.append(f"files outside OUT changed: {changed[:5]}")
        if run.code == 2:
            if "error:" not in run.stderr:
                problems.append("exit 2 without an `error:` diagnostic")
            if out.exists():
                problems.append("exit 2 but OUT was created")
        elif run.code == 0:
            problems.extend(_check_project(out, pyflyte))
            again = runner(["generate", f"{package_dir}/app.py", "-o", "out", "--check"], root, timeout=timeout)
            if again.code != 0 or "Traceback" in again.stderr:
                problems.append(f"exit 0, but `--check` right after exits {again.code}: {again.stderr[-300:]}")
        if keep is not None and out.is_dir():
            shutil.copytree(out, keep, dirs_exist_ok=True)
            outcome.project = keep
        return outcome


def _check_project(out: Path, pyflyte: bool) -> list[str]:
    problems = []
    if not out.is_dir():
        return ["exit 0 but OUT was not written"]
    packages = []
    for path in sorted(out.rglob("*.py")):
        try:
            compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:
            problems.append(f"exit 0 but {path.relative_to(out)} does not compile: {exc}")
        if path.name == "launch_plans.py":
            packages.append(path.parent.name)
    if not packages:
        problems.append("exit 0 but no launch_plans.py was written")
    if pyflyte and not problems:
        problems.extend(_package(out, packages))
    return problems


def _package(out: Path, packages: list[str], fork_package: bool = True) -> list[str]:
    from ..support.flyte_package import flyteadmin_problems, load_entities, package

    problems = []
    for name in packages:
        with tempfile.TemporaryDirectory() as tmp:
            tgz = Path(tmp) / "p.tgz"
            if fork_package:  # pyflyte's command in a forked child: no interpreter start, flytekit imported once
                import flytekit.clis.sdk_in_container.pyflyte  # noqa: F401 - here, so that children have it

                fork_package = threading.active_count() == 1  # forking a threaded process could deadlock
            if fork_package:
                run = fork_command(_pyflyte, ["--pkgs", name, "package", "--image", "ghcr.io/example/app:v1",
                                              "-o", str(tgz), "--force"], out, timeout=120, memory=4 * MEMORY)  # fmt: skip
                if run.code != 0 or not tgz.is_file():
                    tail = [line for line in run.stderr.splitlines() if line.strip()][-3:]
                    problems.append("exit 0 but pyflyte package fails: " + " | ".join(tail)[:400])
                    continue
            else:
                try:
                    package(out, name, output=tgz, timeout=120)
                except AssertionError as exc:
                    tail = [line for line in str(exc).splitlines() if line.strip()][-3:]
                    problems.append("exit 0 but pyflyte package fails: " + " | ".join(tail)[:400])
                    continue
            entities = load_entities(tgz)
        for lp_name, lp in sorted(entities.launch_plans.items()):
            if lp.spec.entity_metadata.HasField("schedule"):
                for problem in flyteadmin_problems(lp, entities):
                    problems.append(f"exit 0 but flyteadmin refuses {lp_name}: {problem}")
    return problems
