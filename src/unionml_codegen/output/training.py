"""`--train-models`: run a rendered project's training workflows in a child process, and read the models OUT keeps.

`train` writes the rendered flytekit project to a temporary directory outside OUT and the repository, and
for each distinct training (a workflow and its inputs) runs `train_child.py` with the interpreter the
generator runs in (`sys.executable`, which needs flytekit and the app's requirements, as `unionml run`
does), in the working directory it runs in (as `unionml run`: a relative path the app's reader opens, a
SQLite file, is the user's): it calls the workflow locally with exactly those inputs and saves the model
once per schedule that uses it, with that schedule's saver arguments. The models' bytes come back; nothing of the run stays.
Progress goes to stderr: a rich status line on a terminal, plain lines otherwise.

`read_trained` reads, for a later run that does not train, what the manifest in OUT records under
`trained_models` and each recorded file's bytes as OUT holds them (bounded, never through a link).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..diagnostics import visible
from ..input_files import MAX_MODEL_BYTES
from .manifest import encoded, read_manifest, safe_path
from .tree import Output, WriteRefused

CHILD = Path(__file__).with_name("train_child.py")


class TrainingFailed(Exception):
    """A training run failed: the schedules it was for and what the project's code raised."""

    def __init__(self, schedules: list[str], message: str):
        super().__init__(message)
        self.schedules = schedules
        self.message = message


@dataclass
class Job:
    """One schedule's model to train: the workflow (module, attribute) and its inputs, how to save it."""

    schedule: str
    module: str
    workflow: str
    inputs: dict[str, Any]
    flavor: str
    saver_kwargs: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # how the progress names the training (`model.train(...)` at line N)


def train(files: dict[str, str | bytes], jobs: list[Job], python: str | None = None) -> dict[str, bytes]:
    """The saved model of each job, by schedule; TrainingFailed at the first training that fails."""
    groups: dict[bytes, list[Job]] = {}
    for job in jobs:  # one run per distinct training: the schedules that use it each save it their way
        groups.setdefault(pickle.dumps((job.module, job.workflow, sorted(job.inputs.items()))), []).append(job)
    models: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="unionml-codegen-train-") as temp:
        project = Path(temp) / "project"
        for path, content in files.items():
            target = project / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(encoded(content))
        for number, group in enumerate(groups.values(), 1):
            names = [job.schedule for job in group]
            labels = "; ".join(sorted({job.label for job in group if job.label}))
            what = f"{group[0].module}.{group[0].workflow}" + (f", {labels}" if labels else "")
            with _progress(f"training the model of {', '.join(names)} ({what})", number, len(groups)) as done:
                models.update(_run(python or sys.executable, Path(temp), project, number, group))
                done()
    return models


def _run(python: str, temp: Path, project: Path, number: int, group: list[Job]) -> dict[str, bytes]:
    first = group[0]
    saves = [(job.schedule, str(temp / f"model-{number}-{index}"), job.flavor, job.saver_kwargs)
             for index, job in enumerate(group)]  # fmt: skip
    request = temp / f"request-{number}.pickle"
    request.write_bytes(pickle.dumps({
        "project": str(project), "module": first.module, "workflow": first.workflow, "inputs": first.inputs,
        "saves": [{"path": path, "flavor": flavor, "saver_kwargs": kwargs} for _, path, flavor, kwargs in saves],
    }))  # fmt: skip
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    names = [job.schedule for job in group]
    try:
        completed = subprocess.run([python, "-B", str(CHILD), str(request)], env=env,
                                   stdin=subprocess.DEVNULL, capture_output=True)  # fmt: skip
    except OSError as exc:
        raise TrainingFailed(names, f"cannot start {python}: {exc.strerror or exc}") from None
    try:
        result = json.loads(Path(f"{request}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = completed.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise TrainingFailed(names, f"the training process exited with {completed.returncode}: {tail[0]}") from None
    if not result.get("ok"):
        raise TrainingFailed(names, str(result.get("error")))
    return {name: Path(path).read_bytes() for name, path, _, _ in saves}


class _progress:
    """A status line while one training runs: rich's spinner with the elapsed time when stderr is a terminal,
    else a plain line before and one after (no escape codes in CI logs)."""

    def __init__(self, label: str, number: int, total: int):
        self.label = f"[{number}/{total}] {label}" if total > 1 else label
        self.started = time.monotonic()
        self.status = None

    def __enter__(self):
        self.label = visible(self.label)
        if sys.stderr.isatty():
            try:
                from rich.console import Console
            except ImportError:  # rich comes with flytekit; without it, plain lines
                Console = None
            if Console is not None:
                self.status = Console(file=sys.stderr).status(self.label + " ...")
                self.status.__enter__()
                return self._done
        print(self.label + " ...", file=sys.stderr, flush=True)
        return self._done

    def _done(self) -> None:
        seconds = time.monotonic() - self.started
        if self.status is not None:
            self.status.__exit__(None, None, None)
            self.status = None
        print(f"{self.label}: done in {seconds:.1f}s", file=sys.stderr, flush=True)

    def __exit__(self, *exc) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


def read_trained(out: Path) -> dict[str, tuple[dict[str, Any], bytes | None, str | None]]:
    """By schedule: the manifest's `trained_models` record, the recorded file's bytes (None when they cannot
    be read) and why not. Empty when OUT has no manifest of the declared shape or it records none."""
    manifest = read_manifest(out)
    section = manifest.get("trained_models") if manifest else None
    if not isinstance(section, dict):
        return {}
    found: dict[str, tuple[dict[str, Any], bytes | None, str | None]] = {}
    try:
        with Output(out) as output:
            for name, record in section.items():
                if not isinstance(record, dict):
                    continue
                vendored = record.get("vendored")
                if not isinstance(vendored, str) or not safe_path(vendored) or output.tree is None:
                    found[name] = (record, None, "is not a path inside the project")
                    continue
                try:
                    found[name] = (record, output.tree.read(vendored, MAX_MODEL_BYTES), None)
                except (OSError, WriteRefused) as exc:
                    found[name] = (record, None, f"cannot be read ({getattr(exc, 'strerror', None) or exc})")
    except (OSError, WriteRefused):
        return {}
    return found
