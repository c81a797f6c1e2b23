"""The shortcuts that keep reading a large app near the parse floor (issue 10) give what the full
analyses give: positions found per statement are libcst's `PositionProvider` positions, the
statements `effects.quiet_statements` skips are ones the effects visitor finds nothing in, the
statements `slicing` reads for attribute values are all those that spell one, and scope analysis
of the statements `reach.py` finds slices the app as scope analysis of all of them."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from unionml_codegen.read import slicing
from unionml_codegen.read import read_app
from unionml_codegen.diagnostics import Diagnostics, Position
from unionml_codegen.read.effects import _DYNAMIC, Effects, quiet_statements
from unionml_codegen.read.positions import SourcePositions
from unionml_codegen.read.slicing import _touching, nodes
from unionml_codegen.read.values import Evaluator

from ..helpers import EXAMPLES
from ..inline_apps import COMPONENTS, HEADER

TESTS = Path(__file__).resolve().parents[1]

#: Code shaped to trip the shortcuts: a header comment, `;` lines, decorators with comments,
#: parentheses, continuations, non-ASCII names (NFKC-normalised by CPython, not by libcst), the
#: names of `_DYNAMIC` as attributes, keywords and imports, stores through names, `:=`, `del`.
TRICKY = '''\
# a header comment

"""The docstring."""
import os.path, json as ｊson
from importlib import import_module as load
X = 1; Y = [X]  ;  Z = {"a": Y}
dataset = make_dataset(name="d")
model = make_model(dataset=dataset)
model.schedule_training(name="s", hyperparameters={**Z, "C": X})
(model.schedule_training)(name="t")
model.schedule_training(
    name="u",  # a comment
    inputs={"n": [x for x in Y]},
)
model.schedule_training(name=f"{X!r:>{Y[0]}}", expression="@daily")
model.schedule_training(name=(w := "walrus"))
model.schedule_training(name=str(X))
model.schedule_training(name="v", hyperparameters=Z.copy())
model.schedule_training(name=lambda: eval("1"))
model.schedule_training(name="w", flag=os.path.sep.eval)
model.schedule_training(name="x", eval=1)
model.schedule_training(name=ｅval)
model.schedule_training(name=dataset.name)
Y[0] = 2; Z["a"] = 3
dataset.name = "changed"
setattr(model, "name", "m")
print(Ｍodel.name)
del X
import a.globals
Q = \\
    [dataset._features,
     dataset . _targets]


@model.trainer
# between decorators
@(lambda f: f)
def trainer(estimator, features: list = [], *args, value=dataset.name, **kwargs) -> dict:
    """Trains."""
    global Y
    Y = 1
    return {"value": f"{dataset._features!r}"}


class Holder(object,  metaclass=type):
    attribute = dataset.name

    def method(self):
        return [self.a for self.a in range(3)]


with open(os.devnull) as handle:
    for item in [1, 2]:
        try:
            pass
        except Exception as error:
            del error
if __name__ == "__main__":
    print(X)
match_ = 1 if False else 2
'''


def corpus() -> list[tuple[str, str]]:
    paths = [*EXAMPLES.glob("*/app.py"), *TESTS.glob("apps/*/app.py"), *TESTS.glob("fuzz/regressions/*.py")]
    sources = [(path.relative_to(TESTS.parent).as_posix(), path.read_text(encoding="utf-8")) for path in sorted(paths)]
    sources.append(("tricky", TRICKY))
    sources.append(("tricky, CRLF, no newline at the end", TRICKY.replace("\n", "\r\n").rstrip()))
    sources.append(("tricky, tabs", TRICKY.replace("    ", "\t")))
    sources.append(("tricky, lone CR", TRICKY.replace("\n", "\r")))
    sources.append(("tricky, form feeds", TRICKY.replace("\n\n", "\n\x0c\n").replace("\nclass", "\n\x0cclass")))
    return sources


CORPUS = corpus()
IDS = [name for name, _ in CORPUS]


def statement_nodes(statement: cst.CSTNode) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []

    class Collector(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            found.append(node)
            return True

    statement.visit(Collector())
    return found


@pytest.mark.parametrize("source", [s for _, s in CORPUS], ids=IDS)
def test_positions_are_libcst_positions(source):
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = SourcePositions(module, ast.parse(source))
    checked = 0
    for number, statement in reversed(list(enumerate(module.body))):  # out of order, as diagnostics ask
        for node in statement_nodes(statement):
            start = expected[node].start
            assert positions.start(node, number) == (start.line, start.column), (number, type(node).__name__)
            checked += 1
    assert checked > 10
    inner = statement_nodes(module.body[len(module.body) // 2])[-1]
    start = expected[inner].start
    assert SourcePositions(module, ast.parse(source)).position(inner) == Position(
        start.line, start.column + 1
    )  # searched for


def test_a_position_is_found_only_when_read():
    module = cst.parse_module(TRICKY)
    positions = SourcePositions(module, ast.parse(TRICKY))
    last = len(module.body) - 1
    statement = positions.position(module.body[last], last)
    inner = positions.position(module.body[last].body[0], last)
    assert not positions.starts
    assert statement.line == TRICKY.count("\n") and statement.column == 1
    assert not positions.starts  # a top-level statement starts where CPython's tree says
    assert inner == statement and positions.done == {last}


class _EveryNameMutable(dict):
    def get(self, key, default=None):
        return []  # every name holds a list, so any change the visitor finds counts


@pytest.mark.parametrize("source", [s for _, s in CORPUS], ids=IDS)
def test_quiet_statements_change_nothing(source):
    """The visitor finds nothing in a statement `quiet_statements` lets `Effects.of` skip, with every
    name mutable, every `_DYNAMIC` name the builtin, and its own call a unionml call."""
    module = cst.parse_module(source)
    quiet = quiet_statements(module, ast.parse(source), source)
    bindings = SimpleNamespace(
        constants=_EveryNameMutable(),
        qualified_name=lambda node: f"builtins.{node.value}" if isinstance(node, cst.Name) else None,
    )
    effects = Effects(bindings, lambda call: False)  # type: ignore[arg-type]
    changing = 0
    for statement in module.body:
        for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else []:
            changes = effects.of(small)
            assert small not in quiet or changes == [], module.code_for_node(small)
            changing += bool(changes)
    if source.startswith("# a header comment"):
        assert len(quiet) >= 8 and changing >= 6, (len(quiet), changing)  # neither nothing nor everything


@pytest.mark.parametrize("source", [s for _, s in CORPUS], ids=IDS)
def test_statements_touching_known_attributes(source):
    module = cst.parse_module(source)
    objects = {"dataset", "model", "Ｍodel"}
    attributes = {(o, a): None for o in objects for a in ("name", "_features", "_targets")}
    extraction = SimpleNamespace(module=module, tree=ast.parse(source))
    touching = _touching(extraction, attributes)  # type: ignore[arg-type]

    def spells(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
            return (node.value.value, node.attr.value) in attributes
        return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "setattr"

    for statement in module.body:
        if any(spells(node) for node in statement_nodes(statement)):
            assert statement in touching, module.code_for_node(statement)
    if source.startswith("# a header comment"):
        assert 0 < len(touching) < len(module.body)


def test_dynamic_names_are_the_effects_ones():
    assert _DYNAMIC == {"globals", "vars", "locals", "exec", "eval"}


#: An app whose components reach helpers in every way a name can be bound or read.
REACHING = HEADER + """
import os.path
import collections.abc as abc
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from decimal import Decimal
[LIMIT := 3 for _ in range(1)]
SIZES = {"small": 1}
for KEY in ["small"]:
    pass
