"""Turn each prediction schedule's model into an explicit, reviewable reference.

unionml takes a prediction schedule's model from memory (`model_object=`, or the artifact of
the last `model.train(...)`), from a file, or from a training execution. The generator cannot
know a model in memory, so those need a file bound with `--model NAME=PATH`; a literal file is
vendored into the package under a content-addressed name; a remote URI or a model version is
kept as a reference that the generated tasks resolve at run time.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from .. import codes
from ..diagnostics import Diagnostics, Position
from ..input_files import MAX_MODEL_BYTES, InputError, check_path, inside, project_root, read_file
from ..spec import App, Expression, ModelReference, ModelSpec, Schedule
from .training import Training, handles, trained_reference

MAX_VENDORED_NAME = 100  # characters of the model file's name kept in the vendored name (after its hash)
REMOTE_SCHEMES = ("s3://", "gs://", "gcs://", "abfs://", "abfss://", "az://", "https://", "http://")
FLAVORS = {"sklearn": "sklearn", "torch": "pytorch", "keras": "keras", "tensorflow": "keras"}
_FIXES = (
    'give the schedule `model_file="model.joblib"` (a literal path, relative to the app) or '
    '`model_version="latest"`, or bind a file when generating: `unionml generate APP -o OUT --model {name}=PATH`'
)


def resolve_models(
    app: App, bindings: dict[str, Path], app_dir: Path, diagnostics: Diagnostics, training: Training | None = None
) -> dict[str, ModelReference]:
    """Each prediction schedule's model; `training`: what --train-models trains or keeps (training.py)."""
    predictions = {s.name: s for s in app.schedules if s.kind == "prediction"}
    for name in sorted(set(bindings) - set(predictions)):
        diagnostics.error(
            codes.UNKNOWN_MODEL_BINDING,
            Position(1, 1),
            f"--model {name}=...: the app has no prediction schedule named '{name}'",
            f"prediction schedules: {', '.join(sorted(predictions)) or 'none'}",
        )
    references: dict[str, ModelReference] = {}
    for name, schedule in predictions.items():
        if bindings.get(name) is None and handles(schedule, training):
            reference = trained_reference(app, schedule, training, diagnostics)
        else:
            reference = _resolve(schedule, bindings.get(name), app_dir, diagnostics)
        if reference is None:
            continue
        model = app.models.get(schedule.model)
        if reference.kind != "version" and model is not None and model_flavor(app, model) is None:
            diagnostics.error(
                codes.UNKNOWN_MODEL_LOADER,
                schedule.position,
                f"prediction schedule '{name}' loads a model file, but the generator cannot tell how to load "
                f"a model of '{model.name}' ({model.init.text if model.init else 'no init'})",
                "unionml loads scikit-learn, PyTorch and Keras models by default; register a "
                f"`@{model.variable}.loader` function for other model types",
            )
            continue
        references[name] = reference
    return references


_PLACEHOLDER = re.compile(r"^\s*(<[^<>]*>|\{[^{}]*\}|\$\{[^{}]*\})\s*$")


def _placeholder(version: str) -> bool:
    """Whether a model version is a template's placeholder (`"<MODEL_VERSION>"`, `"{version}"`, `"${VERSION}"`)
    rather than a training execution's name: every run would fail to find it."""
    return _PLACEHOLDER.match(version) is not None


def _resolve(
    schedule: Schedule, binding: Path | None, app_dir: Path, diagnostics: Diagnostics
) -> ModelReference | None:
    source = schedule.model_source or {}
    given = [key for key in ("model_object", "model_version", "model_file") if source.get(key) is not None]
    if len(given) > 1:
        diagnostics.error(
            codes.SEVERAL_MODEL_SOURCES,
            schedule.position,
            f"prediction schedule '{schedule.name}' gives {' and '.join(given)}; unionml accepts only one of "
            "model_object, model_version and model_file",
            "keep the one the schedule should use",
        )
        return None
    if binding is not None:
        return _vendored(binding, str(binding), schedule, schedule.position, diagnostics, app_dir, bound=True)
    if source.get("model_version") is not None:
        version = source["model_version"]
        if not isinstance(version, str) or not version.strip() or _placeholder(version):
            shown = (
                f"{version!r}, a placeholder" if isinstance(version, str) and version.strip()
                else "an empty string" if isinstance(version, str) else f"a {type(version).__name__}"
            )  # fmt: skip
            diagnostics.error(
                codes.INVALID_MODEL_VERSION,
                schedule.at("model_version"),
                f"prediction schedule '{schedule.name}': model_version is {shown}; it names a training execution",
                'give the training execution\'s name, or `model_version="latest"` for the newest successful one',
            )
            return None
        app_version = source.get("app_version")
        if isinstance(app_version, str) and _placeholder(app_version):
            diagnostics.error(
                codes.INVALID_MODEL_VERSION,
                schedule.at("app_version"),
                f"prediction schedule '{schedule.name}': app_version is {app_version!r}, a placeholder; it names "
                "the deployed version whose training execution the model comes from",
                "give the version the project was deployed with (`unionml deploy OUT --version V`), or leave it out",
            )
            return None
        return ModelReference("version", version, app_version=app_version)
    model_file = source.get("model_file")
    if isinstance(model_file, str):
        if model_file.startswith(REMOTE_SCHEMES):
            return ModelReference("uri", model_file)
        return _vendored(app_dir / model_file, model_file, schedule, schedule.at("model_file"), diagnostics, app_dir)
    if isinstance(model_file, Expression):
        where, what = schedule.at("model_file"), f"model_file={model_file.text} is computed when the app runs"
    elif isinstance(source.get("model_object"), Expression):
        where, what = schedule.at("model_object"), f"model_object={source['model_object'].text} is an object in memory"
    elif schedule.model_train_call is not None:
        line = schedule.model_train_call.line
        where, what = schedule.position, f"it would use the model trained by `model.train(...)` at line {line}"
    else:
        where, what = schedule.position, "it names no model, and no `model.train(...)` runs before it"
    fixes = _FIXES.format(name=schedule.name)
    if schedule.model_training is not None:  # rules/training.py: the generator can train it
        fixes = f"let the generator train it: `unionml generate APP -o OUT --train-models`; or {fixes}"
    diagnostics.error(
        codes.MODEL_NOT_STATIC,
        where,
        f"the generator cannot know the model of prediction schedule '{schedule.name}': {what}",
        fixes,
    )
    return None


