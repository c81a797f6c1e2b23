"""From app source to the typed `App`: parse, extract, assemble the specs, slice the code.

`read_app` is the reading in order: parse (libcst, behind CPython's gate in cpython.py), extract the
unionml objects and schedules (extract.py), follow a script's imported model to the module that
defines it (imported.py), assemble the specs, slice the code the components need (slicing.py) and
sort the imports into copied modules and requirements (imports.py, local_modules.py).

It is longer than the other reading modules because it is the one place the stages of reading meet,
in order; each step it calls lives in a module of its own.
"""

from __future__ import annotations

import ast
import builtins
import gc
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Iterator

import libcst as cst

from .. import codes

from . import local_modules
from ..diagnostics import Diagnostics, Position
from .extract import Extraction, UnionObject, extract, function_spec, parse, qualified_name, report_too_deep
from .local_modules import BESIDE, LocalModules, find_local_modules
from .remote_settings import app_remote
from ..requirements import requirement_module
from .imported import check_script, copied_objects, imported_objects, merge_diagnostics, shown_path_of
from .imports import check_copied, check_imports, check_out_dir, checked_package, import_requests
from ..requirements import find_pins
from ..input_files import unrecorded
from .slicing import Slice, slice_module
from .sql_tasks import check_changes as check_sql_task_changes
from ..spec import App, Expression, Component, DatasetSpec, ModelSpec

REQUIRED = {"dataset": ("reader",), "model": ("trainer", "predictor", "evaluator")}


_BUILTINS = frozenset(dir(builtins))


def read_app(
    source: str,
    display_path: str,
    app_dir: Path | None,
    package: str,
    diagnostics: Diagnostics,
    *,
    derived_package: bool = False,
    out_dir: Path | None = None,
    keep_sql_tasks: bool = True,
) -> App | None:
    """The app's spec, or None when it cannot be parsed.

    `package` is the generated package's name: given by the user, or (`derived_package`) derived
    from the app's path by `package_name`, which then gets a suffix if the app imports a module
    of that name. `out_dir`, when known, must not lie inside a local package the project copies.
    The flyte1 target keeps a dataset's SQL task object in the components code and calls it; the
    flyte2 target runs the task's query itself (`keep_sql_tasks=False`: the object and the flytekit
    imports it alone needs are left out).
    """
    parsed = parse(source, diagnostics)
    if parsed is None:
        return None
    try:
        with unscanned():  # the parsed app
            return _read_module(
                *parsed, source, display_path, app_dir, package, diagnostics, derived_package, out_dir, keep_sql_tasks
            )
    except RecursionError:  # a safety net behind python_check.MAX_DEPTH
        report_too_deep(diagnostics, source)
        return None


_unscanned_depth = 0


@contextmanager
def unscanned() -> Iterator[None]:
    """Spare Python's cycle collector from scanning the objects alive now while the block runs.

    A parsed app is a million objects that live until the project is rendered, and each full
    collection scans them all again (a 1,000-schedule app: four of them, a tenth of the run).
    `gc.freeze` moves them out of the collector's sight; the outermost block hands them back when it
    ends, so nothing lives longer than it would have."""
    global _unscanned_depth
    _unscanned_depth += 1
    gc.freeze()
    try:
        yield
    finally:
        _unscanned_depth -= 1
        if not _unscanned_depth:
            gc.unfreeze()


