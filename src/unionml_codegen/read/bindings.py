"""What each top-level name of an app means at the current point of the module.

As the statement walker (`walker.py`) follows the module, a name is bound to a constant
the generator evaluated, to an import, or marked unknown with the reason (a function, a
class, a value computed at run time), so that a later use of it is reported precisely.
`free_names` and `qualified_name` read expressions against these bindings.
"""

from __future__ import annotations

import builtins
from typing import Any

import libcst as cst
from ..diagnostics import Diagnostics, Position
from .positions import SourcePositions
from ..spec import Expression, Import
from .values import Evaluator, NotStatic


class Bindings:
    """Constants, unknown names and imports seen so far, with helpers to read expressions."""

    def __init__(self, positions: SourcePositions, diagnostics: Diagnostics):
        self.module = positions.module
        self.diagnostics = diagnostics
        self.positions = positions
        self.statement = 0  # index of the top-level statement being read (where to look for positions)
        self.constants: dict[str, Any] = {}
        self.unknown: dict[str, str] = {}  # name -> why its value is not known
        self.imports: dict[str, Import] = {}
        self.functions: dict[str, cst.FunctionDef] = {}  # top-level `def`s

    # reading expressions
    def pos(self, node: cst.CSTNode) -> Position:
        """Where `node` (in the statement being read) starts, found when first read."""
        return self.positions.position(node, self.statement)

    def code(self, node: cst.CSTNode) -> Expression:
        return Expression(self.module.code_for_node(node), free_names(node))

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        """`td` -> `datetime.timedelta` after `from datetime import timedelta as td`, with the imports
        seen so far (libcst's QualifiedNameProvider would analyse the whole module for this)."""
        shadowed = node.value in self.constants or node.value in self.unknown if isinstance(node, cst.Name) else False
        return None if shadowed else qualified_name(node, self.imports)

    def evaluator(self) -> Evaluator:
        return Evaluator(self.constants, self.qualified_name, self.unknown)

    def evaluate(self, node: cst.BaseExpression) -> tuple[bool, Any]:
        """(True, value), or (False, None) after reporting why the value cannot be known."""
        try:
            return True, self.evaluator().evaluate(node)
        except NotStatic as exc:
            self.diagnostics.error(exc.code, self.pos(exc.node), exc.reason, exc.hint)
            return False, None

    # binding names
    def bind_target(self, target: cst.BaseExpression, value: Any) -> None:
        if isinstance(target, cst.Name):
            self.constants[target.value] = value
            self.unknown.pop(target.value, None)
        elif isinstance(target, (cst.Tuple, cst.List)):
            values = list(value) if isinstance(value, (list, tuple)) else []
            elements = [e.value for e in target.elements]
            if len(values) != len(elements):
                for e in elements:
                    self.bind_unknown_target(e, target)
                return
            for element, item in zip(elements, values):
                self.bind_target(element, item)
        elif not isinstance(target, (cst.Attribute, cst.Subscript)):  # stores through a name: see effects.py
            self.bind_unknown_target(target, target)

    def bind_unknown_target(
        self,
        target: cst.CSTNode,
        node: cst.CSTNode,
        why: str = "is assigned from an expression the generator cannot evaluate",
    ) -> None:
        for name in free_names(target):
            if isinstance(target, (cst.Attribute, cst.Subscript)):
                continue  # a store through a name (see effects.py)
            self.bind_unknown(name, node, why)

    def bind_unknown(self, name: str, node: cst.CSTNode, why: str) -> None:
        self.constants.pop(name, None)
        self.unknown[name] = f"{why} (line {self.pos(node).line})"

    def changed_in_place(self, name: str, node: cst.CSTNode, why: str) -> None:
        """`name`'s object changes: so does every name whose value shares a list, dict or set with it."""
        shared = _containers(self.constants.get(name))
        for other, value in list(self.constants.items()):
            if other != name and shared & _containers(value):
                self.bind_unknown(other, node, f"shares a list, dict or set with '{name}', which {why}")
        self.bind_unknown(name, node, why)

    def forget_every_constant(self, node: cst.CSTNode, why: str) -> None:
        for name in list(self.constants):
            self.bind_unknown(name, node, why)

    def bind_import(self, binding: Import) -> None:
        self.imports[binding.bound_name] = binding
        self.constants.pop(binding.bound_name, None)
        self.unknown.pop(binding.bound_name, None)


def _containers(value: Any) -> set[int]:
    """The ids of the lists, dicts and sets in a value."""
    found: set[int] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, set, tuple, frozenset)):
            if not isinstance(item, (tuple, frozenset)):
                found.add(id(item))
            stack.extend(item)
        elif isinstance(item, dict):
            found.add(id(item))
            stack.extend(item.keys())
            stack.extend(item.values())
    return found


def qualified_name(node: cst.CSTNode, imports: dict[str, Import]) -> str | None:
    """The dotted name an expression like `uml.Model` or `dict` stands for, from the imports."""
    attributes: list[str] = []
    while isinstance(node, cst.Attribute):
        attributes.insert(0, node.attr.value)
        node = node.value
    if not isinstance(node, cst.Name):
        return None
    binding = imports.get(node.value)
    if binding is None:
        base = f"builtins.{node.value}" if hasattr(builtins, node.value) else None
    elif binding.name is not None:
        base = f"{binding.module}.{binding.name}"
    else:
        base = binding.module if binding.alias else binding.top_level_module
    return None if base is None else ".".join([base, *attributes])


def free_names(node: cst.CSTNode) -> frozenset[str]:
    """Names an expression reads (not attribute names or keyword names)."""
    collector = _NameCollector()
    node.visit(collector)
    return frozenset(collector.names)


class _NameCollector(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        if node.value not in ("True", "False", "None"):
            self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        params = node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        for param in every:  # defaults are evaluated where the lambda is
            if param.default is not None:
                param.default.visit(self)
        self.names.update(free_names(node.body) - {p.name.value for p in every})
        return False

    def _comprehension(self, node: cst.BaseComp, results: list[cst.CSTNode]) -> bool:
        """The first `in` is evaluated outside the comprehension; the targets bind names inside it."""
        bound: set[str] = set()
        clause: cst.CompFor | None = node.for_in
        first = True
        while clause is not None:
            iterated = free_names(clause.iter)
            self.names.update(iterated if first else iterated - bound)
            bound |= free_names(clause.target)
            for condition in clause.ifs:
                self.names.update(free_names(condition.test) - bound)
            clause, first = clause.inner_for_in, False
        for result in results:
            self.names.update(free_names(result) - bound)
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._comprehension(node, [node.elt])

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._comprehension(node, [node.elt])

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._comprehension(node, [node.key, node.value])
