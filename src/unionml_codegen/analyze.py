"""From app source to the typed `App`: parse, extract, assemble the specs, slice the code."""

from __future__ import annotations

import ast
import builtins
import gc
import keyword
import re
import sys
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Iterator

import libcst as cst

from . import codes
from .diagnostics import Diagnostics, Position
from .extract import Extraction, UnionObject, extract, function_spec, parse, qualified_name, too_deep
from .inputs import MAX_APP_BYTES, InputError, inside, project_root, read_file
from .names import requirement_module
from .python_check import check_module
from .pins import find_pins
from .sources import note_probe, note_tree, unrecorded
from .slicing import Slice, slice_module
from .spec import App, Code, Component, DatasetSpec, Import, ModelSpec

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
        too_deep(diagnostics, source)
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
    extraction = extract(module, tree, source, diagnostics)
    datasets, models = _specs(extraction, diagnostics)
    sliced, roots = _components_code(extraction, datasets, models, keep_sql_tasks, diagnostics)
    # `import a.b` binds `a`, while the slice records the name it uses as `a.b`
    used_names = {n.split(".")[0] for n in sliced.imports | roots}
    used_imports = {extraction.imports[n] for n in used_names if n in extraction.imports}
    _check_imports(used_imports, diagnostics)
    local, third_party = _classify_modules(used_imports, app_dir)
    app_modules = {b.top_level_module for b in extraction.imports.values() if not b.level} | local
    app_modules |= {module.split(".")[0] for module in third_party}
    package = _checked_package(package, app_modules, derived_package, diagnostics)
    local_files: dict[str, bytes] = {}
    if app_dir is not None and out_dir is not None:
        _check_out_dir(out_dir, app_dir, local, diagnostics)
    if app_dir is not None:
        local_files = _copied_modules(used_imports, local, app_dir, package, display_path, diagnostics)
    third_party |= _imports_of(local_files, app_dir, local)
    return App(
        path=display_path,
        package=package,
        datasets=datasets,
        models=models,
        schedules=tuple(extraction.schedules),
        imports=dict(extraction.imports),
        components_code=sliced.code,
        component_names=sliced.defined,
        third_party_modules=frozenset(third_party),
        local_modules=tuple(sorted(local)),
        local_files=local_files,
        class_bases=_class_bases(extraction),
        left_out=frozenset(sliced.left_out),
        requirement_pins=_pins(app_dir) if app_dir is not None else {},
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


def _check_imports(used_imports: set[Import], diagnostics: Diagnostics) -> None:
    """The components may not import unionml, nor reach outside the app's directory."""
    for binding in sorted(used_imports, key=lambda b: b.statement):
        if binding.top_level_module == "unionml":
            diagnostics.error(
                codes.UNIONML_IN_COMPONENTS,
                Position(1, 1),
                f"the components use unionml ({binding.statement}); the generated project must not depend on it",
                "use flytekit or plain Python in the components",
            )
    for binding in sorted(used_imports, key=lambda b: b.statement):
        if binding.level > 1:
            diagnostics.error(
                codes.IMPORT_OUTSIDE_APP,
                Position(1, 1),
                f"the components use {binding.statement}, which reaches outside the app's directory",
                "import the module by its absolute name (modules next to the app are copied into the project)",
            )


def _copied_modules(
    used_imports: set[Import], local: set[str], app_dir: Path, package: str, display_path: str, diagnostics: Diagnostics
) -> dict[str, bytes]:
    """The app's own modules the components import, by their path in the project; each must compile.

    Absolute imports (`import helpers`) find the copy at the project root, relative ones
    (`from .helpers import x`) the copy beside components.py in the package."""
    relative = {(b.module.split(".")[0] if b.module else b.name) for b in used_imports if b.level == 1}
    local_files = _local_files(local - relative, app_dir, "", diagnostics)
    local_files.update(_local_files(relative, app_dir, f"{package}/", diagnostics))
    shown_dir = PurePath(display_path).parent
    for path in sorted(local_files):  # they are copied as they are: CPython must accept them
        if path.endswith(".py"):
            relative_path = path.removeprefix(f"{package}/") if path.startswith(f"{package}/") else path
            check_module(local_files[path], str(shown_dir / relative_path), diagnostics)
    return local_files


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
    snippets: list[Code] = []
    for component in components:
        snippets.extend(code for _, code in component.task_options)
        snippets.extend(component.callbacks)
        for parameter in component.function.parameters:
            snippets.extend(c for c in (parameter.annotation, parameter.default) if c is not None)
        if component.function.returns is not None:
            snippets.append(component.function.returns)
    return names | _names_of(snippets)


def _names_of(snippets: list[Code]) -> set[str]:
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


def _classify_modules(imports, app_dir: Path | None) -> tuple[set[str], set[str]]:
    local: set[str] = set()
    third_party: set[str] = set()
    for binding in imports:
        top = binding.top_level_module
        if binding.level or not top:
            local.add(top or binding.name or "")
        elif top in sys.stdlib_module_names:
            continue
        elif app_dir is not None and _local_module(app_dir, top):
            local.add(top)
        else:
            third_party.add(requirement_module(binding.module))
    return local, third_party


def _pins(app_dir: Path) -> dict[str, str]:
    with unrecorded():  # the next run's check without parsing recomputes the pins (sources.sources_key)
        return find_pins(app_dir)


def _local_module(app_dir: Path, top: str) -> bool:
    """Whether `top` is a module beside the app (both candidates noted for the next run's check)."""
    single, package = app_dir / f"{top}.py", app_dir / top / "__init__.py"
    note_probe(single)
    note_probe(package)
    return single.is_file() or package.is_file()


def _local_files(modules: set[str], app_dir: Path, prefix: str, diagnostics: Diagnostics) -> dict[str, bytes]:
    """The files of the modules next to the app that the components import, by their path in OUT.

    Each is read only if it resolves (links included) inside the app's project and is a regular
    file of bounded size (docs/security.md); anything else is an error naming it.
    """
    files: dict[str, bytes] = {}
    root = project_root(app_dir)
    for module in sorted(modules):
        single = app_dir / f"{module}.py"
        note_probe(single)
        if not single.is_file():
            note_tree(app_dir / module)
        candidates = [single] if single.is_file() else sorted((app_dir / module).rglob("*"))
        for path in candidates:
            relative = path.relative_to(app_dir)
            if "__pycache__" in relative.parts or path.suffix == ".pyc" or path.is_dir():
                continue
            what = f"the local module file {relative.as_posix()!r}"
            try:
                if not inside(path, root):
                    raise InputError(f"{what} is outside the app's project ({root})")
                files[prefix + relative.as_posix()] = read_file(path, MAX_APP_BYTES, what)
            except InputError as exc:
                diagnostics.error(
                    codes.UNREADABLE_LOCAL_MODULE,
                    Position(1, 1),
                    f"{exc}; the components import it, so it would be copied into the project",
                    "local modules are copied as they are: keep them regular files inside the project",
                )
    return files


def _imports_of(files: dict[str, bytes], app_dir: Path | None, local: set[str]) -> set[str]:
    """Third-party modules the copied local modules import (read with `ast`: they are copied as they are)."""
    found: set[str] = set()
    for path, data in files.items():
        if not path.endswith(".py"):
            continue
        try:
            tree = ast.parse(data)
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local and top != "unionml":
                    found.add(requirement_module(name))
    return found


#: modules the generated project itself may import, besides the standard library
PROJECT_MODULES = frozenset(
    {
        "flytekit",
        "flyteidl",
        "joblib",
        "keras",
        "numpy",
        "pandas",
        "pyarrow",
        "sklearn",
        "tensorflow",
        "torch",
        "unionml",
    }
)


def package_name(app_path: Path) -> str:
    """The generated package's name: the app's file name (or, for a generic `app.py`, its
    directory's name), made a valid Python identifier that names no module the project imports
    (`datetime/app.py` -> `datetime_app`; `read_app` adds the suffix for the app's own imports)."""
    path = app_path.resolve()
    stem = path.stem if path.stem not in ("app", "main", "__init__") else (path.parent.name or path.stem)
    name = re.sub(r"\W", "_", stem, flags=re.ASCII).strip("_").lower() or "app"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"app_{name}"
    return _free_name(name, set())


def package_problem(name: str) -> str | None:
    """Why `name` cannot be the generated package's name, or None."""
    if not name.isidentifier() or not name.isascii():
        return (
            f"the package name {name!r} is not a Python identifier (letters, digits and `_`, not starting with a digit)"
        )
    if keyword.iskeyword(name):
        return f"the package name {name!r} is a Python keyword"
    if name.startswith("__"):
        return f"the package name {name!r} starts with `__`, which Python reserves"
    if name in sys.stdlib_module_names or name in PROJECT_MODULES:
        return f"the package name {name!r} would shadow the module {name} that the generated project imports"
    return None


def _free_name(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while package_problem(candidate) or candidate in taken:
        candidate = f"{name}_app" if number == 1 else f"{name}_app{number}"
        number += 1
    return candidate


def _checked_package(package: str, app_modules: set[str], derived: bool, diagnostics: Diagnostics) -> str:
    """The package name to use: a derived one moves out of the way of the app's modules; a given one
    that cannot work is an error."""
    if derived:
        return _free_name(package, app_modules)
    problem = package_problem(package)
    if problem is None and package in app_modules:
        problem = f"the package name {package!r} would shadow the module {package} that the app imports"
    if problem is not None:
        diagnostics.error(
            codes.INVALID_PACKAGE_NAME,
            Position(1, 1),
            problem,
            "choose another name with --package (or `package` in [tool.unionml-codegen]), or leave it out to "
            "derive one from the app's path",
        )
    return package


def _check_out_dir(out_dir: Path, app_dir: Path, local: set[str], diagnostics: Diagnostics) -> None:
    """The output must not lie inside a local package that is copied into it (it would copy itself)."""
    out = out_dir.resolve()
    for module in sorted(local):
        directory = (app_dir / module).resolve()
        note_probe(directory / "__init__.py")
        if (directory / "__init__.py").is_file() and out.is_relative_to(directory):
            diagnostics.error(
                codes.OUTPUT_INSIDE_PACKAGE,
                Position(1, 1),
                f"the output directory {out_dir} is inside the package {module!r}, which the components import "
                "and the generated project copies",
                f"write the project outside {module}/ (for example next to the app)",
            )
