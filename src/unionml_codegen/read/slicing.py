"""Cut out of the app exactly the module-level code that its components need.

libcst's scope analysis links every use of a module-level name to the statements that bind
it. Starting from the component functions (and any other name the generated code uses),
the statements they depend on are followed transitively; everything else, such as
`model.train(...)` calls, schedules and other import-time side effects, is left out.
Imports are trimmed to the names that are used, and unionml decorators are removed.

The components may read a few attributes of the unionml objects whose values the app states
(`dataset.name`, `dataset._features`, `model.name`, ...): those reads become the values. Any other
use of the objects is an error in the code the project needs; in an optional component (one no
schedule calls) it leaves that component out instead, and the caller says so.

One job, the slice: its scope checks, import trimming and the statements' rendering belong together,
as each depends on what the others decided.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, Hashable, Iterator

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    Access,
    ClassScope,
    ExpressionContext,
    ExpressionContextProvider,
    GlobalScope,
    ImportAssignment,
    MetadataWrapper,
    ParentNodeProvider,
    Scope,
    ScopeProvider,
)

from .. import codes
from .cpython import paired, spelled
from ..diagnostics import Diagnostics, Position
from .extract import Extraction, qualified_name
from ..names import literal
from .reach import reached


@dataclass(frozen=True)
class Slice:
    code: str
    defined: frozenset[str]  # module-level names the sliced code binds
    imports: frozenset[str]  # bound names of the imports it keeps
    # optional root groups left out, with the uses of the unionml objects that made them so
    left_out: dict[Hashable, tuple[tuple[str, Position], ...]] = field(default_factory=dict)


def nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """`node` and every node under it, in no particular order: the nodes a libcst visitor passes,
    without the visitor's cost (it rebuilds each node it passes)."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        for name in _fields(type(node)):
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(item for item in value if isinstance(item, cst.CSTNode))


@cache
def _fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind))


