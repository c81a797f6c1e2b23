"""From app source to the typed `App`: parse, extract, assemble the specs, slice the code."""

from __future__ import annotations

import ast
import builtins
import gc
import keyword
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import Iterator

import libcst as cst

from . import codes, local_modules
from .diagnostics import Diagnostics, Position
from .extract import Extraction, UnionObject, extract, function_spec, parse, qualified_name, report_too_deep
from .local_modules import BESIDE, LocalModules, find_local_modules
from .requirements import requirement_module
from .python_check import check_module
from .requirements import find_pins
from .input_files import unrecorded
from .slicing import Slice, slice_module
from .sql_tasks import check_changes as check_sql_task_changes
from .spec import App, Expression, Component, DatasetSpec, Import, ModelSpec
from .unionml_api import SCHEDULE_METHODS

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
        followed = _imported_objects(extraction, tree, source, app_dir / PurePath(display_path).name, diagnostics)
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
    shown = _shown_path(defining, app_dir, display_path)
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
        _merge(diagnostics, inner, defining_source)
        return None
    defining_extraction = extract(*defining_parsed, defining_source, inner)
    objects = {local: defining_extraction.objects[variable] for local, variable in imported.names.items()}
    copies = _copies(objects)
    script = extract(module, tree, source, diagnostics, imported=copies)
    _check_script(script, objects, copies, diagnostics)
    if diagnostics.errors:
        return None
    app = _assemble(
        defining_extraction, script.schedules, defining_source, shown, defining.parent, package, inner,
        derived_package, out_dir, keep_sql_tasks,
    )  # fmt: skip
    _merge(diagnostics, inner, defining_source)
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
    requests = _requests(used_imports, sliced.code, extraction.tree, source, diagnostics)
    _check_imports(requests, diagnostics)
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
    package = _checked_package(package, app_modules, derived_package, diagnostics)
    if out_dir is not None:
        _check_out_dir(out_dir, found.packages, diagnostics)
    local_files = {(f"{package}/{path.removeprefix(BESIDE)}" if path.startswith(BESIDE) else path): data
                   for path, data in found.files.items()}  # fmt: skip
    _check_copied(local_files, package, display_path, diagnostics)
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
    )


@dataclass
class _Imported:
    """What a script imports from the module that defines its unionml objects: local name -> the
    object's variable there, and the first such import's place."""

    position: Position
    names: dict[str, str] = field(default_factory=dict)


#: how many `from .main import model` re-exports are followed from the module a script names
MAX_REEXPORTS = 8


def _imported_objects(
    extraction: Extraction, tree: ast.Module, source: str, script_file: Path, diagnostics: Diagnostics
) -> tuple[Path, _Imported] | None:
    """For a script that defines no unionml object but schedules one it imports (`from pkg import
    model`, then `model.schedule_training(...)`): the module that defines the objects and what the
    script binds them to; None when the script schedules nothing imported (then it has no model at all)."""
    places = _import_places(tree, source)
    scheduled: dict[str, Position] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in SCHEDULE_METHODS:
            continue
        receiver = node.func.value
        root = receiver
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id not in extraction.imports:
            continue
        binding = extraction.imports[root.id]
        if isinstance(receiver, ast.Attribute) or binding.name is None:
            statement = _import_statement(binding)
            diagnostics.error(
                codes.IMPORTED_MODEL_UNSUPPORTED,
                _at(node, source),
                f"`{ast.unparse(node.func)}(...)` schedules a model reached through the module that "
                f"`{statement}` binds; the generator follows only a model imported by name",
                f"import the model itself (`{_through_module(receiver, binding)}`) and call "
                f"`{ast.unparse(receiver).split('.')[-1]}.{node.func.attr}(...)`",
            )
            continue
        scheduled.setdefault(root.id, _at(node, source))
    if diagnostics.errors or not scheduled:
        return None
    # the names the script imports from its local modules that are unionml objects there (the
    # scheduled model, and a dataset or another name imported beside it)
    wanted = [name for name, b in extraction.imports.items() if b.name is not None and b.name != "*"]
    found: dict[str, tuple[Path, str]] = {}
    first: Position | None = None
    for name in wanted:
        binding = extraction.imports[name]
        position = places.get(("import", binding.level, binding.module, binding.name), Position(1, 1))
        located = _defining_module(script_file, binding)
        if isinstance(located, str):
            if name in scheduled:
                diagnostics.error(
                    codes.IMPORTED_MODEL_NOT_FOUND,
                    position,
                    f"the script schedules '{name}' from `{_import_statement(binding)}`, and {located}",
                    "import the model from the module of this project that defines it with "
                    "`model = Model(...)` (or from a package whose `__init__.py` imports it from there)",
                )
            continue
        found[name] = located
        if name in scheduled and first is None:
            first = position
    if diagnostics.errors or first is None:
        return None
    modules = sorted({path for path, _ in found.values()})
    if len(modules) > 1:
        diagnostics.error(
            codes.IMPORTED_MODEL_UNSUPPORTED,
            first,
            "the script imports unionml objects from more than one module ("
            + ", ".join(_path_shown(path, script_file.parent) for path in modules)
            + "); the generator reads one module as the app",
            "schedule the objects of one module per script",
        )
        return None
    return modules[0], _Imported(first, {name: variable for name, (_, variable) in found.items()})