def _read_module(
    module: cst.Module,
    tree: ast.Module,
    source: str,
    display_path: str,
    app_dir: Path | None,
    package: str,
    diagnostics: Diagnostics,
    derived_package: bool,
    out_dir: Path | None,
    keep_sql_tasks: bool,
) -> App | None:
    scratch = Diagnostics(diagnostics.path)
    extraction = extract(module, tree, source, scratch)
    followed = None
    if not extraction.objects and app_dir is not None and not scratch.errors:
        followed = imported_objects(extraction, tree, source, app_dir / PurePath(display_path).name, diagnostics)
        if diagnostics.errors:
            return None
    if followed is None:
        diagnostics.items.extend(scratch.items)
        return _assemble(
            extraction, [], source, display_path, app_dir, package, diagnostics, derived_package, out_dir,
            keep_sql_tasks,
        )  # fmt: skip
    # a script that schedules a model it imports: the module that defines it is read as the app, with
    # the script's schedules (read with the script's own constants) added to its own
    defining, imported = followed
    shown = shown_path_of(defining, app_dir, display_path)
    inner = Diagnostics(shown)
    try:
        defining_source = local_modules.read_source(defining)
    except local_modules.InputError as exc:
        diagnostics.error(
            codes.IMPORTED_MODEL_NOT_FOUND,
            imported.position,
            f"cannot read {shown}, which defines the model the script schedules: {exc}",
            "the module is read as the app: make it a readable Python file",
        )
        return None
    defining_parsed = parse(defining_source, inner)
    if defining_parsed is None:
        merge_diagnostics(diagnostics, inner, defining_source)
        return None
    defining_extraction = extract(*defining_parsed, defining_source, inner)
    objects = {local: defining_extraction.objects[variable] for local, variable in imported.names.items()}
    copies = copied_objects(objects)
    script = extract(module, tree, source, diagnostics, imported=copies)
    for local, variable in imported.names.items():  # the script's model.remote(...) on the imported model
        if copies[local].remote is not None:
            defining_extraction.objects[variable].remote = copies[local].remote
    check_script(script, objects, copies, diagnostics)
    if diagnostics.errors:
        return None
    app = _assemble(
        defining_extraction, script.schedules, defining_source, shown, defining.parent, package, inner,
        derived_package, out_dir, keep_sql_tasks,
    )  # fmt: skip
    merge_diagnostics(diagnostics, inner, defining_source)
    return None if app is None else replace(app, path=display_path)


def _assemble(
    extraction: Extraction,
    more_schedules: list,
    source: str,
    display_path: str,
    app_dir: Path | None,
    package: str,
    diagnostics: Diagnostics,
    derived_package: bool,
    out_dir: Path | None,
    keep_sql_tasks: bool,
) -> App | None:
    datasets, models = _specs(extraction, diagnostics)
    sql_tasks = [(d.sql_task, d.position) for d in datasets.values() if d.sql_task is not None]
    if sql_tasks:
        check_sql_task_changes(extraction.tree, source, sql_tasks, diagnostics)
    sliced, roots = _components_code(extraction, datasets, models, keep_sql_tasks, diagnostics)
    # `import a.b` binds `a`, while the slice records the name it uses as `a.b`
    used_names = {n.split(".")[0] for n in sliced.imports | roots}
    used_imports = {extraction.imports[n] for n in used_names if n in extraction.imports}
    requests = import_requests(used_imports, sliced.code, extraction.tree, source, diagnostics)
    check_imports(requests, diagnostics)
    if app_dir is None:
        found = LocalModules()
        for request in requests:
            top = request.module.split(".")[0]
            if request.relative or not top:
                found.tops.add(top or (request.names or ("",))[0])
            elif top not in sys.stdlib_module_names and top != "unionml":
                found.third_party.add(requirement_module(request.module))
    else:
        found = find_local_modules(requests, app_dir / PurePath(display_path).name, BESIDE, diagnostics)
    third_party = found.third_party
    app_modules = {b.top_level_module for b in extraction.imports.values() if not b.level} | found.tops
    app_modules |= {module.split(".")[0] for module in third_party}
    package = checked_package(package, app_modules, derived_package, diagnostics)
    if out_dir is not None:
        check_out_dir(out_dir, found.packages, diagnostics)
    local_files = {(f"{package}/{path.removeprefix(BESIDE)}" if path.startswith(BESIDE) else path): data
                   for path, data in found.files.items()}  # fmt: skip
    check_copied(local_files, package, display_path, diagnostics)
    return App(
        path=display_path,
        package=package,
        datasets=datasets,
        models=models,
        schedules=(*extraction.schedules, *more_schedules),
        imports=dict(extraction.imports),
        components_code=sliced.code,
        component_names=sliced.defined,
        third_party_modules=frozenset(third_party),
        local_modules=tuple(sorted(found.tops)),
        local_files=local_files,
        class_bases=_class_bases(extraction),
        left_out=frozenset(sliced.left_out),
        requirement_pins=_pins(app_dir) if app_dir is not None else {},
        remote=app_remote([o.remote for o in extraction.objects.values() if o.remote is not None], diagnostics),
    )


