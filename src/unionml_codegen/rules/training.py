"""Models the generator trains itself (`unionml generate --train-models`), and keeps from the last training.

A prediction schedule whose model comes from a `model.train(...)` of the app (read/train_calls.py) has no
file the generator can vendor. With `--train-models` the generator runs the project's own training
workflow locally with exactly the call's arguments (train.py), saves the model as unionml's default saver
does, and vendors the file like a `--model` file; the manifest records what produced it
(`trained_models`, render/trained.py). Here the call is checked and turned into the workflow's inputs, as
the project's training launch plans would pass them (the dataset's splitter and parser defaults under the
call's own kwargs), and `key` is the part of the record that must equal what the app gives now.

Without `--train-models` (and always with `--check` / `--diff`, which never train) a model trained before
is kept when the manifest in OUT records it with the same key and the file in OUT has the recorded sha256;
anything else is an error that says to train again. The bytes are read from OUT, never from the record, and
the key is computed from the app, never taken from the record (docs/security.md, "Trained models").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from .. import codes
from ..diagnostics import Diagnostics
from ..names import json_and_python
from ..spec import App, ModelReference, ModelSpec, Schedule, TrainedModel
from . import model_sources  # (which imports this module: model_flavor is read when called)

#: The model types the generator saves as unionml 0.2.1's default saver does, and the file's extension.
SAVERS = {"sklearn": ("joblib.dump", ".joblib"), "pytorch": ("torch.save", ".pt")}
#: The record's entries that must equal what the app gives now for a trained model to be kept.
KEY = ("flavor", "inputs", "inputs_python", "saver_kwargs", "saver_kwargs_python")
_AGAIN = (
    "train it again: `unionml generate APP -o OUT --train-models` (it runs the project's training workflow locally)"
)


@dataclass(frozen=True)
class Kept:
    """A model the manifest in OUT records as trained (its `trained_models` entry), and its file as OUT holds it."""

    record: dict[str, Any]
    data: bytes | None = field(default=None, repr=False)
    problem: str | None = None  # why the file could not be read


@dataclass(frozen=True)
class Training:
    """`train`: train the models (--train-models, never with --check/--diff); `kept`: by schedule name."""

    train: bool = False
    kept: dict[str, Kept] = field(default_factory=dict)
    #: the app as the flyte1 target reads it, when generating for another target: the flytekit project that
    #: trains is rendered from it (generate.py)
    app: App | None = field(default=None, repr=False)


def handles(schedule: Schedule, training: Training | None) -> bool:
    """Whether the schedule's model is one the generator trains now or keeps from its last training."""
    return (
        schedule.model_training is not None
        and training is not None
        and (training.train or schedule.name in training.kept)
    )


def trained_reference(
    app: App, schedule: Schedule, training: Training, diagnostics: Diagnostics
) -> ModelReference | None:
    """The schedule's trained model: to train (no data yet), kept from OUT, or None after an error."""
    trained = _trained_model(app, schedule, diagnostics)
    if trained is None:
        return None
    if training.train:
        return ModelReference("file", _source(trained), training=trained)
    kept = training.kept[schedule.name]
    recorded = {key: kept.record.get(key) for key in KEY}
    if recorded != trained.key:
        changed = ", ".join(key for key in KEY if recorded[key] != trained.key[key])
        diagnostics.error(
            codes.TRAINING_INPUTS_CHANGED,
            trained.call,
            f"the project's model for prediction schedule '{schedule.name}' was trained from other inputs than "
            f"this `model.train(...)` gives now ({changed} differ)",
            _AGAIN,
        )
        return None
    problem = kept.problem
    if problem is None and kept.data is not None:
        sha256 = hashlib.sha256(kept.data).hexdigest()
        if sha256 != kept.record.get("sha256"):
            problem = f"has sha256 {sha256}, and the manifest records {kept.record.get('sha256')}"
        elif str(kept.record.get("vendored")).rpartition("/")[2] != vendored_path(trained, sha256).rpartition("/")[2]:
            problem = "is not named after its sha256 and the model"
    if problem is not None or kept.data is None:
        diagnostics.error(
            codes.TRAINED_MODEL_CHANGED,
            trained.call,
            f"the trained model file of prediction schedule '{schedule.name}' ({kept.record.get('vendored')}) "
            f"{problem or 'cannot be read'}: it is not the file the last training wrote",
            _AGAIN,
        )
        return None
    return trained_file(trained, kept.data)


def trained_file(trained: TrainedModel, data: bytes) -> ModelReference:
    """The vendored model file of a trained model, as a `--model` file is vendored (content-addressed)."""
    sha256 = hashlib.sha256(data).hexdigest()
    vendored = vendored_path(trained, sha256)
    return ModelReference("file", _source(trained), vendored=vendored, sha256=sha256, size=len(data), data=data,
                          training=trained)  # fmt: skip


