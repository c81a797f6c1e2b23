"""Names changed other than by a plain assignment become unknown (effects.py), so a later use is an
error instead of a stale value; and the other item-7 fixes of issue 13 (unary `~`, `init` text that
can be called, a model without init, free names of lambdas and comprehensions)."""

from __future__ import annotations

import textwrap

import pytest

from unionml_codegen.read import read_app
from unionml_codegen.read.bindings import free_names
from unionml_codegen.diagnostics import Diagnostics, Position
from unionml_codegen.generate import generate

import libcst as cst

from ..helpers import EXAMPLES, run_python
from ..inline_apps import COMPONENTS, HEADER

SCHEDULE = 'model.schedule_training("s", expression="@daily", hyperparameters={"value": X})\n'


def read(body: str, header: str = HEADER):
    source = header + textwrap.dedent(body) + COMPONENTS
    diagnostics = Diagnostics("app.py")
    return read_app(source, "app.py", None, "app", diagnostics), diagnostics, source


def value_of_x(before: str):
    app, diagnostics, source = read(textwrap.dedent(before) + SCHEDULE)
    assert app is not None and not diagnostics.errors, diagnostics.render(source)
    return app.schedules[0].hyperparameters["value"]


def error_at_x(before: str) -> str:
    app, diagnostics, source = read(textwrap.dedent(before) + SCHEDULE)
    messages = [d.message for d in diagnostics.errors]
    assert len(messages) == 1, diagnostics.render(source)
    (error,) = diagnostics.errors
    assert error.position == Position(source[: source.index(SCHEDULE)].count("\n") + 1, SCHEDULE.index("X}") + 1)
    assert error.message.startswith("'X' ")
    assert "build the value in one assignment" in error.hint or "cannot evaluate" in error.message
    return error.message


@pytest.mark.parametrize(
    "before, why",
    [
        ('X = {"C": 0.1}\nX.update(C=5.0)\n', "is changed in place by `.update(...)` (line 5)"),
        ('X = ["a"]\nX.append("b")\n', "is changed in place by `.append(...)`"),
        ('X = {}\nX.setdefault("C", 1)\n', "`.setdefault(...)`"),
        ("X = [1]\nX.extend([2])\n", "`.extend(...)`"),
        ("X = [1, 2]\nX.pop()\n", "`.pop(...)`"),
        ('X = {"a": 1}\nX.clear()\n', "`.clear(...)`"),
        ('X = {"a": [1]}\nX["a"].append(2)\n', "`.append(...)`"),
        ('X = {"C": 1}\nX["C"] = 2\n', "is changed in place by an assignment through it"),
        ('X = {"C": {"D": 1}}\nX["C"]["D"] = 2\n', "an assignment through it"),
        ('X = {"C": 1}\nX["C"] += 2\n', "an assignment through it"),
        ('X = {"C": 1}\ndel X["C"]\n', "is changed in place by `del`"),
        ("X = 1\ndel X\n", "is deleted with `del`"),
        ("X = 1\nprint((X := 2))\n", "is assigned with `:=`"),
        ("X = 1\nwith open('f') as X:\n    pass\n", "is assigned by `as`"),
        ("X = 1\ntry:\n    pass\nexcept Exception as X:\n    pass\n", "cannot evaluate"),
        ("X = [1]\nY = X\nY.append(2)\n", "shares a list, dict or set with 'Y'"),
        ("X = {'inner': [1]}\nY = X['inner'] if False else [0]\n", None),
        ("X = [1]\nimport random\nrandom.shuffle(X)\n", "may be changed in place by the call to 'random.shuffle'"),
        ("X = 1\ndef bump():\n    global X\n    X = 2\nbump()\n", "may be changed by calling 'bump' (line 8)"),
        ("X = [1]\ndef add():\n    X.append(2)\nadd()\n", "may be changed by calling 'add'"),
        ("X = [1]\ndef add():\n    X.append(2)\ndef outer():\n    add()\nouter()\n", "calling 'outer'"),
        ("X = [1]\ndef add():\n    X.append(2)\nlist(map(lambda f: f(), [add]))\n", "calling 'add'"),
        ("X = 1\nglobals()['X'] = 2\n", "may be changed through 'globals'"),
        ("X = [1]\nif X.pop():\n    pass\n", "`.pop(...)`"),
        ("X = [1]\nclass A:\n    X.append(2)\n", "`.append(...)`"),
    ],
    ids=lambda v: v if isinstance(v, str) and "\n" not in v and len(v) < 30 else None,
)
def test_a_name_changed_other_than_by_plain_assignment_is_unknown(before, why):
    if why is None:  # X shares nothing with Y's value (the `if` is not evaluated): X stays known
        assert value_of_x(before) == {"inner": [1]}
        return
    message = error_at_x(before)
    assert why in message, message


@pytest.mark.parametrize(
    "before, expected",
    [
        ('X = {"C": 0.1}\nprint(X)\nlen(X)\nX.get("C")\nlist(X.items())\n', {"C": 0.1}),
        ('X = {"C": 0.1}\nY = dict(X)\nY["C"] = 5\n', {"C": 0.1}),  # a copy
        ("X = 5\nY = [X]\nY.append(1)\n", 5),  # an int cannot change
        ("X = (1, 2)\nimport random\nrandom.seed(X[0])\n", (1, 2)),  # nor a tuple of ints
        ('X = {"C": 1}\ndef f():\n    X = {}\n    X["C"] = 2\nf()\n', {"C": 1}),  # f's own X
        ('X = {"C": 1}\ndef f(X):\n    X.clear()\n', {"C": 1}),  # never called
        ('X = {"C": 1}\nmodel.train(hyperparameters=X)\n', {"C": 1}),  # unionml does not change it
        ('X = ["a", "b"]\nLABEL = ", ".join(X)\nimport logging\nlogging.info("%s", X)\n', ["a", "b"]),
        ('X = {"C": 1}\nX = {"C": 2}\n', {"C": 2}),
        ('X = {"C": 1}\nX.update(C=2)\nX = {"C": 3}\n', {"C": 3}),  # assigned again: known again
    ],
)
def test_reading_a_constant_keeps_it_known(before, expected):
    assert value_of_x(before) == expected