def _specs(extraction: Extraction, diagnostics: Diagnostics) -> tuple[dict[str, DatasetSpec], dict[str, ModelSpec]]:
    """The datasets and models of the app, by variable, with their components."""
    datasets: dict[str, DatasetSpec] = {}
    models: dict[str, ModelSpec] = {}
    for obj in extraction.objects.values():
        components = _components(obj, extraction, diagnostics)
        if obj.kind == "dataset":
            args = obj.arguments
            datasets[obj.variable] = DatasetSpec(
                variable=obj.variable,
                name=str(args["name"]),
                features=_names(args["features"]),
                targets=_names(args["targets"]),
                test_size=args["test_size"],
                shuffle=bool(args["shuffle"]),
                random_state=args["random_state"],
                components=components,
                position=obj.position,
                sql_task=obj.sql_task,
            )
        elif obj.dataset is not None:
            models[obj.variable] = ModelSpec(
                variable=obj.variable,
                name=str(obj.arguments["name"]),
                init=obj.init,
                dataset=obj.dataset,
                hyperparameter_config=obj.arguments.get("hyperparameter_config"),
                components=components,
                position=obj.position,
            )
    if not models and not diagnostics.errors:
        diagnostics.error(
            codes.NO_MODEL,
            Position(1, 1),
            "no unionml Model found",
            "define `model = Model(dataset=..., init=...)` with `from unionml import Model`",
        )
    return datasets, models


def _components_code(
    extraction: Extraction,
    datasets: dict[str, DatasetSpec],
    models: dict[str, ModelSpec],
    keep_sql_tasks: bool,
    diagnostics: Diagnostics,
) -> tuple[Slice, set[str]]:
    """The app code the components need (slicing.py), and the module-level names they refer to.

    An optional component (OPTIONAL_ROLES) that uses a unionml object is left out with a warning;
    a name the components need that the module never binds is an error."""
    kinds = {**{v: "dataset" for v in datasets}, **{v: "model" for v in models}}
    specs: list[DatasetSpec | ModelSpec] = [*datasets.values(), *models.values()]
    components = {(spec.variable, role): c for spec in specs for role, c in spec.components.items()}
    optional = {
        key: _component_roots([component])
        for key, component in components.items()
        if key[1] in OPTIONAL_ROLES.get(kinds[key[0]], {})
    }
    roots = _component_roots([c for key, c in components.items() if key not in optional])
    roots |= _names_of([model.init for model in models.values() if model.init is not None])
    if not keep_sql_tasks:
        roots -= {d.sql_task.variable for d in datasets.values() if d.sql_task is not None}
    sliced = slice_module(
        extraction,
        roots - set(extraction.imports),
        diagnostics,
        optional={key: names - set(extraction.imports) for key, names in optional.items()},
        attributes=_known_attributes(extraction),
    )
    for variable, role in sorted(sliced.left_out):
        use_name, use_position = sliced.left_out[(variable, role)][0]
        diagnostics.warning(
            codes.COMPONENT_LEFT_OUT,
            use_position,
            f"the {kinds[variable]} {role} '{components[(variable, role)].function.name}' uses the unionml "
            f"object '{use_name}'; it is left out of the project{OPTIONAL_ROLES[kinds[variable]][role]}",
            "pass what the component needs as a parameter or a module-level constant to keep it",
        )
    roots |= {name for key, names in optional.items() if key not in sliced.left_out for name in names}
    for name in sorted(roots - sliced.defined - set(extraction.imports) - _BUILTINS):
        if name in extraction.objects:
            continue  # reported by slicing
        diagnostics.error(
            codes.UNDEFINED_NAME,
            _first_use(name, datasets, models),
            f"'{name}' is not defined at the module level of the app",
            "define or import it at the top level of the app",
        )
    return sliced, roots