def _defining_module(importer: Path, binding: Import) -> tuple[Path, str] | str:
    """Where the object `from M import name` names is defined: (file, its variable there), following
    re-exports; else why not, as the end of a sentence."""
    module, name, level = binding.module, str(binding.name), binding.level
    seen: list[str] = []
    for _ in range(MAX_REEXPORTS):
        path, roots = local_modules.locate_module(importer, module, level)
        shown = "." * level + module
        if path is None:
            searched = ", ".join(_path_shown(root, None) for root in roots)
            return f"'{shown}' is not a module of the project (searched from {searched})"
        seen.append(str(path))
        try:
            text = local_modules.read_source(path)
        except local_modules.InputError as exc:
            return f"{path.name} cannot be read: {exc}"
        scratch = Diagnostics(str(path))
        parsed = parse(text, scratch)
        if parsed is None:
            return f"'{shown}' ({path}) is not valid Python"
        extraction = extract(*parsed, text, scratch)
        if name in extraction.objects:
            return path, name
        binding_there = extraction.imports.get(name)
        if binding_there is None or binding_there.name is None or binding_there.name == "*":
            return f"'{shown}' ({path.name}) defines no unionml Dataset or Model named '{name}'"
        importer, module, name, level = path, binding_there.module, binding_there.name, binding_there.level
    return f"'{name}' is re-exported more than {MAX_REEXPORTS} times ({' -> '.join(seen)})"


