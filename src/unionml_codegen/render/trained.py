"""The manifest's `trained_models` section: what produced each model the generator trained (--train-models).

Per prediction schedule whose model was trained: the training workflow of the flytekit (flyte1) project that
ran it, its inputs (JSON where JSON holds them exactly, else Python literals, as `fixed_inputs` are recorded),
the saver and its extra arguments, the sha256 of the project's training code (`training_code_sha256`), and
the vendored file with its sha256 and size. rules/training.py compares the `KEY` entries with what the app
gives now before it keeps a model; train.py compares the training code.
"""

from __future__ import annotations

import ast
import hashlib
from typing import Any

from ..rules.training import SAVERS
from ..spec import App
from .views import model_views

#: Generated modules of the package that only predict or schedule: not training code.
NOT_TRAINING_CODE = ("launch_plans.py", "model_files.py", "model_registry.py", "kickoff.py", "triggers.py",
                     "trigger_inputs.py")  # fmt: skip


def trained_record(app: App, code_sha256: str | None) -> dict[str, Any]:
    """`{"trained_models": {...}}` when the app has trained models, else nothing."""
    names = {view.model.variable: view.variants[("train", None)].name for view in model_views(app)}
    entries = {}
    for name, reference in sorted(app.model_references.items()):
        trained = reference.training
        if trained is None:
            continue
        entries[name] = {
            **trained.key,
            "model": app.models[trained.model].name,
            "trained_by": {"line": trained.call.line, "via": trained.via},
            "workflow": f"{app.package}.workflows.{names[trained.model]}",
            "saver": SAVERS[trained.flavor][0],
            "training_code_sha256": code_sha256,
            "vendored": f"{app.package}/{reference.vendored}",
            "sha256": reference.sha256,
            "size": reference.size,
        }
    return {"trained_models": entries} if entries else {}


def training_code_sha256(files: dict[str, str | bytes], app: App) -> str:
    """A hash of the flytekit project's code that trains: in workflows.py the definitions the training workflow
    runs (its outputs' type, the reader task, the train task, the workflow), every other module of the package
    but those that only predict or schedule, and requirements.txt. A change of a component, of the generated
    training code or of a pin changes it; a schedule added, or a prediction task, does not."""
    package = app.package
    content = hashlib.sha256()
    for path, data in sorted(files.items()):
        name = path.rsplit("/", 1)[-1]
        if path != "requirements.txt" and not (
            path.startswith(f"{package}/") and path.endswith(".py") and name not in NOT_TRAINING_CODE
        ):
            continue
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        if path == f"{package}/workflows.py":
            text = _training_definitions(text, app)
        content.update(f"{path}\0{hashlib.sha256(text.encode('utf-8')).hexdigest()}\n".encode())
    return content.hexdigest()


def _training_definitions(source: str, app: App) -> str:
    """The top-level definitions of workflows.py that training runs, decorators included, in file order."""
    names = set()
    for view in model_views(app):
        names |= {view.outputs_class, view.model_type_alias, view.reader_task, view.train_task}
        names.add(view.variants[("train", None)].name)
    parts = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined = {node.name}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined = {t.id for t in targets if isinstance(t, ast.Name)}
        else:
            continue
        if defined & names:
            decorators = getattr(node, "decorator_list", [])
            parts += [ast.get_source_segment(source, d) or "" for d in decorators]
            parts.append(ast.get_source_segment(source, node) or "")
    return "\n".join(parts)
