"""Read a UnionML app with libcst, without importing or running it.

The module's top-level statements are followed in order, the way Python would run them on
import (`walker.py`, binding names in `bindings.py`): constants are evaluated as they are
assigned, `for` loops over known sequences are unrolled, and each statement's context says
whether it runs exactly once. The unionml calls among them (`unionml_api.py`, schedules in
`schedules.py`) are read with the constants known at that point: `Dataset(...)`/`Model(...)`
objects, component registrations (later ones replace earlier ones), schedule and train calls.
A unionml call that would run only conditionally (inside a function, an `if`, an `except`, a
loop over an unknown sequence) is an error, since the generator cannot know whether it runs.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Sequence

import libcst as cst

from .. import codes
from .bindings import Bindings, free_names, qualified_name
from ..diagnostics import Diagnostics, Position
from .effects import quiet_statements
from .positions import SourcePositions
from .cpython import deepest, python_tree
from ..spec import Expression, Function, Import, Parameter, Schedule
from .unionml_api import Registration, UnionmlReader, UnionObject
from .walker import Walker

__all__ = [
    "Extraction", "Registration", "UnionObject", "extract", "free_names", "function_spec", "parse", "qualified_name",
]  # fmt: skip


@dataclass
class Extraction:
    """What the extraction found; `app.py` turns it into the frozen `App`."""

    module: cst.Module
    tree: ast.Module  # CPython's tree of the same source, for cheap searches (slicing.py)
    positions: SourcePositions
    objects: dict[str, UnionObject]
    schedules: list[Schedule]
    imports: dict[str, Import]
    functions: dict[str, cst.FunctionDef]
    registration_nodes: set[cst.CSTNode]  # unionml decorators, to strip from the generated code
    train_calls: dict[str, Position]  # model variable -> last `model.train(...)` call


def parse(source: str, diagnostics: Diagnostics) -> tuple[cst.Module, ast.Module] | None:
    """The app's libcst module and CPython's tree of it, once CPython accepts it (see
    `cpython.py`); None after an error."""
    tree, problem = python_tree(source, diagnostics.path)
    if problem is not None or tree is None:
        diagnostics.error(*problem)
        return None
    try:
        return cst.parse_module(source), tree
    except cst.ParserSyntaxError as exc:  # valid Python that libcst cannot read
        diagnostics.error(
            codes.PARSER_LIMITATION,
            Position(exc.raw_line, exc.raw_column + 1),
            f"the generator's parser (libcst) cannot read this: {exc.message}",
            "write the statement another way",
        )
    except RecursionError:
        report_too_deep(diagnostics, source)
    return None


def report_too_deep(diagnostics: Diagnostics, source: str) -> None:
    """Report a RecursionError while reading the app (a safety net behind `python_check.MAX_DEPTH`)."""
    diagnostics.error(*deepest(ast.parse(source), source))


def extract(
    module: cst.Module,
    tree: ast.Module,
    source: str,
    diagnostics: Diagnostics,
    imported: dict[str, UnionObject] | None = None,
) -> Extraction:
    """`imported`: unionml objects the module imports from the module that defines them, by the name
    it binds them to (a script that schedules an imported model, imported.py); its schedule calls on
    them are read with its own constants. They are not the module's own `objects`."""
    positions = SourcePositions(module, tree)
    bindings = Bindings(positions, diagnostics)
    reader = UnionmlReader(bindings, imported or {})
    walker = Walker(bindings, reader, quiet_statements(module, tree, source))
    for number, statement in enumerate(module.body):
        bindings.statement = number
        walker.statements([statement], context=None)
    reader.check_models()
    return Extraction(
        module,
        tree,
        positions,
        reader.objects,
        reader.schedules,
        bindings.imports,
        bindings.functions,
        reader.registration_nodes,
        reader.train_calls,
    )


def function_spec(node: cst.FunctionDef, module: cst.Module, position) -> Function:
    """The signature of a component function, as source fragments."""

    def code(expr: cst.CSTNode | None) -> Expression | None:
        return None if expr is None else Expression(module.code_for_node(expr), free_names(expr))

    params = node.params
    parameters: list[Parameter] = []
    groups: list[tuple[str, Sequence[cst.Param]]] = [
        ("positional", [*params.posonly_params, *params.params]),
        ("var_positional", [params.star_arg] if isinstance(params.star_arg, cst.Param) else []),
        ("keyword_only", params.kwonly_params),
        ("var_keyword", [params.star_kwarg] if params.star_kwarg else []),
    ]
    for kind, group in groups:
        for param in group:
            annotation = code(param.annotation.annotation) if param.annotation else None
            parameters.append(
                Parameter(param.name.value, kind, annotation, code(param.default), position(param))  # type: ignore[arg-type]
            )
    returns = code(node.returns.annotation) if node.returns else None
    return Function(node.name.value, tuple(parameters), returns, position(node.name))
