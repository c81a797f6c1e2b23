"""`unionml generate --train-models`: train the models the app trains in memory, or keep those trained before.

generate.py calls this once the app is read (`training_for`: what to train, what OUT keeps) and once it is
checked (`settle`). To train, the project is rendered for the flytekit target with a placeholder for each
model to train, its training workflow runs locally in a child process (output/training.py) with the inputs
rules/training.py computed from each `model.train(...)`, and the saved files replace the placeholders: the
project is then rendered with them, for either target. To keep, the models' bytes come from OUT, and the
training code (`training_code_sha256` of the same flytekit render) must be what the manifest records.
Nothing here trains under `--check` or `--diff` (generate.py never asks it to).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from . import codes
from .diagnostics import Diagnostics, visible
from .options import Options, RenderOptions
from .output.training import Job, TrainingFailed, read_trained, train
from .render import Rendered, render_project
from .render.trained import training_code_sha256
from .render.views import model_views
from .rules.training import Kept, Training, replaced_bindings, trained_file
from .spec import App

_RUN_HINT = (
    "the run is the project's training workflow, run locally by the interpreter unionml-codegen runs in, which "
    "needs flytekit and the app's requirements (pip install -r OUT/requirements.txt); `unionml run OUT "
    "SCHEDULE` on a training schedule shows the same run"
)


def training_for(app: App, options: Options, out: Path, diagnostics: Diagnostics) -> tuple[Training, Options]:
    """What rules/training.py trains (`options.train_models`) or keeps (the models OUT records), and the options
    without the remembered bindings --train-models replaces."""
    if options.train_models:
        models = replaced_bindings(app, options.models, options.remembered, diagnostics)
        return Training(train=True), dataclasses.replace(options, models=models)
    kept = {name: Kept(record, data, problem) for name, (record, data, problem) in read_trained(out).items()}
    return Training(kept=kept), options


def settle(
    app: App, training: Training, render_options: RenderOptions, diagnostics: Diagnostics
) -> tuple[App | None, str | None, Rendered | None]:
    """The app with every trained model's file, the training code's sha256, and the flytekit render made on
    the way when it is already the final one (kept models); (None, ...) after an error."""
    trained = {name: ref for name, ref in app.model_references.items() if ref.training is not None}
    if not trained:
        return app, None, None
    flyte1 = training.app or app  # the app the flytekit project that trains is rendered from
    if not training.train:
        rendered = render_project(flyte1, render_options, "flyte1")
        code = training_code_sha256(rendered.files, flyte1)
        for name, reference in trained.items():
            recorded = training.kept[name].record.get("training_code_sha256")
            if recorded != code:
                diagnostics.error(
                    codes.TRAINING_INPUTS_CHANGED,
                    reference.training.call,
                    f"the project's model for prediction schedule '{name}' was trained by other code than the "
                    "project holds now (a component, the generated training code or its requirements changed)",
                    "train it again: `unionml generate APP -o OUT --train-models`",
                )
        return (None if diagnostics.errors else app), code, (rendered if flyte1 is app else None)
    placeholders = {name: trained_file(ref.training, b"") for name, ref in trained.items()}
    draft = dataclasses.replace(flyte1, model_references={**flyte1.model_references, **placeholders})
    rendered = render_project(draft, render_options, "flyte1")
    workflows = {view.model.variable: view.variants[("train", None)].name for view in model_views(draft)}
    jobs = [
        Job(name, f"{app.package}.workflows", workflows[ref.training.model], ref.training.inputs, ref.training.flavor,
            ref.training.saver_kwargs, label=f"model.train(...) at line {ref.training.call.line}")
        for name, ref in sorted(trained.items())
    ]  # fmt: skip
    try:
        models = train(rendered.files, jobs)
    except TrainingFailed as exc:
        diagnostics.error(
            codes.TRAINING_FAILED,
            trained[exc.schedules[0]].training.call,
            f"training the model of {', '.join(exc.schedules)} failed: {visible(exc.message)}",
            _RUN_HINT,
        )
        return None, None, None
    files = {name: trained_file(ref.training, models[name]) for name, ref in trained.items()}
    return dataclasses.replace(app, model_references={**app.model_references, **files}), \
        training_code_sha256(rendered.files, draft), None  # fmt: skip
