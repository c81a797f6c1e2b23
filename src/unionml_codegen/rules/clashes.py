"""Names the app gives that would clash with the names of the generated project.

Most clashes are avoided by construction: render/views.py claims every generated module-level name in a
namespace that holds the app's names (`names.Namespace`), numbers the tasks and workflows of two
models (or datasets) whose names give the same identifier, and renames the generated tasks' local
variables away from the trainer's parameters. What cannot be renamed is the generated workflows'
interface: a reader or trainer parameter becomes a workflow input, so it must not take the name of
an input the workflows already have with another meaning.
"""

from __future__ import annotations

from .. import codes
from ..diagnostics import Diagnostics
from ..names import identifier
from ..spec import App

#: Inputs of the generated workflows besides the reader's and trainer's parameters, and what each is.
WORKFLOW_INPUTS = {
    "hyperparameters": "the model's hyperparameters (train workflows)",
    "loader_kwargs": "the loader's keyword arguments",
    "splitter_kwargs": "the splitter's keyword arguments (train workflows)",
    "parser_kwargs": "the parser's keyword arguments (train workflows)",
    "model_object": "the model to predict with (predict workflows)",
    "model_file": "the model file to load (prediction schedules with a model file)",
    "model_version": "the training execution whose model predicts (prediction schedules with a model version)",
    "app_version": "the app version of that training execution",
    "kickoff_time": "the time a fixed-rate run was scheduled for, when given by hand",
}


def check_names(app: App, diagnostics: Diagnostics) -> None:
    _inputs(app, diagnostics)
    _identifiers(app, diagnostics)


def _inputs(app: App, diagnostics: Diagnostics) -> None:
    reported: set[int] = set()
    for model in app.models.values():
        reader = app.datasets[model.dataset].components.get("reader")
        trainer = model.components.get("trainer")
        reader_parameters = reader.function.parameters if reader else ()
        kwonly = trainer.function.keyword_only if trainer else ()
        schedules = [s for s in app.schedules if s.model == model.variable]
        absent = set()  # inputs no generated workflow of this model has
        if not any(s.kind == "prediction" for s in schedules):
            absent |= {"model_file", "model_version", "app_version"}
        if not any(s.fixed_rate is not None and s.reader_time_arg for s in schedules):
            absent.add("kickoff_time")
        for role, parameter in [*(("reader", p) for p in reader_parameters), *(("trainer", p) for p in kwonly)]:
            meaning = WORKFLOW_INPUTS.get(parameter.name)
            if meaning is None or parameter.name in absent or id(parameter) in reported:
                continue
            reported.add(id(parameter))
            diagnostics.error(
                codes.WORKFLOW_INPUT_CLASH,
                parameter.position,
                f"the {role} parameter '{parameter.name}' would become a workflow input, but the generated "
                f"workflows already have an input '{parameter.name}': {meaning}",
                f"rename the parameter (the generated workflows' inputs: {', '.join(WORKFLOW_INPUTS)})",
            )
        names = {p.name for p in reader_parameters}
        for parameter in kwonly:
            if parameter.name in names and id(parameter) not in reported:
                reported.add(id(parameter))
                diagnostics.error(
                    codes.WORKFLOW_INPUT_CLASH,
                    parameter.position,
                    f"the trainer's keyword-only parameter '{parameter.name}' has the name of a reader parameter; "
                    "both would be the train workflow's input of that name",
                    "rename one of them",
                )


def _identifiers(app: App, diagnostics: Diagnostics) -> None:
    """Warns where render/views.py numbers names (as `names.unique` does, in the app's order)."""
    for kind, specs in (("model", list(app.models.values())), ("dataset", list(app.datasets.values()))):
        seen: dict[str, list] = {}
        for spec in specs:
            base = identifier(spec.name)
            same = seen.setdefault(base, [])
            same.append(spec)
            if len(same) == 1:
                continue
            numbered = f"{base}_{len(same)}"
            what = "tasks and workflows are" if kind == "model" else "reader task is"
            diagnostics.warning(
                codes.DUPLICATE_IDENTIFIER,
                spec.position,
                f"the {kind} names {same[0].name!r} (line {same[0].position.line}) and {spec.name!r} give the same "
                f"identifier '{base}'; this {kind}'s generated {what} named '{numbered}_...'",
                f"give each {kind} a name of its own",
            )