def slice_module(
    extraction: Extraction,
    roots: set[str],
    diagnostics: Diagnostics,
    optional: dict[Hashable, set[str]] | None = None,
    attributes: dict[tuple[str, str], Any] | None = None,
) -> Slice:
    """The code `roots` need, plus each `optional` group of roots that needs nothing of the
    unionml objects beyond the `attributes` whose values are known ((object, attribute) -> value)."""
    module = extraction.module
    # Scope analysis costs time in proportion to the code it reads: leave out the lines that only
    # call the unionml objects (schedules, model.train(...)), which bind nothing components use,
    # and the statements the roots cannot reach (reach.py).
    calls = {n for n, s in enumerate(module.body) if _only_calls(s, set(extraction.objects))}
    every_root = set(roots).union(*(optional or {}).values())
    reachable = reached(module, extraction.tree, every_root, set(range(len(module.body))) - calls)
    kept = [(n, module.body[n]) for n in sorted(reachable)]
    reduced = module.with_changes(body=[statement for _, statement in kept])
    scopes = MetadataWrapper(reduced, unsafe_skip_copy=True).resolve(ScopeProvider)
    scope = scopes[reduced]
    where = {node: number for number, statement in kept for node in nodes(statement)}  # node -> its statement

    def position(node: cst.CSTNode) -> Position:
        return extraction.positions.position(node, where.get(node))

    in_decorators = {node for decorator in extraction.registration_nodes for node in nodes(decorator)}

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
            if (
                reference.node in where
                and reference.node not in in_decorators
                and _reads_global(reference, assignment.name)
            ):
                user = where[reference.node]
                uses.setdefault(user, []).append((assignment.name, where[node], reference.node))
                used_names.setdefault(user, set()).add(assignment.name)

    union_objects = set(extraction.objects)
    object_statements = {binder for name in union_objects for binder in binders.get(name, ())}
    # `if __name__ == "__main__":` runs when the app is run as a script, never when unionml imports it
    main_blocks = {number for number, statement in kept if _is_main_block(statement)}
    left_out_binders: dict[cst.CSTNode, tuple[str, int]] = {}  # reads of names bound only in left-out code

    def closure(names: set[str]) -> tuple[set[int], list[tuple[str, cst.CSTNode]]]:
        """The statements `names` need, and the uses of the unionml objects among them."""
        needed: set[int] = set()
        object_uses: list[tuple[str, cst.CSTNode]] = []
        pending = sorted({binder for name in names for binder in binders.get(name, ())} - object_statements)
        pending = [binder for binder in pending if binder not in main_blocks]
        while pending:
            current = pending.pop()
            if current in needed:
                continue
            needed.add(current)
            for name, binder, reference in sorted(uses.get(current, ()), key=lambda u: (u[1], u[0])):
                if name in union_objects:
                    object_uses.append((name, reference))
                elif binder in object_statements or binder in main_blocks:
                    if not binders[name] - object_statements - main_blocks:
                        left_out_binders.setdefault(reference, (name, binder))  # bound nowhere else: an error
                elif binder != current and binder not in needed:
                    pending.append(binder)
        return needed, object_uses

    values = _KnownAttributes(extraction, attributes or {})
    replacements: dict[cst.CSTNode, str] = {}
    needed, object_uses = closure(roots)
    reported: set[cst.CSTNode] = set()
    for name, reference in object_uses:
        found = values.replacement(name, reference)
        if found is not None:
            replacements[found[0]] = found[1]
        elif reference not in reported:
            reported.add(reference)
            diagnostics.error(
                codes.UNIONML_IN_COMPONENTS,
                position(reference),
                f"'{name}' is the unionml {extraction.objects[name].kind} object, which the generated "
                "project does not include",
                "components must not use the unionml Dataset or Model; pass what they need as a parameter or a "
                f"module-level constant (the generator puts in the values of {values.known(name)} only)",
            )
    left_out: dict[Hashable, tuple[tuple[str, Position], ...]] = {}
    for key, names in sorted((optional or {}).items(), key=lambda item: repr(item[0])):
        extra, extra_uses = closure(names)
        found_all = [(name, reference, values.replacement(name, reference)) for name, reference in extra_uses]
        blocking = [(name, reference) for name, reference, found in found_all if found is None]
        if blocking:
            left_out[key] = tuple((name, position(reference)) for name, reference in blocking)
            continue
        needed |= extra
        replacements.update(found for _, _, found in found_all)  # type: ignore[misc]

    for reference, (name, binder) in sorted(left_out_binders.items(), key=lambda item: position(item[0])):
        line = position(module.body[binder]).line
        if binder in main_blocks:
            message = (
                f"'{name}' is bound only in the `if __name__ == \"__main__\":` block (line {line}), which runs when "
                "the app is run as a script, never when unionml imports it; the generated project leaves the block out"
            )
        else:
            message = (
                f"'{name}' is bound only inside the statement that creates a unionml object (line {line}, by `:=`), "
                "which the generated project leaves out"
            )
        diagnostics.error(
            codes.BOUND_IN_LEFT_OUT_CODE,
            position(reference),
            message,
            f"bind '{name}' at the module's top level, on a statement of its own (`{name} = ...`), and use it from there",
        )
    checked_elsewhere = set(roots).union(*(optional or {}).values())  # app.py reports those (signatures)
    _report_unbound(scopes, where, needed, checked_elsewhere, position, diagnostics)

    kept_imports: set[str] = set()
    for number in needed:
        kept_imports |= used_names.get(number, set())
    code = ""
    previous_simple = False
    previous_group = None
    for number in sorted(needed):
        statement = module.body[number]
        uses_objects = any(
            name in union_objects and _replaced(values, name, reference) not in replacements
            for name, _, reference in uses.get(number, ())
        )
        rendered = _rendered(statement, extraction, kept_imports, uses_objects, position, diagnostics)
        if rendered is None:
            continue
        if replacements:
            rendered = rendered.visit(_Substitute(replacements))
        simple = isinstance(rendered, cst.SimpleStatementLine)
        group = _import_group(rendered)
        # a blank line between statements, but not between simple ones, unless an import of another group
        # (the standard library, third-party, relative) starts: the sections isort keeps
        together = simple and previous_simple and not (group is not None and previous_group not in (None, group))
        separator = "" if not code or together else "\n"
        code += separator + module.code_for_node(rendered).strip("\n") + "\n"
        previous_simple, previous_group = simple, group
    # an import kept for another name binds nothing when its alias was trimmed (`import os, sys`)
    defined = frozenset(
        name
        for name, statements in binders.items()
        if (statements - imported.get(name, set())) & needed
        or (statements & needed and _bound_kept(name, kept_imports))
    )
    return Slice(code, defined, frozenset(kept_imports), left_out)


