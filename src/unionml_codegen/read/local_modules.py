"""The app's own modules that the generated project needs, found as Python would import them.

An app is imported from its *import root*: the first directory above it without `__init__.py`
(for `shop/app.py` beside no `__init__.py`, `shop/` itself; for `pkg/main.py` in a package, the
directory holding `pkg/`), never above the app's project root, which is searched too (an app run as
`unionml train pkg.main:model` from there). An absolute import whose top-level name is a module, a
package or a namespace package (a directory without `__init__.py` holding Python files) at one of
those roots is the app's own code; anything else outside the standard library is a distribution.
A relative import from the app (`from .features import x`) is copied beside components.py.

What is copied follows the imports, module-level and inside functions, of the components code and
then of every copied module, transitively:

- a single-file module: the file;
- a regular package that does not hold the app: the whole directory, as the app's code may read
  its data files;
- the packages that hold the app, and namespace packages: only the modules imported, with the
  `__init__.py` of each package on the way.

The app's own module is never copied. An `__init__.py` that imports it (`from .main import model`)
is written empty when the components need no name from it, and is an error otherwise; any other
module that imports the app is an error. A submodule that does not exist is an error at the import.

One job, Python's import resolution for the app's own modules (import root, project root, namespace
packages, re-exports), with every probe noted for the up-to-date check.
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .. import codes
from ..diagnostics import Diagnostics, Position
from ..input_files import MARKERS, MAX_APP_BYTES, VCS_METADATA, InputError, inside, project_root, read_file
from ..requirements import requirement_module
from ..input_files import decode_python, note_probe, note_tree

#: the OUT prefix of modules copied beside components.py, until the package's name is decided
BESIDE = "\0package/"

#: written in place of an `__init__.py` that imports the app (never a copy of the app's code)
STUB = (
    "# Written by unionml-codegen in place of {path}, which imports the app's own module {app}:\n"
    "# the generated project never imports the app (nor unionml). Do not edit.\n"
)


@dataclass(frozen=True)
class Request:
    """One import to follow: `module` (dotted, absolute within its mapping) and, for `from M import
    a, b`, the names taken from it."""

    module: str
    names: tuple[str, ...] | None
    position: Position
    statement: str
    relative: bool = False  # mapped beside components.py (a relative import of the app)
    origin: str = ""  # the copied module it is in ("" for the app)
    level: int = 0  # dots of a relative import, as written


@dataclass
class LocalModules:
    files: dict[str, bytes] = field(default_factory=dict)  # path in OUT -> bytes
    third_party: set[str] = field(default_factory=set)  # requirement modules (names.requirement_module)
    tops: set[str] = field(default_factory=set)  # top-level names of the app's own modules
    packages: set[Path] = field(default_factory=set)  # regular package directories copied whole
    unionml: set[str] = field(default_factory=set)  # copied modules that import unionml


class _Tree:
    """Probing the app's directories, every probe noted for the next run's check (input_files.py)."""

    def __init__(self) -> None:
        self._kinds: dict[Path, str] = {}

    def kind(self, path: Path) -> str:
        if path not in self._kinds:
            note_probe(path)
            self._kinds[path] = "file" if path.is_file() else "dir" if path.is_dir() else "missing"
        return self._kinds[path]

    def find(self, directory: Path, name: str) -> tuple[str, Path] | None:
        """`name` in one directory, in Python's order: a package, a module, a namespace portion."""
        if not name.isidentifier():
            return None
        if self.kind(directory / name / "__init__.py") == "file":
            return "package", directory / name
        if self.kind(directory / f"{name}.py") == "file":
            return "module", directory / f"{name}.py"
        if self.kind(directory / name) == "dir":
            return "namespace", directory / name
        return None

    def holds_python(self, directory: Path) -> bool:
        note_tree(directory)
        try:
            return any(entry.suffix == ".py" and entry.is_file() for entry in directory.iterdir())
        except OSError:
            return False