def _path_shown(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return str(path.relative_to(base))
        except ValueError:
            pass
    return str(path)


def _import_statement(binding: Import) -> str:
    alias = f" as {binding.alias}" if binding.alias else ""
    if binding.name is None:
        return f"import {binding.module}{alias}"
    return f"from {'.' * binding.level}{binding.module} import {binding.name}{alias}"


def _through_module(receiver: ast.expr, binding: Import) -> str:
    """`m.model` (with `import pkg.main as m`) -> `from pkg.main import model`."""
    chain = ast.unparse(receiver).split(".")
    if binding.name is None:
        module = binding.module if binding.alias else ".".join(chain[: len(binding.module.split("."))])
        rest = chain[1:] if binding.alias else chain[len(binding.module.split(".")) :]
    else:
        module = "." * binding.level + ".".join(p for p in (binding.module, binding.name) if p)
        rest = chain[1:]
    *middle, last = rest or ["MODEL"]
    return f"from {'.'.join([module, *middle]) if middle else module} import {last}"


def _at(node: ast.AST, source: str) -> Position:
    lines = source.splitlines()
    line = node.lineno
    prefix = lines[line - 1].encode()[: node.col_offset] if 0 < line <= len(lines) else b""
    return Position(line, len(prefix.decode(errors="ignore")) + 1)


def _shown_path(defining: Path, script_dir: Path, display_path: str) -> str:
    """The defining module's path as the user would write it: beside the script's as shown."""
    relative = os.path.relpath(defining, os.path.abspath(script_dir))
    return str(PurePath(display_path).parent / relative)


def _copies(objects: dict[str, UnionObject]) -> dict[str, UnionObject]:
    """The objects as the script's reader may change them (its registrations are refused after)."""
    return {name: replace(obj, registrations=dict(obj.registrations)) for name, obj in objects.items()}


def _check_script(
    script: Extraction, objects: dict[str, UnionObject], copies: dict[str, UnionObject], diagnostics: Diagnostics
) -> None:
    """The script may schedule (and train) the imported model; it may not register components on
    the imported objects nor define unionml objects of its own: the generated project copies the
    defining module's components only."""
    for name, obj in sorted(copies.items()):
        for role, registration in sorted(obj.registrations.items()):
            if objects[name].registrations.get(role) is not registration:
                diagnostics.error(
                    codes.IMPORTED_MODEL_UNSUPPORTED,
                    registration.position,
                    f"the script registers the {obj.kind} {role} of '{name}', which it imports; the generator "
                    "reads the components from the module that defines the object",
                    "register the component in that module",
                )
    for obj in script.objects.values():
        diagnostics.error(
            codes.IMPORTED_MODEL_UNSUPPORTED,
            obj.position,
            f"the script defines the unionml {obj.kind} '{obj.variable}' and also schedules one it imports; "
            "the generator reads one module's objects",
            "define every Dataset and Model in one module",
        )


def _merge(diagnostics: Diagnostics, inner: Diagnostics, text: str) -> None:
    """The defining module's diagnostics, each with its own line (it is not the script)."""
    lines = text.splitlines()
    for item in inner.items:
        line = item.position.line
        shown = lines[line - 1] if 0 < line <= len(lines) and item.text is None else item.text
        diagnostics.items.append(replace(item, text=shown))


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


def _requests(
    used_imports: set[Import], code: str, tree: ast.Module, source: str, diagnostics: Diagnostics
) -> list[local_modules.Request]:
    """The imports the generated components run: the module-level ones they use, and every import
    inside the code they need (a component's own `import scipy.stats`), each at its line in the app.

    `importlib.import_module("name")` and `__import__("name")` with a constant name count as
    `import name`; any other is a warning: the generator cannot know what it imports."""
    places = _import_places(tree, source)
    requests = [_request(binding.module, binding.name, binding.level, places) for binding in used_imports]
    try:
        sliced = ast.parse(code)
    except (SyntaxError, ValueError):  # the generated code is checked later (GeneratedCodeError)
        return sorted(set(requests), key=_request_order)
    for node in ast.walk(sliced):
        if isinstance(node, ast.Import):
            requests.extend(_request(alias.name, None, 0, places) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names if alias.name != "*"]
            requests.extend(_request(node.module or "", name, node.level, places) for name in names)
        elif isinstance(node, ast.Call) and _dynamic_import(node.func):
            name = _constant_module(node)
            if name is not None:
                requests.append(_request(name, None, 0, places, ast.unparse(node)))
                continue
            diagnostics.warning(
                codes.DYNAMIC_IMPORT,
                places.get(("call", ast.unparse(node)), Position(1, 1)),
                f"the components import a module chosen at run time (`{ast.unparse(node)}`); the generator "
                "cannot know which, so it copies no module and lists no requirement for it",
                "import the module with an `import` statement, or add its distribution to the task image yourself",
            )
    return sorted(set(requests), key=_request_order)


def _request_order(request: local_modules.Request) -> tuple:
    return (request.position.line, request.position.column, request.statement, request.module, request.names or ())


def _request(module: str, name: str | None, level: int, places: dict, statement: str | None = None):
    if statement is None:
        statement = f"from {'.' * level}{module} import {name}" if name is not None else f"import {module}"
    position = places.get(("import", level, module, name), Position(1, 1))
    names = (name,) if name is not None else None
    return local_modules.Request(module, names, position, statement, relative=level == 1, level=level)


def _import_places(tree: ast.Module, source: str) -> dict:
    """Where each import (and each dynamic import call) first appears in the app."""
    lines = source.splitlines()
    places: dict = {}

    def at(node: ast.AST) -> Position:
        line = node.lineno
        prefix = lines[line - 1].encode()[: node.col_offset] if 0 < line <= len(lines) else b""
        return Position(line, len(prefix.decode(errors="ignore")) + 1)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                places.setdefault(("import", 0, alias.name, None), at(node))
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                places.setdefault(("import", node.level, node.module or "", alias.name), at(node))
        elif isinstance(node, ast.Call) and _dynamic_import(node.func):
            places.setdefault(("call", ast.unparse(node)), at(node))
            name = _constant_module(node)
            if name is not None:
                places.setdefault(("import", 0, name, None), at(node))
    return places


def _dynamic_import(func: ast.expr) -> bool:
    """`importlib.import_module`, `import_module` or `__import__` (by their usual spellings)."""
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module" and ast.unparse(func.value) == "importlib"


def _constant_module(call: ast.Call) -> str | None:
    """The module a dynamic import names as a constant absolute name, or None."""
    if len(call.args) != 1 or call.keywords:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        name = first.value
        if name and all(part.isidentifier() for part in name.split(".")):
            return name
    return None


def _check_imports(requests: list[local_modules.Request], diagnostics: Diagnostics) -> None:
    """The components may not import unionml, nor reach outside the app's directory."""
    for request in requests:
        if not request.level and request.module.split(".")[0] == "unionml":
            diagnostics.error(
                codes.UNIONML_IN_COMPONENTS,
                request.position,
                f"the components use unionml ({request.statement}); the generated project must not depend on it",
                "use flytekit or plain Python in the components",
            )
    for request in requests:
        if request.level > 1:
            diagnostics.error(
                codes.IMPORT_OUTSIDE_APP,
                request.position,
                f"the components use {request.statement}, which reaches outside the app's directory",
                "import the module by its absolute name (modules next to the app are copied into the project)",
            )


def _check_copied(local_files: dict[str, bytes], package: str, display_path: str, diagnostics: Diagnostics) -> None:
    """The app's own modules are copied as they are: CPython must accept them."""
    shown_dir = PurePath(display_path).parent
    for path in sorted(local_files):
        if path.endswith(".py"):
            relative_path = path.removeprefix(f"{package}/") if path.startswith(f"{package}/") else path
            check_module(local_files[path], str(shown_dir / relative_path), diagnostics)


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
    directory's name; for a generic name inside a package, its dotted module name, `pkg/main.py` ->
    `pkg_main`), made a valid Python identifier that names no module the project imports
    (`datetime/app.py` -> `datetime_app`; `read_app` adds the suffix for the app's own imports)."""
    path = app_path.resolve()
    stem = path.stem if path.stem not in ("app", "main", "__init__") else (path.parent.name or path.stem)
    if path.stem in ("app", "main", "__init__"):
        root = local_modules.import_root(path.parent)
        if root != path.parent:
            stem = local_modules.app_module(path, root).replace(".", "_")
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


def _check_out_dir(out_dir: Path, packages: set[Path], diagnostics: Diagnostics) -> None:
    """The output must not lie inside a local package that is copied into it (it would copy itself)."""
    out = out_dir.resolve()
    for directory in sorted(packages):
        if out.is_relative_to(directory.resolve()):
            diagnostics.error(
                codes.OUTPUT_INSIDE_PACKAGE,
                Position(1, 1),
                f"the output directory {out_dir} is inside the package {directory.name!r}, which the components "
                "import and the generated project copies",
                f"write the project outside {directory.name}/ (for example next to the app)",
            )
