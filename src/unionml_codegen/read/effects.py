"""What running a statement may change besides the names it plainly assigns.

The walker binds `X = <literal>` to its value; this module finds every other way a statement
can change a module-level name, so that the name becomes unknown (an error where it is then
used) instead of keeping a stale value:

- in place: a method call on it (`HP.update(...)`, `NAMES.append(...)`, `HP["a"].pop()`) unless
  the method only reads; a store or `del` through it (`HP["C"] = 5`, `del HP["C"]`); passing it
  to a call that might change it (`tune(HP)`); a called function of the app that changes it;
- rebinding: `del X`, `(X := ...)`, `with ... as X`, `except ... as X`, a called function of the
  app that declares `global X`; `globals()`, `vars()`, `exec` and `eval` may change any name.

Only values holding a list, dict or set can change in place; a change to one also changes every
other name sharing that object (`B = A; B.append(1)`), which `Bindings.changed_in_place` handles.
Lambda bodies do not run where they are written and are not looked into.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Callable, Collection

import libcst as cst

from .bindings import Bindings, free_names
from .cpython import paired

#: Methods of list, dict and set that do not change the object.
READ_ONLY_METHODS = frozenset({
    "copy", "count", "index", "get", "items", "keys", "values", "difference", "intersection", "isdisjoint",
    "issubset", "issuperset", "symmetric_difference", "union", "fromkeys",
})  # fmt: skip
#: Callables, by qualified name, that do not change their arguments.
READ_ONLY_CALLS = frozenset({
    *(f"builtins.{name}" for name in (
        "abs", "all", "any", "ascii", "bool", "dict", "enumerate", "float", "format", "frozenset", "hash", "id",
        "int", "isinstance", "issubclass", "iter", "len", "list", "max", "min", "print", "range", "repr",
        "reversed", "round", "set", "sorted", "str", "sum", "tuple", "type", "zip",
    )),
    "copy.copy", "copy.deepcopy", "json.dumps", "pprint.pprint", "pprint.pformat",
    "datetime.timedelta", "datetime.datetime", "datetime.date",
})  # fmt: skip
#: Methods, on any object, that do not change their arguments: logging, and text (`", ".join(NAMES)`).
READ_ONLY_ARGUMENTS = frozenset({
    "debug", "info", "warning", "warn", "error", "exception", "critical", "log", "join", "format", "format_map",
})  # fmt: skip
_DYNAMIC = frozenset({"globals", "vars", "locals", "exec", "eval"})
_DYNAMIC_SPELLED = re.compile("|".join(sorted(_DYNAMIC)))  # anywhere in a line: more than the names
EVERY_NAME = "*"  # a Change of every module-level name


@dataclass(frozen=True)
class Change:
    name: str  # or EVERY_NAME
    node: cst.CSTNode
    why: str
    in_place: bool  # the object changes (so do names sharing it), rather than the name being rebound


class Effects:
    """Changes of statements, given what names mean at this point of the module.

    `unionml_call(call)` says whether a call is to the unionml API: None if not, else whether it
    runs the app's components (`model.train(...)` does, `Dataset(...)` and schedules do not).
    """

    def __init__(
        self,
        bindings: Bindings,
        unionml_call: Callable[[cst.Call], bool | None],
        quiet: Collection[cst.CSTNode] = (),
    ):
        self.bindings = bindings
        self.unionml_call = unionml_call
        self.quiet = quiet  # small statements that change nothing but by their own call (`quiet_statements`)
        self.definitions: dict[str, cst.FunctionDef | cst.ClassDef] = {}  # top-level defs and classes

    def of(self, node: cst.CSTNode) -> list[Change]:
        """The changes running `node` (a small statement, or an expression a block header evaluates) makes."""
        if node in self.quiet:
            call = node.value if isinstance(node, cst.Expr) else None
            if not isinstance(call, cst.Call) or self.unionml_call(call) is False:
                return []  # what the visit would find: a unionml call that runs no component changes nothing
        finder = _Finder(self, local=frozenset(), in_function=False)
        node.visit(finder)
        return finder.changes

    def stores(self, target: cst.BaseExpression, node: cst.CSTNode) -> list[Change]:
        """What storing into `target` (a `for` loop's) changes in place, besides the names it binds."""
        finder = _Finder(self, local=frozenset(), in_function=False)
        finder._stores(target, node)
        return finder.changes

    def of_definition(self, name: str, node: cst.CSTNode, seen: set[str]) -> list[Change]:
        """What calling the app's function (or class) `name` may change, at the call `node`."""
        definition = self.definitions.get(name)
        if definition is None or name in seen:
            return []
        seen.add(name)
        finder = _Finder(self, local=_locals(definition), in_function=True, seen=seen)
        (definition.body if isinstance(definition, cst.FunctionDef) else definition).visit(finder)
        why = f"may be changed by calling '{name}' (line {self.bindings.pos(node).line})"
        return [Change(c.name, node, why, c.in_place) for c in finder.changes]


class _Finder(cst.CSTVisitor):
    def __init__(self, effects: Effects, local: frozenset[str], in_function: bool, seen: set[str] | None = None):
        self.effects = effects
        self.bindings = effects.bindings
        self.local = local
        self.in_function = in_function
        self.seen = seen if seen is not None else set()
        self.changes: list[Change] = []

    def _change(self, name: str | None, node: cst.CSTNode, why: str, in_place: bool = True) -> None:
        if name is None or name in self.local:
            return
        if in_place and not _mutable(self.bindings.constants.get(name)):
            return  # unknown names stay unknown; numbers, strings and tuples of them cannot change
        self.changes.append(Change(name, node, why, in_place))

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return self.in_function  # a lambda's body runs when it is called, not here

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return self.in_function

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in _DYNAMIC and self.bindings.qualified_name(node) == f"builtins.{node.value}":
            self.changes.append(Change(EVERY_NAME, node, f"may be changed through '{node.value}'", False))

    def visit_Global(self, node: cst.Global) -> None:
        if self.in_function:
            for item in node.names:
                self._change(item.name.value, node, "is declared `global` in it", in_place=False)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        if isinstance(node.target, cst.Name):
            self._change(node.target.value, node, "is assigned with `:=`", in_place=False)

    def visit_Del(self, node: cst.Del) -> None:
        for target in _targets(node.target):
            if isinstance(target, cst.Name):
                self._change(target.value, node, "is deleted with `del`", in_place=False)
            else:
                self._change(_root(target), node, "is changed in place by `del`")

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._stores(target.target, node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._stores(node.target, node)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._stores(node.target, node)

    def visit_For(self, node: cst.For) -> None:
        self._stores(node.target, node)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._stores(node.asname.name, node, rebinds=not self.in_function)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._stores(node.name.name, node, rebinds=not self.in_function)

    def _stores(self, target: cst.BaseExpression, node: cst.CSTNode, rebinds: bool = False) -> None:
        """Stores through a name (`HP["C"] = 5`, `obj.x = 1`) change it in place; `with ... as X`
        rebinds X (plain assignments are the walker's)."""
        for element in _targets(target):
            if isinstance(element, cst.Name):
                if rebinds:
                    self._change(element.value, node, "is assigned by `as`", in_place=False)
            else:
                self._change(_root(element), node, "is changed in place by an assignment through it")

    def visit_Call(self, node: cst.Call) -> None:
        api = self.effects.unionml_call(node)
        if api is not None:
            if api:  # e.g. model.train(...): the components run
                for name in sorted(self.effects.definitions):
                    self.changes.extend(self.effects.of_definition(name, node, self.seen))
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value not in READ_ONLY_METHODS:
            self._change(_root(func.value), node, f"is changed in place by `.{func.attr.value}(...)`")
        if isinstance(func, cst.Name) and func.value not in self.local:
            self.changes.extend(self.effects.of_definition(func.value, node, self.seen))
        if self.bindings.qualified_name(func) in READ_ONLY_CALLS:
            return
        if isinstance(func, cst.Attribute) and func.attr.value in READ_ONLY_ARGUMENTS:
            return
        shown = cst.Module([]).code_for_node(func)
        for arg in node.args:
            for name in sorted(free_names(arg.value)):
                self._change(name, arg, f"may be changed in place by the call to '{shown}'")
                if name not in self.local:  # an app function passed along may be called
                    self.changes.extend(self.effects.of_definition(name, node, self.seen))


def quiet_statements(module: cst.Module, tree: ast.Module, source: str) -> set[cst.CSTNode]:
    """The top-level small statements in which `_Finder` can find nothing but their own call (an
    expression statement's), found in CPython's tree (cheap): no other call, no `:=`, no `del`, no
    store through a name (`HP["C"] = 5`, `obj.x = 1`), and no line of theirs spelling a name of
    `_DYNAMIC` (`source` split into lines as CPython numbers them)."""
    lines = re.split(r"\r\n|\r|\n", source)
    dynamic = {number for number, line in enumerate(lines, 1) if _DYNAMIC_SPELLED.search(line)}
    quiet: set[cst.CSTNode] = set()
    for statement, parts in paired(module, tree):
        if isinstance(statement, cst.SimpleStatementLine):
            for small, part in zip(statement.body, parts):
                if dynamic.isdisjoint(range(part.lineno, part.end_lineno + 1)) and _quiet(part):  # type: ignore[arg-type]
                    quiet.add(small)
    return quiet


def _quiet(statement: ast.stmt) -> bool:
    own = statement.value if isinstance(statement, ast.Expr) else None
    for node in ast.walk(statement):
        if (isinstance(node, ast.Call) and node is not own) or isinstance(node, (ast.NamedExpr, ast.Delete)):
            return False
        if isinstance(node, (ast.Attribute, ast.Subscript)) and not isinstance(node.ctx, ast.Load):
            return False
    return True


def _targets(target: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        return [item for element in target.elements for item in _targets(element.value)]
    if isinstance(target, cst.StarredElement):
        return _targets(target.value)
    return [target]


def _root(node: cst.BaseExpression) -> str | None:
    """`HP` for `HP["a"].b`; None when the chain does not start at a name."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _mutable(value: object) -> bool:
    stack, seen = [value], 0
    while stack and seen < 100_000:
        item = stack.pop()
        seen += 1
        if isinstance(item, (list, dict, set)):
            return True
        if isinstance(item, (tuple, frozenset)):
            stack.extend(item)
    return False


def _locals(definition: cst.FunctionDef | cst.ClassDef) -> frozenset[str]:
    """Names a function binds for itself (parameters, assignments, imports), minus `global` ones."""
    collector = _LocalNames()
    if isinstance(definition, cst.FunctionDef):
        params = definition.params
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            collector.bound.add(param.name.value)
        for param in (params.star_arg, params.star_kwarg):
            if isinstance(param, cst.Param):
                collector.bound.add(param.name.value)
    definition.body.visit(collector)
    return frozenset(collector.bound - collector.declared)


class _LocalNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.declared: set[str] = set()

    def visit_Global(self, node: cst.Global) -> None:
        self.declared.update(item.name.value for item in node.names)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._names(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._names(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._names(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._names(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._names(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._names(node.name)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is None:
            self.bound.add(cst.Module([]).code_for_node(node.name).split(".")[0])

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bound.add(node.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.bound.add(node.name.value)

    def visit_Param(self, node: cst.Param) -> None:
        self.bound.add(node.name.value)

    def _names(self, target: cst.BaseExpression) -> None:
        for element in _targets(target):
            if isinstance(element, cst.Name):
                self.bound.add(element.value)
