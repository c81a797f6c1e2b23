"""Cut out of the app exactly the module-level code that its components need.

libcst's scope analysis links every use of a module-level name to the statements that bind
it. Starting from the component functions (and any other name the generated code uses),
the statements they depend on are followed transitively; everything else, such as
`model.train(...)` calls, schedules and other import-time side effects, is left out.
Imports are trimmed to the names that are used, and unionml decorators are removed.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst.metadata import (
    Access,
    ClassScope,
    GlobalScope,
    ImportAssignment,
    MetadataWrapper,
    PositionProvider,
    Scope,
    ScopeProvider,
)

from .diagnostics import Diagnostics, Position
from .extract import Extraction


@dataclass(frozen=True)
class Slice:
    code: str
    defined: frozenset[str]  # module-level names the sliced code binds
    imports: frozenset[str]  # bound names of the imports it keeps


class _Indexer(cst.CSTVisitor):
    """Maps every node to the index of the top-level statement that contains it."""

    def __init__(self) -> None:
        self.index: dict[cst.CSTNode, int] = {}
        self.current = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.index[node] = self.current
        return True


def slice_module(extraction: Extraction, roots: set[str], diagnostics: Diagnostics) -> Slice:
    module = extraction.module
    # Scope analysis costs time in proportion to the code it reads: leave out the lines that only
    # call the unionml objects (schedules, model.train(...)), which bind nothing components use.
    kept = [(n, s) for n, s in enumerate(module.body) if not _only_calls(s, set(extraction.objects))]
    reduced = module.with_changes(body=[statement for _, statement in kept])
    scope = MetadataWrapper(reduced, unsafe_skip_copy=True).resolve(ScopeProvider)[reduced]
    positions = extraction.wrapper.resolve(PositionProvider)
    indexer = _Indexer()
    for number, statement in kept:
        indexer.current = number
        statement.visit(indexer)
    where = indexer.index

    in_decorators: set[cst.CSTNode] = set()
    for decorator in extraction.registration_nodes:
        collector = _Indexer()
        decorator.visit(collector)
        in_decorators |= set(collector.index)

    binders: dict[str, set[int]] = {}
    imported: dict[str, set[int]] = {}  # the statements that bind a name only by an import
    # statement -> (name, binding statement, referencing node)
    uses: dict[int, list[tuple[str, int, cst.CSTNode]]] = {}
    used_names: dict[int, set[str]] = {}
    for assignment in scope.assignments:
        node = getattr(assignment, "node", None)
        if node not in where:
            continue
        binders.setdefault(assignment.name, set()).add(where[node])
        if isinstance(assignment, ImportAssignment):
            imported.setdefault(assignment.name, set()).add(where[node])
        for reference in assignment.references:
            if reference.node in where and reference.node not in in_decorators and _reads_global(reference, assignment.name):
                user = where[reference.node]
                uses.setdefault(user, []).append((assignment.name, where[node], reference.node))
                used_names.setdefault(user, set()).add(assignment.name)

    union_objects = set(extraction.objects)
    object_statements = {binder for name in union_objects for binder in binders.get(name, ())}
    needed: set[int] = set()
    pending = sorted({binder for name in roots for binder in binders.get(name, ())} - object_statements)
    reported: set[cst.CSTNode] = set()
    while pending:
        current = pending.pop()
        if current in needed:
            continue
        needed.add(current)
        for name, binder, reference in sorted(uses.get(current, ()), key=lambda u: (u[1], u[0])):
            if binder in object_statements or name in union_objects:
                if reference not in reported:
                    reported.add(reference)
                    start = positions[reference].start
                    diagnostics.error(
                        Position(start.line, start.column + 1),
                        f"'{name}' is the unionml {extraction.objects[name].kind} object, which the generated "
                        "project does not include",
                        "components must not use the unionml Dataset or Model; pass what they need as a "
                        "parameter or a module-level constant",
                    )
                continue
            if binder != current and binder not in needed:
                pending.append(binder)

    kept_imports: set[str] = set()
    for number in needed:
        kept_imports |= used_names.get(number, set())
    code = ""
    previous_simple = False
    for number in sorted(needed):
        statement = module.body[number]
        uses_objects = bool(used_names.get(number, set()) & union_objects)
        rendered = _rendered(statement, extraction, kept_imports, uses_objects, positions, diagnostics)
        if rendered is None:
            continue
        simple = isinstance(rendered, cst.SimpleStatementLine)
        separator = "" if not code or (simple and previous_simple) else "\n"
        code += separator + module.code_for_node(rendered).strip("\n") + "\n"
        previous_simple = simple
    # an import kept for another name binds nothing when its alias was trimmed (`import os, sys`)
    defined = frozenset(
        name
        for name, statements in binders.items()
        if (statements - imported.get(name, set())) & needed
        or (statements & needed and _bound_kept(name, kept_imports))
    )
    return Slice(code, defined, frozenset(kept_imports))


def _reads_global(access: Access, name: str) -> bool:
    """Whether a read that libcst links to a module-level binding really reads it, scope by scope.

    libcst attaches a read to the enclosing scope's bindings whenever it comes before one of the
    local bindings of its name (`features = features.astype(float)`, a loop variable reassigned):
    a function that binds a name anywhere reads its own, never the module's (Python's rule).
    A class body reads its own binding only once one has run, else the module's.
    """
    local = name.split(".")[0]  # `import os.path` binds `os`
    scope: Scope = access.scope
    if isinstance(scope, ClassScope) and local in scope.assignments:
        if any(referent.scope is scope for referent in access.referents):
            return False
        scope = scope.parent
    while not isinstance(scope, GlobalScope):
        if not isinstance(scope, ClassScope) and local in scope.assignments:
            return False
        scope = scope.parent  # a class body's names are not visible to the functions inside it
    return True


def _only_calls(statement: cst.CSTNode, objects: set[str]) -> bool:
    """A line of calls on the unionml objects only, like `model.schedule_training(...)`."""
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, cst.Expr)
        and isinstance(small.value, cst.Call)
        and isinstance(small.value.func, cst.Attribute)
        and isinstance(small.value.func.value, cst.Name)
        and small.value.func.value.value in objects
        for small in statement.body
    )


def _rendered(
    statement: cst.CSTNode,
    extraction: Extraction,
    kept: set[str],
    uses_objects: bool,
    positions,
    diagnostics: Diagnostics,
) -> cst.CSTNode | None:
    leading = [line for line in getattr(statement, "leading_lines", ()) if line.comment is not None]
    if isinstance(statement, cst.SimpleStatementLine):
        body = [_trim_import(small, kept) for small in statement.body]
        body = [small for small in body if small is not None]
        if not body:
            return None
        return statement.with_changes(body=body, leading_lines=leading)
    if isinstance(statement, cst.FunctionDef):
        decorators = [d for d in statement.decorators if d not in extraction.registration_nodes]
        return statement.with_changes(decorators=decorators, leading_lines=leading)
    if not isinstance(statement, cst.ClassDef) and uses_objects:
        start = positions[statement].start
        diagnostics.error(
            Position(start.line, start.column + 1),
            "code the components need is defined in a block that also uses the unionml objects",
            "move the helpers the components use out of this block, to the module's top level",
        )
    return statement.with_changes(leading_lines=leading)


def _trim_import(small: cst.BaseSmallStatement, kept: set[str]) -> cst.BaseSmallStatement | None:
    if not isinstance(small, (cst.Import, cst.ImportFrom)) or isinstance(small.names, cst.ImportStar):
        return small
    names = [alias for alias in small.names if _bound_kept(_bound(alias), kept)]
    if not names:
        return None
    names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return small.with_changes(names=names)


def _bound_kept(bound: str, kept: set[str]) -> bool:
    return bound in kept or bound.split(".")[0] in kept


def _bound(alias: cst.ImportAlias) -> str:
    if alias.asname is not None:
        return alias.asname.name.value  # type: ignore[union-attr]
    return cst.Module([]).code_for_node(alias.name)
