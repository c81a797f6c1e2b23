"""The app's imports: the standard library, local modules (copied) or third-party (required); the package name.

Every import the components code makes, at module level or inside a function, is a request that
local_modules.py resolves as Python would; what it cannot follow (`importlib.import_module` with a
name it cannot evaluate) is a warning. The generated package's name is checked against the app's own
modules and Python's, and OUT may not lie inside a package the project copies.
"""

from __future__ import annotations

import ast
import keyword
import re
import sys
from pathlib import Path, PurePath


from .. import codes

from . import local_modules
from ..diagnostics import Diagnostics, Position
from .cpython import check_module
from ..spec import Import


def import_requests(
    used_imports: set[Import], code: str, tree: ast.Module, source: str, diagnostics: Diagnostics
) -> list[local_modules.Request]:
    """The imports the generated components run: the module-level ones they use, and every import
    inside the code they need (a component's own `import scipy.stats`), each at its line in the app.

    `importlib.import_module("name")` and `__import__("name")` with a constant name count as
    `import name`; any other is a warning: the generator cannot know what it imports."""
    places = import_places(tree, source)
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


def import_places(tree: ast.Module, source: str) -> dict:
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


def check_imports(requests: list[local_modules.Request], diagnostics: Diagnostics) -> None:
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


def check_copied(local_files: dict[str, bytes], package: str, display_path: str, diagnostics: Diagnostics) -> None:
    """The app's own modules are copied as they are: CPython must accept them."""
    shown_dir = PurePath(display_path).parent
    for path in sorted(local_files):
        if path.endswith(".py"):
            relative_path = path.removeprefix(f"{package}/") if path.startswith(f"{package}/") else path
            check_module(local_files[path], str(shown_dir / relative_path), diagnostics)


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


def checked_package(package: str, app_modules: set[str], derived: bool, diagnostics: Diagnostics) -> str:
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


def check_out_dir(out_dir: Path, packages: set[Path], diagnostics: Diagnostics) -> None:
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
