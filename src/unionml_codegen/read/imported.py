"""A script that schedules a model it imports: follow the import to the module that defines the objects.

`from pkg import model` (through `__init__` re-exports, at most `MAX_REEXPORTS`) or `from pkg.main import
model, dataset` is followed as the app's own imports are (local_modules.locate_module); that module is
read as the app, and the script's schedules are read with the imported objects bound under the
names the script gives them. What the script may not do with them is refused at its line
(codes.IMPORTED_MODEL_NOT_FOUND, codes.IMPORTED_MODEL_UNSUPPORTED).
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath


from .. import codes

from . import local_modules
from ..diagnostics import Diagnostics, Position
from .extract import Extraction, UnionObject, extract, parse
from .imports import import_places
from ..spec import Import
from .unionml_api import SCHEDULE_METHODS


@dataclass
class _Imported:
    """What a script imports from the module that defines its unionml objects: local name -> the
    object's variable there, and the first such import's place."""

    position: Position
    names: dict[str, str] = field(default_factory=dict)


#: how many `from .main import model` re-exports are followed from the module a script names
MAX_REEXPORTS = 8


def imported_objects(
    extraction: Extraction, tree: ast.Module, source: str, script_file: Path, diagnostics: Diagnostics
) -> tuple[Path, _Imported] | None:
    """For a script that defines no unionml object but schedules one it imports (`from pkg import
    model`, then `model.schedule_training(...)`): the module that defines the objects and what the
    script binds them to; None when the script schedules nothing imported (then it has no model at all)."""
    places = import_places(tree, source)
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


def shown_path_of(defining: Path, script_dir: Path, display_path: str) -> str:
    """The defining module's path as the user would write it: beside the script's as shown."""
    relative = os.path.relpath(defining, os.path.abspath(script_dir))
    return str(PurePath(display_path).parent / relative)


def copied_objects(objects: dict[str, UnionObject]) -> dict[str, UnionObject]:
    """The objects as the script's reader may change them (its registrations are refused after)."""
    return {name: replace(obj, registrations=dict(obj.registrations)) for name, obj in objects.items()}


def check_script(
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


def merge_diagnostics(diagnostics: Diagnostics, inner: Diagnostics, text: str) -> None:
    """The defining module's diagnostics, each with its own line (it is not the script)."""
    lines = text.splitlines()
    for item in inner.items:
        line = item.position.line
        shown = lines[line - 1] if 0 < line <= len(lines) and item.text is None else item.text
        diagnostics.items.append(replace(item, text=shown))