def _is_main_block(statement: cst.CSTNode) -> bool:
    """`if __name__ == "__main__":` without `else`/`elif` (an `else` runs on import)."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    test = statement.test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = [test.left, target.comparator]
    names = [side for side in sides if isinstance(side, cst.Name) and side.value == "__name__"]
    strings = [side for side in sides if isinstance(side, cst.SimpleString) and side.evaluated_value == "__main__"]
    return len(names) == 1 and len(strings) == 1


#: names every module has that libcst's builtin scope does not list
_MODULE_NAMES = frozenset(
    {"__file__", "__builtins__", "__cached__", "__path__", "__dict__", "__annotations__", "__loader__", "__spec__"}
)


def _report_unbound(scopes, where, needed: set[int], skip: set[str], position, diagnostics: Diagnostics) -> None:
    """Errors at the reads, in the code kept for the project, of names that nothing binds.

    libcst's scopes decide: builtins, parameters of every kind, locals, comprehension and loop
    variables, names a function declares `global` and binds, module-level names and closures are
    bound. Annotations are not checked (a string or postponed annotation is never evaluated), nor is
    anything when the app has a star import (refused elsewhere, and it could bind any name)."""
    if any(isinstance(node, cst.ImportStar) for node in where):
        return
    found: dict[cst.CSTNode, str] = {}
    for scope in {s for s in scopes.values() if s is not None}:
        for access in scope.accesses:
            if access.referents or access.is_annotation or access.is_type_hint:
                continue
            name = (get_full_name_for_node(access.node) or "").split(".")[0]
            if not name or name in _MODULE_NAMES or name in skip or where.get(access.node) not in needed:
                continue
            found[access.node] = name
    for node, name in sorted(found.items(), key=lambda item: position(item[0])):
        diagnostics.error(
            codes.UNDEFINED_NAME,
            position(node),
            f"'{name}' is not defined: nothing in the app binds it (the project would raise NameError)",
            "define or import it in the app (at the top level, or in the function that uses it)",
        )


def _replaced(values: "_KnownAttributes", name: str, reference: cst.CSTNode) -> cst.CSTNode | None:
    found = values.replacement(name, reference)
    return None if found is None else found[0]


class _KnownAttributes:
    """Reads of the unionml objects' attributes that can become their values.

    Sound only where the value cannot have changed: no statement of the app assigns or deletes
    the attribute (or calls `setattr` on the object), and a list value (features, targets) is
    only indexed with, iterated, compared, combined into a new list or measured, never bound to a
    name or handed to code that could change it in place (unionml gives every caller the same list).
    """

    READS_OF_LISTS = ("len", "list", "tuple", "set", "frozenset", "sorted")

    def __init__(self, extraction: Extraction, attributes: dict[tuple[str, str], Any]):
        self.attributes = attributes
        # only the statements that spell such an attribute or `setattr` can read or change one
        touching = extraction.module.with_changes(body=_touching(extraction, attributes))
        wrapper = MetadataWrapper(touching, unsafe_skip_copy=True)
        self.parents = wrapper.resolve(ParentNodeProvider)
        contexts = wrapper.resolve(ExpressionContextProvider)
        self.changed: set[tuple[str, str]] = set()
        self.unsafe_lists: set[tuple[str, str]] = set()
        for node, context in contexts.items():
            key = self._key(node)
            if key is not None and context in (ExpressionContext.STORE, ExpressionContext.DEL):
                self.changed.add(key)
            elif key is not None and isinstance(attributes.get(key), list) and not self._reads_list(node):
                self.unsafe_lists.add(key)
        for node in self.parents:
            if (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Name)
                and node.func.value == "setattr"
                and node.args
                and isinstance(node.args[0].value, cst.Name)
            ):
                self.changed |= {key for key in attributes if key[0] == node.args[0].value.value}

    def _key(self, node: cst.CSTNode) -> tuple[str, str] | None:
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            key = (node.value.value, node.attr.value)
            return key if key in self.attributes else None
        return None

    def _reads_list(self, node: cst.Attribute) -> bool:
        parent = self.parents.get(node)
        if isinstance(parent, cst.Index):  # frame[dataset._features]
            return True
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            return True
        if isinstance(parent, (cst.ComparisonTarget, cst.Comparison)):  # column in dataset._features
            return True
        if isinstance(parent, (cst.BinaryOperation, cst.StarredElement)):  # a new list: features + targets, [*features]
            return True
        if isinstance(parent, cst.Arg):
            call = self.parents.get(parent)
            return (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Name)
                and call.func.value in self.READS_OF_LISTS
            )
        return False

    def replacement(self, name: str, reference: cst.CSTNode) -> tuple[cst.CSTNode, str] | None:
        """(the attribute node, the literal that replaces it), or None when the use is not such a read."""
        parent = self.parents.get(reference)
        key = self._key(parent) if isinstance(parent, cst.Attribute) and parent.value is reference else None
        if key is None or key in self.changed or key in self.unsafe_lists:
            return None
        text = literal(self.attributes[key])
        return None if self._breaks_fstring(parent, text) else (parent, text)

    def _breaks_fstring(self, node: cst.CSTNode, text: str) -> bool:
        """Whether `text` cannot stand inside the f-string around `node` (before Python 3.12, an
        f-string's expressions may not contain its quote character or a backslash)."""
        while node is not None:
            node = self.parents.get(node)
            if isinstance(node, cst.FormattedString):
                return "\\" in text or node.end in text
        return False

    def known(self, name: str) -> str:
        spelled = [f"`{obj}.{attribute}`" for obj, attribute in sorted(self.attributes) if obj == name]
        return ", ".join(spelled) if spelled else "none of its attributes"


def _touching(extraction: Extraction, attributes: dict[tuple[str, str], Any]) -> list[cst.CSTNode]:
    """The top-level statements that spell an `object.attribute` of `attributes` or `setattr`,
    found in CPython's tree of the app (cpython.py: a cheap walk)."""
    objects = {spelled(name) for name, _ in attributes}
    names = {spelled(name) for _, name in attributes}

    def spells(node: ast.AST) -> bool:
        if isinstance(node, ast.Attribute):
            return node.attr in names and isinstance(node.value, ast.Name) and node.value.id in objects
        return isinstance(node, ast.Name) and node.id == "setattr"

    return [
        statement
        for statement, parts in paired(extraction.module, extraction.tree)
        if any(spells(node) for part in parts for node in ast.walk(part))
    ]


class _Substitute(cst.CSTTransformer):
    def __init__(self, replacements: dict[cst.CSTNode, str]):
        self.replacements = replacements

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        text = self.replacements.get(original_node)
        return updated_node if text is None else cst.parse_expression(text)


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


def _import_group(statement: cst.CSTNode) -> int | None:
    """Which section of imports a statement of imports only is in, as isort sorts them: the standard
    library (0), the rest (1), relative imports (2); None for any other statement."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    groups = set()
    for small in statement.body:
        if isinstance(small, cst.ImportFrom) and small.relative:
            groups.add(2)
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            names = [alias.name for alias in small.names] if isinstance(small, cst.Import) else [small.module]
            tops = {(get_full_name_for_node(name) or "").split(".")[0] for name in names if name is not None}
            groups.add(0 if tops and tops <= set(sys.stdlib_module_names) | {"__future__"} else 1)
        else:
            return None
    return groups.pop() if len(groups) == 1 else None


def _rendered(
    statement: cst.CSTNode,
    extraction: Extraction,
    kept: set[str],
    uses_objects: bool,
    position,
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
        diagnostics.error(
            codes.HELPER_IN_UNIONML_BLOCK,
            position(statement),
            "code the components need is defined in a block that also uses the unionml objects",
            "move the helpers the components use out of this block, to the module's top level",
        )
    elif isinstance(statement, cst.With) and not _harmless_context(statement, extraction):
        diagnostics.error(
            codes.HELPER_IN_WITH_BLOCK,
            position(statement),
            "code the components need is defined inside a `with` block, whose context manager the generated "
            "project would then run on every import",
            "move what the components use (imports, helpers, constants) out of the `with` block, to the "
            "module's top level",
        )
    return statement.with_changes(leading_lines=leading)


#: Context managers that only change how the block's own code runs (no effect outside it).
HARMLESS_CONTEXTS = frozenset({"contextlib.suppress", "warnings.catch_warnings"})


def _harmless_context(statement: cst.With, extraction: Extraction) -> bool:
    return all(
        isinstance(item.item, cst.Call) and qualified_name(item.item.func, extraction.imports) in HARMLESS_CONTEXTS
        for item in statement.items
    )


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