with open(os.devnull) as DEVNULL:
    pass
try:
    import json
except ImportError as MISSING:
    json = None
del SIZES["small"]


def set_scale():
    global SCALE
    SCALE = 2


class Frame:
    rows: "Decimal"
    SIZE = LIMIT

    def grow(self) -> "Frame":
        return self


def unused(frame: "Frame") -> "abc.Sequence":
    return [os.path.sep, KEY, DEVNULL, MISSING]


def helper(frame: "Frame", scale=LIMIT) -> int:
    return len(os.path.sep) + SCALE + Frame.SIZE + len(KEY) + bool(json) + undefined_name


@dataset.feature_loader
def feature_loader(data: "Frame") -> list:
    return [helper(data), dataset.name, model.train]
""" + COMPONENTS.replace("return pd.DataFrame()", "return pd.DataFrame([helper(Frame())])")


@pytest.mark.parametrize(
    "source",
    [s for name, s in CORPUS if not name.startswith("tricky")]
    + [REACHING, REACHING.replace("import json", "from json import *")],
    ids=[name for name in IDS if not name.startswith("tricky")] + ["reaching", "reaching, star import"],
)
def test_slicing_what_the_roots_reach_slices_as_everything(source, monkeypatch):
    """The app read with scope analysis of only the statements reach.py finds is the app read with
    scope analysis of every statement: the same code, names, left-out components and diagnostics."""

    def read():
        diagnostics = Diagnostics("app.py")
        app = read_app(source, "app.py", None, "app", diagnostics)
        return app, [(d.severity, d.position, d.message) for d in diagnostics.items]

    reached = read()
    monkeypatch.setattr(slicing, "reached", lambda module, tree, roots, kept: set(kept))
    assert reached == read()


@pytest.mark.parametrize(
    "literal",
    ['"abc"', "'a\"b'", '""', "''", 'r"a\\b"', 'R""', 'u"é€𝄞"', "'\\''", '"a\\nb"', '"""a\nb"""', "'''x'''",
     'b"a"', 'rb"a"', '"\\N{BULLET}"', "'\\x41'"],
)  # fmt: skip
def test_strings_are_read_as_python_reads_them(literal):
    """values.py reads a string with one quote and no backslash without compiling it."""
    value = Evaluator({}, lambda node: None, {}).evaluate(cst.parse_expression(literal))
    assert value == ast.literal_eval(literal) and type(value) is type(ast.literal_eval(literal))


@pytest.mark.parametrize("source", [s for _, s in CORPUS], ids=IDS)
def test_nodes_are_the_nodes_a_visitor_passes(source):
    module = cst.parse_module(source)
    for statement in module.body:
        found = list(nodes(statement))
        assert len(found) == len(set(found)) and set(found) == set(statement_nodes(statement))


def test_the_collector_is_spared_only_while_generating(tmp_path):
    """analyze.unscanned hides what is alive from the cycle collector while the app is read and
    rendered, and hands everything back when generation ends (nested blocks included)."""
    import gc

    from unionml_codegen.read import unscanned
    from unionml_codegen.generate import render_app

    assert gc.get_freeze_count() == 0
    with unscanned():
        with unscanned():
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0  # the outer block still runs
    assert gc.get_freeze_count() == 0
    result = render_app(EXAMPLES / "digits" / "app.py", tmp_path / "flyte")
    assert result.files and gc.get_freeze_count() == 0