def import_root(app_dir: Path, tree: _Tree | None = None) -> Path:
    """The directory the app's absolute imports start from: above the packages that hold it, but
    not above its project's root (when it has one: a directory with `.git` or `pyproject.toml`)."""
    tree = tree or _Tree()
    top = marked_root(app_dir)
    root = Path(os.path.abspath(app_dir))
    home = Path(os.path.expanduser("~"))
    while tree.kind(root / "__init__.py") == "file" and Path(os.path.realpath(root)) != top:
        if root.parent == root or root.parent == home:
            break
        root = root.parent
    return root


def marked_root(directory: Path) -> Path | None:
    """The app's project root (inputs.project_root) if a marker makes it one, else None."""
    root = project_root(directory)
    return root if any(os.path.lexists(root / marker) for marker in MARKERS) else None


def app_module(app_file: Path, root: Path) -> str:
    """The app's dotted module name from `root` (`pkg.main`; `pkg` for `pkg/__init__.py`)."""
    parts = list(Path(os.path.abspath(app_file)).relative_to(root).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


class _Mapping:
    """Where a family of imports is searched and where its files land in OUT."""

    def __init__(self, roots: list[Path], prefix: str) -> None:
        self.roots = roots
        self.prefix = prefix


def find_local_modules(requests: list[Request], app_file: Path, prefix: str, diagnostics: Diagnostics) -> LocalModules:
    """Follow `requests` (the components' imports, absolute and relative) to the app's own modules;
    the files copied beside components.py are keyed with `prefix`."""
    return _Finder(app_file, prefix, diagnostics).run(requests)


def locate_module(importer: Path, module: str, level: int) -> tuple[Path | None, list[Path]]:
    """The file Python runs for `module` imported from `importer` (a package's `__init__.py`, or the
    module), searched as the app's own imports are (the import root, the project root; `level` dots
    from the importer's directory), or None: not one of the project's modules, or a namespace
    package (which runs no code). Also the directories searched, to name in a diagnostic."""
    finder = _Finder(importer, "", Diagnostics(""))
    parts = module.split(".") if module else []
    if level:
        base = finder.app_file.parent
        for _ in range(level - 1):
            base = base.parent
        roots, path, kind = [base], base, "namespace"
    else:
        roots = finder.absolute.roots
        found = finder._top(parts, finder.absolute) if parts else None
        if found is None:
            return None, roots
        kind, path, _ = found
        parts = parts[1:]
    for name in parts:
        if kind == "module":
            return None, roots
        step = finder.tree.find(path, name)
        if step is None:
            return None, roots
        kind, path = step
    if kind == "package":
        return path / "__init__.py", roots
    return (path, roots) if kind == "module" else (None, roots)


def read_source(path: Path) -> str:
    """A module the generator reads as the app (a script's imported model, imported.py), noted for
    the next run's check as the app is; InputError when it cannot be read."""
    return decode_python(read_file(path, MAX_APP_BYTES, "the module"), "the module")


class _Finder:
    def __init__(self, app_file: Path, prefix: str, diagnostics: Diagnostics) -> None:
        self.tree = _Tree()
        self.app_file = Path(os.path.abspath(app_file))
        app_dir = self.app_file.parent
        self.root = import_root(app_dir, self.tree)
        marked = marked_root(app_dir)
        roots = [self.root]
        if marked is not None and Path(os.path.realpath(self.root)) != marked:
            roots.append(marked)  # an app run from its project's root (`unionml train apps.x.app:model`)
        # what may be read: the project, or without one the directory the app is imported from
        self.project = marked or Path(os.path.realpath(self.root))
        self.absolute = _Mapping(roots, "")
        self.beside = _Mapping([app_dir], prefix)
        self.app_name = app_module(self.app_file, self.root)
        self.diagnostics = diagnostics
        self.data: dict[Path, bytes | None] = {}
        self.parsed: dict[Path, list[Request]] = {}
        self.reported: set[tuple[str, str]] = set()

    def run(self, requests: list[Request]) -> LocalModules:
        stubbed: set[str] = set()
        while True:  # until no `__init__.py` that imports the app is left to write empty
            result, sources, edges, needs_names, direct = self._follow(requests, stubbed)
            apps = {out for out, source in sources.items() if source == self.app_file}
            reaching = _reaching(edges, apps)
            new = {out for out in reaching if out.endswith("__init__.py") and out not in needs_names} - stubbed
            if not new:
                break
            stubbed |= new
        for request in direct:
            self._imports_the_app(request, None, [])
        for out in sorted(result.unionml - stubbed):
            self.diagnostics.error(
                codes.UNIONML_IN_COMPONENTS,
                Position(1, 1),
                f"the module {out.removeprefix(self.beside.prefix)}, which the components need, imports unionml; "
                "the generated project must not depend on it",
                "move what the components use out of it, into a module that does not import unionml",
            )
        for out in sorted(reaching - apps):
            self._imports_the_app(None, sources[out], needs_names.get(out, []))
        for out, source in sorted(sources.items()):
            if out in apps:
                continue
            if out in stubbed:
                shown = _shown(source, self.absolute.roots + self.beside.roots)
                result.files[out] = STUB.format(path=shown, app=self.app_name).encode()
            else:
                self._read(result, out, source)
        return result

    def _follow(self, requests: list[Request], stubbed: set[str]):
        """Every file the requests import, transitively: (result, OUT path -> source, importer -> the
        files its imports run, `__init__.py` -> the imports taking names from it, the app's own
        imports of the app's module)."""
        result = LocalModules()
        sources: dict[str, Path] = {}
        edges: dict[str, set[str]] = {}
        needs_names: dict[str, list[Request]] = {}
        direct: list[Request] = []
        queue: list[tuple[Request, str | None]] = [(request, None) for request in requests]
        expanded: set[str] = set()
        while queue:
            request, importer = queue.pop(0)
            found = self._resolve(request, result, sources)
            if found is None:
                continue
            targets, named_init = found
            if importer is None:
                if any(sources[t] == self.app_file for t in targets):
                    direct.append(request)
            else:
                edges.setdefault(importer, set()).update(targets)
            if named_init is not None:
                needs_names.setdefault(named_init, []).append(request)
            for target in targets:
                if target in expanded or target in stubbed or sources[target] == self.app_file:
                    continue
                expanded.add(target)
                queue.extend((r, target) for r in self._imports_of(target, sources[target], result))
        return result, sources, edges, needs_names, direct

    def _resolve(self, request: Request, result: LocalModules, sources: dict[str, Path]):
        """The OUT paths an import runs (the packages on the way included) and the `__init__.py` it
        takes names from, if any; None when it is not the app's own code."""
        mapping = self.beside if request.relative else self.absolute
        parts = request.module.split(".") if request.module else []
        if not request.relative:
            if not parts or parts[0] in sys.stdlib_module_names:
                return None
        targets: list[str] = []
        if request.relative:  # never a distribution, found or not
            result.tops.add(parts[0] if parts else (request.names or ("",))[0])
        if not parts:  # `from . import x` in the app: each name is a module beside it, or no file
            for name in request.names or ():
                found = self.tree.find(mapping.roots[0], name)
                if found is not None:
                    self._add(*found, mapping.roots[0], mapping, targets, sources, result)
            return targets, None
        top = self._top(parts, mapping)
        if top is None:
            if not request.relative:
                if parts[0] == "unionml":
                    return None  # the components' own use is UMG506 (app.py); a copied module's is below
                result.third_party.add(requirement_module(request.module))
            return None
        kind, path, base = top
        if not request.relative:
            result.tops.add(parts[0])
        whole = False  # a package copied whole holds what the import names; it must still exist
        for index, name in enumerate(parts):
            if index:
                found = None if kind == "module" else self.tree.find(path, name)
                if found is None:
                    self._missing(request, ".".join(parts[:index]), name, path, kind)
                    return targets, None
                kind, path = found
            whole = whole or self._add(kind, path, base, mapping, targets, sources, result)
        if kind == "module":
            return targets, None
        named_init = None
        for name in request.names or ():
            found = self.tree.find(path, name)
            if found is not None:
                if not whole:
                    self._add(*found, base, mapping, targets, sources, result)
            elif kind == "package" and self._may_bind(path / "__init__.py", name):
                named_init = self._out(path / "__init__.py", base, mapping)
            else:
                self._missing(request, request.module, name, path, kind)
        if request.names is None and kind == "package":
            named_init = self._out(path / "__init__.py", base, mapping)  # `import pkg`: any of its names
        return targets, named_init

    def _may_bind(self, init: Path, name: str) -> bool:
        """Whether a package's `__init__.py` may bind `name` (unless it plainly does not: no statement
        at its top level binds it, and it has no `*` import nor module `__getattr__`)."""
        data = self._bytes(init)
        try:
            tree = ast.parse(data) if data is not None else None
        except (SyntaxError, ValueError):
            tree = None
        if tree is None:
            return True
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if any(alias.name == "*" or (alias.asname or alias.name).split(".")[0] == name for alias in node.names):
                    return True
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name in (name, "__getattr__"):
                    return True
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id == name:
                return True
            elif isinstance(node, ast.Global) and name in node.names:
                return True
            elif isinstance(node, ast.Call) and ast.unparse(node.func) in ("setattr", "globals", "vars", "exec"):
                return True
        return False

    def _top(self, parts: list[str], mapping: _Mapping) -> tuple[str, Path, Path] | None:
        """Where the top-level name is found: a module or package at the first root that has one, else
        a namespace portion that holds Python (a directory of data files is no module of the app)."""
        namespace = None
        for base in mapping.roots:
            found = self.tree.find(base, parts[0])
            if found is None:
                continue
            if found[0] != "namespace":
                return found[0], found[1], base
            namespace = namespace or (found[0], found[1], base)
        if namespace is None:
            return None
        if self._resolves(namespace[1], parts[1:]) or self.tree.holds_python(namespace[1]):
            return namespace
        return None

    def _resolves(self, directory: Path, parts: list[str]) -> bool:
        path = directory
        for name in parts:
            found = self.tree.find(path, name)
            if found is None:
                return False
            path = found[1]
        return bool(parts)

    def _add(self, kind, path: Path, base: Path, mapping: _Mapping, targets: list[str], sources, result) -> bool:
        """Note the file(s) one step of an import runs; True when a whole package was taken."""
        if kind == "namespace":
            return False
        if kind == "module":
            out = self._out(path, base, mapping)
            sources.setdefault(out, path)
            targets.append(out)
            return False
        init = self._out(path / "__init__.py", base, mapping)
        if self.app_file.is_relative_to(os.path.abspath(path)) or init in sources:
            sources.setdefault(init, path / "__init__.py")
            targets.append(init)
            return False
        result.packages.add(path)
        note_tree(path)
        for file in sorted(path.rglob("*")):
            relative = file.relative_to(path)
            if {"__pycache__", *VCS_METADATA} & set(relative.parts) or file.suffix == ".pyc" or file.is_dir():
                continue
            out = self._out(file, base, mapping)
            sources.setdefault(out, file)
            targets.append(out)
        return True

    def _out(self, path: Path, base: Path, mapping: _Mapping) -> str:
        return mapping.prefix + Path(os.path.abspath(path)).relative_to(os.path.abspath(base)).as_posix()

    def _imports_of(self, out: str, source: Path, result: LocalModules) -> list[Request]:
        """The imports of a copied module (at any depth: what it may run), as requests."""
        if not out.endswith(".py"):
            return []
        if source not in self.parsed:
            self.parsed[source] = self._parse(out, source)
        requests = self.parsed[source]
        for request in requests:
            if not request.relative and request.module.split(".")[0] == "unionml":
                result.unionml.add(out)
        return requests

    def _parse(self, out: str, source: Path) -> list[Request]:
        data = self._bytes(source)
        try:
            tree = ast.parse(data) if data is not None else None
        except (SyntaxError, ValueError):
            tree = None  # reported when it is read (python_check)
        if tree is None:
            return []
        beside = out.startswith(self.beside.prefix)
        package = PurePosixPath(out.removeprefix(self.beside.prefix) if beside else out).parent.parts
        found: list[Request] = []
        shown = _shown(source, self.absolute.roots + self.beside.roots)
        for node in ast.walk(tree):
            where = Position(1, 1)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.append(Request(alias.name, None, where, f"import {alias.name}", origin=shown))
            elif isinstance(node, ast.ImportFrom):
                names = tuple(alias.name for alias in node.names if alias.name != "*")
                statement = f"from {'.' * node.level}{node.module or ''} import {', '.join(names) or '*'}"
                module = node.module or ""
                if node.level:
                    if node.level > len(package) + beside:
                        continue  # above the directory it was copied from: not followed
                    kept = list(package[: len(package) - node.level + 1])
                    module = ".".join([*kept, *([module] if module else [])])
                    if not module and not beside:
                        continue
                found.append(
                    Request(module, names, where, statement, relative=bool(node.level) and beside, origin=shown)
                )
        return found

    def _bytes(self, source: Path) -> bytes | None:
        if source not in self.data:
            try:
                ok = inside(source, self.project)
                self.data[source] = read_file(source, MAX_APP_BYTES, "a local module") if ok else None
            except InputError:
                self.data[source] = None
        return self.data[source]

    def _read(self, result: LocalModules, out: str, source: Path) -> None:
        shown = out.removeprefix(self.beside.prefix) if out.startswith(self.beside.prefix) else out
        what = f"the local module file {shown!r}"
        try:
            if not inside(source, self.project):
                raise InputError(f"{what} is outside the app's project ({self.project})")
            if self.data.get(source) is not None:
                result.files[out] = self.data[source]
            else:
                result.files[out] = read_file(source, MAX_APP_BYTES, what)
        except InputError as exc:
            self.diagnostics.error(
                codes.UNREADABLE_LOCAL_MODULE,
                Position(1, 1),
                f"{exc}; the components import it, so it would be copied into the project",
                "local modules are copied as they are: keep them regular files inside the project",
            )

    def _missing(self, request: Request, parent: str, name: str, where: Path, kind: str) -> None:
        if (request.statement, name) in self.reported:
            return
        self.reported.add((request.statement, name))
        shown = _shown(where, self.absolute.roots + self.beside.roots)
        if kind == "module":
            reason = f"is the module {shown}, not a package: it has no submodule {name!r}"
            hint = f"import what {shown} defines from {parent!r} itself, or make {parent!r} a package"
        else:
            reason = f"has no module {name!r}: there is no {shown}/{name}.py nor {shown}/{name}/"
            hint = f"create {shown}/{name}.py, or import {name!r} from the module that defines it"
        origin = f" (in {request.origin})" if request.origin else ""
        self.diagnostics.error(
            codes.MISSING_LOCAL_MODULE,
            request.position,
            f"`{request.statement}`{origin}: the app's own {'module' if kind == 'module' else 'package'} "
            f"{parent!r} {reason}",
            hint,
        )

    def _imports_the_app(self, request: Request | None, source: Path | None, names_from: list[Request]) -> None:
        app = self.app_name
        if request is not None:  # the components themselves
            message = f"the components use `{request.statement}`, the app's own module {app!r}"
            hint = "the generated project holds the components already: use their names directly"
            position = request.position
        elif names_from:
            request = names_from[0]
            shown = _shown(source, self.absolute.roots + self.beside.roots)
            origin = f" (in {request.origin})" if request.origin else ""
            message = (
                f"`{request.statement}`{origin} takes names from {shown}, which imports the app's own module {app!r}"
            )
            hint = f"move what the components use out of {shown} into a module of its own, and import it from there"
            position = request.position
        else:
            shown = _shown(source, self.absolute.roots + self.beside.roots)
            message = f"the module {shown}, which the components need, imports the app's own module {app!r}"
            hint = "move what both use into a module of its own, and import it from there in the app and the module"
            position = Position(1, 1)
        self.diagnostics.error(
            codes.LOCAL_MODULE_IMPORTS_APP,
            position,
            f"{message}; the generated project must not import the app, which builds the unionml objects",
            hint,
        )


def _reaching(edges: dict[str, set[str]], targets: set[str]) -> set[str]:
    """The files from which one of `targets` is imported, directly or not."""
    reaching: set[str] = set()
    changed = True
    while changed:
        changed = False
        for source, imported in edges.items():
            if source not in reaching and imported & (targets | reaching):
                reaching.add(source)
                changed = True
    return reaching


def _shown(path: Path, roots: list[Path]) -> str:
    absolute = Path(os.path.abspath(path))
    for root in roots:
        if absolute.is_relative_to(os.path.abspath(root)):
            return absolute.relative_to(os.path.abspath(root)).as_posix()
    return absolute.name