def _vendored(
    path: Path,
    shown: str,
    schedule: Schedule,
    where: Position,
    diagnostics: Diagnostics,
    app_dir: Path,
    bound: bool = False,
) -> ModelReference | None:
    """Read and hash a model file. One the app names must be inside the app's project (links
    resolved); one bound on the command line (`--model`) is the user's choice. Either way only a
    regular file of at most `MAX_MODEL_BYTES` is read."""
    origin = f"--model {schedule.name}={shown!r}" if bound else f"model_file {shown!r}"
    try:
        check_path(shown, origin)
        root = project_root(app_dir)
        if not bound and not inside(path, root):
            diagnostics.error(
                codes.MODEL_FILE_OUTSIDE_PROJECT,
                where,
                f"{origin} is outside the app's project ({root}); model files an app names must be inside it",
                "move the model file into the project (the directory with the app's .git or pyproject.toml), "
                f"or bind a file yourself when generating: --model {schedule.name}=PATH",
            )
            return None
        data = read_file(path, MAX_MODEL_BYTES, origin)
    except InputError as exc:
        diagnostics.error(
            codes.UNREADABLE_MODEL_FILE,
            where,
            f"cannot read the model file: {exc}",
            "the path is relative to the current directory" if bound else "the path is relative to the app file",
        )
        return None
    sha256 = hashlib.sha256(data).hexdigest()
    if bound:  # recorded relative to the app, so the output names no machine's paths
        shown = Path(os.path.relpath(path.resolve(), app_dir.resolve())).as_posix()
    try:
        shown.encode("utf-8")
    except UnicodeEncodeError:
        diagnostics.error(
            codes.MODEL_PATH_NOT_UTF8,
            where,
            f"{origin}: the path {shown!r} has bytes that are not UTF-8",
            "the generated project names the model file by that path: rename it",
        )
        return None
    return ModelReference(
        "file",
        Path(shown).as_posix(),
        vendored=f"models/{sha256[:16]}-{_vendored_name(path.name)}",
        sha256=sha256,
        size=len(data),
        data=data,
    )


def _vendored_name(name: str, limit: int = MAX_VENDORED_NAME) -> str:
    """The model file's name made safe for a file name: other characters replaced, at most `limit`
    characters (its extension kept, so a loader that goes by it still can)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    if len(safe) <= limit:
        return safe
    stem, dot, extension = safe.rpartition(".")
    extension = extension[:16] if dot and stem else ""
    return safe[: limit - len(extension) - 1] + "." + extension if extension else safe[:limit]


def model_flavor(app: App, model: ModelSpec) -> str | None:
    """How unionml's default saver and loader treat this model: sklearn, pytorch, keras, or custom."""
    if "loader" in model.components:
        return "custom"
    candidates = []
    init = model.components.get("init")
    if init is not None and init.function.returns is not None:
        candidates.append(init.function.returns.text)
    elif model.init is not None:
        candidates.append(model.init.text)
    trainer = model.components.get("trainer")
    if trainer is not None and trainer.function.returns is not None:
        candidates.append(trainer.function.returns.text)
    for text in candidates:
        for qualified in _qualified(app, text):
            flavor = FLAVORS.get(qualified.split(".")[0])
            if flavor:
                return flavor
    return None


def _qualified(app: App, text: str) -> list[str]:
    head, _, rest = text.strip().partition(".")
    binding = app.imports.get(head)
    if binding is not None:
        base = binding.module if binding.name is None else f"{binding.module}.{binding.name}"
        return [f"{base}.{rest}" if rest else base]
    return list(app.class_bases.get(head, ()))