def vendored_path(trained: TrainedModel, sha256: str) -> str:
    """`models/SHA-MODEL.joblib`: named after its content and the model variable (schedules that use the same
    bytes share the file)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", trained.model)[:80]
    return f"models/{sha256[:16]}-{safe}{SAVERS[trained.flavor][1]}"


def _source(trained: TrainedModel) -> str:
    return f"trained: model.train(...) at line {trained.call.line}"


def _trained_model(app: App, schedule: Schedule, diagnostics: Diagnostics) -> TrainedModel | None:
    training = schedule.model_training
    assert training is not None
    call = training.call
    model = app.models[schedule.model]
    problem = call.problem or training.problem
    inputs = None
    if problem is None and call.arguments is not None:
        inputs, why = workflow_inputs(app, model, call.arguments)
        problem = None if why is None else (call.position, why)
    if problem is not None or inputs is None:
        where, why = problem or (call.position, "its arguments cannot be read")
        diagnostics.error(
            codes.TRAINING_NOT_STATIC,
            where,
            f"prediction schedule '{schedule.name}' uses the model of `{model.variable}.train(...)` at line "
            f"{call.position.line}, which the generator cannot run as the app would: {why}",
            "give model.train(...) (and model.save(...)) literal values or module-level constants, "
            f"or bind a model file instead: --model {schedule.name}=PATH",
        )
        return None
    flavor = model_sources.model_flavor(app, model)
    if "saver" in model.components or flavor not in SAVERS:
        saver = (
            "the app's own @model.saver" if "saver" in model.components else f"a model of type {flavor or 'unknown'}"
        )
        diagnostics.error(
            codes.TRAINED_MODEL_UNSAVABLE,
            call.position,
            f"prediction schedule '{schedule.name}' uses the model of `{model.variable}.train(...)`, and the "
            f"generator saves the models it trains only as unionml's default saver saves scikit-learn and PyTorch "
            f"models ({saver})",
            f"bind a model file instead: --model {schedule.name}=PATH",
        )
        return None
    saver_kwargs = dict(training.saver_kwargs)
    plain, python = json_and_python(inputs)
    saver_plain, saver_python = json_and_python(saver_kwargs)
    key = {"flavor": flavor, "inputs": plain, "inputs_python": python, "saver_kwargs": saver_plain,
           "saver_kwargs_python": saver_python}  # fmt: skip
    return TrainedModel(schedule.model, call.position, training.via, flavor, inputs, saver_kwargs, key)


def workflow_inputs(app: App, model: ModelSpec, arguments: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The training workflow's inputs for a `model.train(...)` (as the training launch plans give them), or
    None and why the workflow cannot take them."""
    dataset = app.datasets.get(model.dataset)
    if dataset is None or "reader" not in dataset.components or "trainer" not in model.components:
        return None, "the model has no reader or trainer"  # (reported where it is missing)
    reader = dataset.components["reader"].function
    trainer = model.components["trainer"].function
    reader_names = {p.name: p for p in reader.parameters if p.kind in ("positional", "keyword_only")}
    trainer_names = {p.name: p for p in trainer.keyword_only}
    given = {**arguments["reader_kwargs"], **arguments["trainer_kwargs"]}
    for name in given:
        if name not in reader_names and name not in trainer_names:
            return None, f"`{name}` is neither a parameter of the reader `{reader.name}` nor a keyword-only one of " \
                f"the trainer `{trainer.name}`"  # fmt: skip
    for parameter in [*reader_names.values(), *trainer_names.values()]:
        if parameter.default is None and parameter.name not in given:
            return (
                None,
                f"it gives no `{parameter.name}`, which `{reader.name if parameter.name in reader_names else trainer.name}` needs",
            )
    return {
        "hyperparameters": arguments["hyperparameters"],
        "loader_kwargs": arguments["loader_kwargs"],
        "splitter_kwargs": {**dataset.splitter_defaults, **arguments["splitter_kwargs"]},
        "parser_kwargs": {**dataset.parser_defaults, **arguments["parser_kwargs"]},
        **given,
    }, None


def replaced_bindings(app: App, models: dict[str, Any], remembered: frozenset[str], diagnostics: Diagnostics) -> dict:
    """`--train-models`: the bindings without those only the manifest remembered for a schedule it now trains
    (a `--model` typed on the command line or in pyproject.toml still wins)."""
    trained = {s.name for s in app.schedules if s.model_training is not None}
    dropped = sorted(name for name in models if name in remembered and name in trained)
    for name in dropped:
        diagnostics.warning(
            codes.BINDING_REPLACED_BY_TRAINING,
            next(s.position for s in app.schedules if s.name == name),
            f"--train-models: the project's manifest binds a model file to '{name}' (--model {name}=...); the "
            "generator trains its model instead",
            f"to keep the file, give it on the command line: --model {name}=PATH",
        )
    return {name: path for name, path in models.items() if name not in dropped}