def test_a_loop_over_a_list_changed_in_place_is_not_unrolled():
    app, diagnostics, source = read("""\
        NAMES = ["a"]
        NAMES.append("b")
        for NAME in NAMES:
            model.schedule_training(NAME, expression="@daily")
        """)
    (error,) = diagnostics.errors
    assert "model.schedule_training(...) is inside a `for` loop over a sequence the generator cannot evaluate" in (
        error.message
    )


@pytest.mark.parametrize("expression, expected", [("~5", -6), ("~-1", 0), ("-~5", 6), ("+~0", -1), ("not ~-1", True)])
def test_unary_operators(expression, expected):
    assert value_of_x(f"X = {expression}\n") == expected


@pytest.mark.parametrize("operand", ["1.5", "True", "'a'"])
def test_bit_inversion_of_anything_but_an_int_is_an_error(operand):
    app, diagnostics, source = read(f"X = {operand}\n" + SCHEDULE.replace("X}", "~X}"))
    (error,) = diagnostics.errors
    assert error.message == "unary '~' applies to integers only"


@pytest.mark.parametrize(
    "init, text",
    [
        ("A if FLAG else B", "(A if FLAG else B)"),
        ("lambda C=1.0: A(C=C)", "(lambda C=1.0: A(C=C))"),
        ("lambda **kw: A(**kw)", "(lambda **kw: A(**kw))"),
        ("(lambda **kw: A(**kw))", "(lambda **kw: A(**kw))"),
        ("A", "A"),
        ("mod.A", "mod.A"),
        ("factory()", "factory()"),
    ],
)
def test_init_text_can_be_called(init, text):
    header = (
        "from unionml import Dataset, Model\nimport mod\nfrom mod import A, B, factory\nFLAG = True\n"
        f"dataset = Dataset()\nmodel = Model(init={init}, dataset=dataset)\n"
    )
    app, diagnostics, source = read("", header=header)
    assert app is not None and not diagnostics.errors, diagnostics.render(source)
    assert app.models["model"].init.text == text


@pytest.mark.parametrize("init", ["", ", init=None"])
def test_a_model_without_init_is_an_error_at_the_model(init):
    header = f"from unionml import Dataset, Model\ndataset = Dataset()\nmodel = Model(dataset=dataset{init})\n"
    app, diagnostics, source = read("", header=header)
    (error,) = diagnostics.errors
    assert error.position == Position(3, 9)
    assert error.message == "Model 'model' has no `init`: unionml cannot create the model object to train"
    assert "@model.init" in error.hint


def test_a_model_with_an_init_component_needs_no_init_argument():
    header = "from unionml import Dataset, Model\ndataset = Dataset()\nmodel = Model(dataset=dataset)\n"
    body = "@model.init\ndef make(hyperparameters: dict) -> dict:\n    return dict(hyperparameters)\n"
    app, diagnostics, source = read(body, header=header)
    assert app is not None and not diagnostics.errors, diagnostics.render(source)


@pytest.mark.parametrize(
    "expression, names",
    [
        ("lambda *args, **kwargs: f(*args, **kwargs)", {"f"}),
        ("lambda a, /, b, *, c=D: a + b + c", {"D"}),
        ("lambda x=Y: lambda z: x + z + W", {"Y", "W"}),
        ("[x for x in xs if x > LIMIT]", {"xs", "LIMIT"}),
        ("{k: v for k, v in pairs}", {"pairs"}),
        ("[y for x in rows for y in x]", {"rows"}),
        ("(x for x in x)", {"x"}),  # the first iterable is read outside
    ],
)
def test_free_names_of_lambdas_and_comprehensions(expression, names):
    assert free_names(cst.parse_expression(expression)) == names


def test_an_init_lambda_with_keyword_arguments_generates_and_trains(tmp_path):
    source = (EXAMPLES / "digits" / "app.py").read_text()
    old = "init=LogisticRegression"
    assert old in source
    init = "lambda **kw: LogisticRegression(**kw) if kw else None"  # a conditional: needs parentheses
    (tmp_path / "digits").mkdir()
    (tmp_path / "digits" / "app.py").write_text(source.replace(old, f"init={init}"))
    generate(tmp_path / "digits" / "app.py", tmp_path / "out")
    assert f"({init})(**hyperparameters)" in (tmp_path / "out" / "digits" / "workflows.py").read_text()
    result = run_python(
        "from datetime import datetime, timezone\n"
        "from digits.launch_plans import cron_daily_training\n"
        "outputs = cron_daily_training(time=datetime(2026, 11, 29, tzinfo=timezone.utc))\n"
        "print(type(outputs.model_object).__name__, outputs.model_object.get_params()['max_iter'])\n",
        cwd=tmp_path / "out",
    )
    assert result.stdout.split()[-2:] == ["LogisticRegression", "1000"]