def _components(obj: UnionObject, extraction: Extraction, diagnostics: Diagnostics) -> dict[str, Component]:
    components: dict[str, Component] = {}
    for role, registration in sorted(obj.registrations.items()):
        node = registration.node or extraction.functions.get(registration.function)
        if registration.signature is not None:  # a flytekit SQL task as the reader (sql_tasks.py)
            components[role] = Component(role, registration.signature, (), registration.position)
            continue
        if node is None:
            diagnostics.error(
                codes.COMPONENT_NOT_A_FUNCTION,
                registration.position,
                f"the {obj.kind} {role} '{registration.function}' is not a function defined in the app",
                "define the component with `def` in the app file so its signature can be read",
            )
            continue
        statement = extraction.positions.index.get(id(node))  # a top-level `def` (else it is searched for)
        function = function_spec(node, extraction.module, lambda n: extraction.positions.position(n, statement))
        components[role] = Component(
            role, function, registration.task_options, registration.position, registration.callbacks
        )
    for role in REQUIRED[obj.kind]:
        if (
            role not in components
            and role not in obj.registrations
            and not (role == "reader" and obj.sql_reader_refused)
        ):
            diagnostics.error(
                codes.MISSING_COMPONENT,
                obj.position,
                f"the {obj.kind} '{obj.variable}' has no {role}",
                f"register one with `@{obj.variable}.{role}`",
            )
    return components


#: components no schedule calls, by kind: role -> what leaving it out means. The generated
#: schedules run unionml's train and predict workflows; only `{model}.predict_from_features` (a
#: workflow to run by hand, e.g. `pyflyte run`) calls the feature loader, and nothing calls the saver.
OPTIONAL_ROLES = {
    "dataset": {"feature_loader": ", with the predict_from_features workflow that calls it (no schedule needs either)"},
    "model": {"saver": " (the generated project never saves a model: prediction schedules load model files)"},
}


def _component_roots(components: list[Component]) -> set[str]:
    """The components' functions, and the module-level names their signatures, task options and
    callbacks refer to."""
    names = {component.function.name for component in components}
    snippets: list[Expression] = []
    for component in components:
        snippets.extend(code for _, code in component.task_options)
        snippets.extend(component.callbacks)
        for parameter in component.function.parameters:
            snippets.extend(c for c in (parameter.annotation, parameter.default) if c is not None)
        if component.function.returns is not None:
            snippets.append(component.function.returns)
    return names | _names_of(snippets)


def _names_of(snippets: list[Expression]) -> set[str]:
    names: set[str] = set()
    for code in snippets:
        names |= code.names
    return names - _BUILTINS


def _known_attributes(extraction) -> dict[tuple[str, str], object]:
    """Attributes of the unionml objects whose values the app states, as unionml 0.2.1 sets them."""
    known: dict[tuple[str, str], object] = {}
    for obj in extraction.objects.values():
        args = obj.arguments
        known[(obj.variable, "name")] = args.get("name")
        if obj.kind == "dataset":
            known[(obj.variable, "_features")] = [] if args.get("features") is None else args["features"]
            for key in ("targets", "test_size", "shuffle", "random_state"):
                known[(obj.variable, f"_{key}")] = args.get(key)
    return {key: value for key, value in known.items() if _plain(value)}


def _plain(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _first_use(name: str, datasets, models) -> Position:
    for spec in [*datasets.values(), *models.values()]:
        for component in spec.components.values():
            if any(name in code.names for code in (*(c for _, c in component.task_options), *component.callbacks)):
                return component.position
            for parameter in component.function.parameters:
                if any(c is not None and name in c.names for c in (parameter.annotation, parameter.default)):
                    return parameter.position
        if isinstance(spec, ModelSpec) and spec.init is not None and name in spec.init.names:
            return spec.position
    return Position(1, 1)


def _class_bases(extraction: Extraction) -> dict[str, tuple[str, ...]]:
    """Qualified names of the bases of the app's top-level classes (to classify model types)."""
    bases: dict[str, tuple[str, ...]] = {}
    for statement in extraction.module.body:
        if isinstance(statement, cst.ClassDef):
            names = (qualified_name(base.value, extraction.imports) for base in statement.bases)
            bases[statement.name.value] = tuple(name for name in names if name)
    return bases


def _names(value) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _pins(app_dir: Path) -> dict[str, str]:
    with unrecorded():  # the next run's check without parsing recomputes the pins (sources.sources_key)
        return find_pins(app_dir)
