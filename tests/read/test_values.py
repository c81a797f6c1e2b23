"""The static evaluator (values.py), exercised through small inline apps read by `read_app`.

`evaluate` puts an expression into a schedule's hyperparameters and reads the value back; tests
of errors write the app out in full, up to the schedule call, so that positions can be read off
the source. `read` appends the components every app needs.
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta

import pytest

from unionml_codegen.read import read_app
from unionml_codegen.diagnostics import Diagnostic, Diagnostics, Position
from ..inline_apps import COMPONENTS, HEADER
from unionml_codegen.spec import App


def read(source: str) -> tuple[App | None, Diagnostics]:
    diagnostics = Diagnostics("app.py")
    app = read_app(textwrap.dedent(source) + COMPONENTS, "app.py", None, "app", diagnostics)
    return app, diagnostics


def evaluate(expression: str, before: str = "") -> object:
    """The value `expression` evaluates to as a hyperparameter, after the statements `before`."""
    source = (
        HEADER
        + textwrap.dedent(before)
        + f'model.schedule_training("s", expression="@daily", hyperparameters={{"value": {expression}}})\n'
    )
    app, diagnostics = read(source)
    assert app is not None and not diagnostics.errors, diagnostics.render(source)
    (schedule,) = app.schedules
    return schedule.hyperparameters["value"]


def only_error(diagnostics: Diagnostics) -> Diagnostic:
    messages = [d.message for d in diagnostics.errors]
    assert len(messages) == 1, messages
    return diagnostics.errors[0]


# literals and displays


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("42", 42),
        ("1_000_000", 1_000_000),
        ("0x1F", 31),
        ("2.5", 2.5),
        ("1e-3", 0.001),
        ("'single'", "single"),
        ('"double"', "double"),
        ('"""triple"""', "triple"),
        ('"a" "b" \'c\'', "abc"),
        ("b'raw'", b"raw"),
        ("b'ab' b'cd'", b"abcd"),
        ("True", True),
        ("False", False),
        ("None", None),
        ("[1, 'a', None]", [1, "a", None]),
        ("(1, 2)", (1, 2)),
        ("(1,)", (1,)),
        ("()", ()),
        ("{1, 2, 2}", {1, 2}),
        ("{'a': 1, 'b': [2.0]}", {"a": 1, "b": [2.0]}),
        ("{}", {}),
        ("{1: 'int key', (2, 3): 'tuple key'}", {1: "int key", (2, 3): "tuple key"}),
        ("{'a': {'b': {'c': [1, (2,)]}}}", {"a": {"b": {"c": [1, (2,)]}}}),
        ("dict(a=1, b='x')", {"a": 1, "b": "x"}),
        ("dict([('a', 1)])", {"a": 1}),
        ("list((1, 2))", [1, 2]),
        ("tuple([1, 2])", (1, 2)),
    ],
)
def test_literals_and_displays(expression, expected):
    value = evaluate(expression)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("-7", -7),
        ("-2.5", -2.5),
        ("+3", 3),
        ("-(2 + 3)", -5),
        ("60 * 60", 3600),
        ("1 / 4", 0.25),
        ("2 ** 3", 8),
        ("2 ** -1", 0.5),
        ("7 // 2", 3),
        ("7 % 4", 3),
        ("1 - 3", -2),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("0.1 * 3", 0.1 * 3),
        ("'con' + 'cat'", "concat"),
        ("not 0", True),
    ],
)
def test_unary_and_binary_operators(expression, expected):
    assert evaluate(expression) == expected


# f-strings and constants


@pytest.mark.parametrize(
    "expression, expected",
    [
        ('f"{NAME}-v{VERSION}"', "iris-v3"),
        ('f"{VERSION:03d}"', "003"),
        ('f"{RATE:.2f}"', "0.12"),
        ('f"{NAME!r}"', "'iris'"),
        ('f"{NAME:>{WIDTH}}"', "  iris"),
        ('f"{VERSION + 1}"', "4"),
        ('"prefix-" f"{NAME}"', "prefix-iris"),
        ("f'{{literal}}'", "{literal}"),
        (r'f"tab\t{NAME}\n"', "tab\tiris\n"),
        (r'rf"C:\dir\{NAME}"', r"C:\dir\iris"),
        (r'f"\N{BULLET} {NAME}"', "\N{BULLET} iris"),
    ],
)
def test_f_strings_over_known_constants(expression, expected):
    before = """\
        NAME = "iris"
        VERSION = 3
        RATE = 0.125
        WIDTH = 6
        """
    assert evaluate(expression, before) == expected


def test_constants_built_from_other_constants():
    before = """\
        BASE = 10
        SCALE = BASE * 2
        A, B = 1, "two"
        [C, D] = (SCALE, A)
        LABEL: str = "x"
        """
    assert evaluate("[SCALE, A, B, C, D, LABEL]", before) == [20, 1, "two", 20, 1, "x"]


def test_a_constant_has_its_value_at_the_point_of_the_call():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        C = 1.0
        model.schedule_training("first", expression="@daily", hyperparameters={"C": C})
        C = 0.5
        model.schedule_training("second", expression="@daily", hyperparameters={"C": C})
        """)
    assert not diagnostics.errors
    assert [(s.name, s.hyperparameters["C"]) for s in app.schedules] == [("first", 1.0), ("second", 0.5)]


def test_a_constant_assigned_after_the_call_is_not_known_at_the_call():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        model.schedule_training("s", expression="@daily", hyperparameters={"C": C})
        C = 1.0
        """)
    error = only_error(diagnostics)
    assert error.position == Position(4, 73)
    assert "'C' is not a module-level constant known at this point" in error.message
    assert app.schedules == ()


# unpacking


@pytest.mark.parametrize(
    "expression, expected",
    [
        ('{**BASE, "C": 0.5}', {"C": 0.5, "max_iter": 100}),
        ('{"C": 0.5, **BASE}', {"C": 1.0, "max_iter": 100}),
        ("{**BASE, **EXTRA}", {"C": 1.0, "max_iter": 100, "solver": "lbfgs"}),
        ("dict(a=1, **BASE)", {"a": 1, "C": 1.0, "max_iter": 100}),
        ("dict(BASE, C=2.0)", {"C": 2.0, "max_iter": 100}),
        ("[*LAYERS, 32]", [8, 16, 32]),
        ("[0, *LAYERS, *NAMES]", [0, 8, 16, "a", "b"]),
        ("(*LAYERS,)", (8, 16)),
        ("{*LAYERS, 8}", {8, 16}),
        ("[*BASE]", ["C", "max_iter"]),
    ],
)
def test_star_and_double_star_unpacking_of_known_values(expression, expected):
    before = """\
        BASE = {"C": 1.0, "max_iter": 100}
        EXTRA = dict(solver="lbfgs")
        LAYERS = [8, 16]
        NAMES = ("a", "b")
        """
    assert evaluate(expression, before) == expected


# timedelta and datetime, however imported


@pytest.mark.parametrize(
    "imports, expression",
    [
        ("from datetime import timedelta", "timedelta(hours=1, minutes=30)"),
        ("import datetime", "datetime.timedelta(hours=1, minutes=30)"),
        ("import datetime as dt", "dt.timedelta(hours=1, minutes=30)"),
        ("from datetime import timedelta as td", "td(hours=1, minutes=30)"),
        ("from datetime import timedelta", "timedelta(0, 5400)"),
        ("from datetime import timedelta", "timedelta(**{'minutes': 90})"),
    ],
)
def test_timedelta_however_imported(imports, expression):
    assert evaluate(expression, imports + "\n") == timedelta(hours=1, minutes=30)


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("timedelta(hours=1) * 2", timedelta(hours=2)),
        ("2 * timedelta(hours=1)", timedelta(hours=2)),
        ("timedelta(days=1) - timedelta(hours=1)", timedelta(hours=23)),
        ("timedelta(minutes=1) + timedelta(seconds=30)", timedelta(seconds=90)),
        ("-timedelta(minutes=1)", timedelta(minutes=-1)),
        ("timedelta(hours=1) / 4", timedelta(minutes=15)),
        ("HOUR * 6", timedelta(hours=6)),
        ("timedelta(seconds=60 * 60)", timedelta(hours=1)),
    ],
)
def test_timedelta_arithmetic(expression, expected):
    before = """\
        from datetime import timedelta
        HOUR = timedelta(hours=1)
        """
    assert evaluate(expression, before) == expected


@pytest.mark.parametrize(
    "imports, expression",
    [
        ("from datetime import datetime", "datetime(2024, 1, 31, 12)"),
        ("import datetime", "datetime.datetime(2024, 1, 31, 12)"),
        ("import datetime as dt", "dt.datetime(2024, 1, 31, hour=12)"),
    ],
)
def test_datetime_however_imported(imports, expression):
    assert evaluate(expression, imports + "\n") == datetime(2024, 1, 31, 12)


def test_fixed_rate_is_a_timedelta():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        import datetime as dt
        EVERY = dt.timedelta(minutes=30)
        model.schedule_training("s", fixed_rate=EVERY * 2)
        """)
    assert not diagnostics.errors
    assert app.schedules[0].fixed_rate == timedelta(hours=1)


def test_a_module_named_like_datetime_is_not_the_standard_library():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        from mylib import timedelta
        model.schedule_training("s", fixed_rate=timedelta(hours=1))
        """)
    error = only_error(diagnostics)
    assert error.position == Position(5, 41)
    assert "the call to 'mylib.timedelta' cannot be evaluated" in error.message


# what cannot be known without running the app


def test_a_function_call_is_not_static():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        import os
        model.schedule_training("s", expression="@daily", hyperparameters={"key": os.getenv("KEY")})
        """)
    error = only_error(diagnostics)
    assert error.position == Position(5, 75)
    assert "the call to 'os.getenv' cannot be evaluated without running the app" in error.message
    assert "literal" in error.hint
    assert app.schedules == ()


def test_an_attribute_is_not_static():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        import os
        model.schedule_training("s", expression="@daily", hyperparameters={"sep": os.sep})
        """)
    error = only_error(diagnostics)
    assert error.position == Position(5, 75)
    assert "attribute access cannot be evaluated" in error.message


def test_a_name_assigned_from_a_non_static_expression_says_where_it_was_assigned():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        import os
        BUCKET = os.environ["BUCKET"]
        model.schedule_training("s", expression="@daily", hyperparameters={"bucket": BUCKET})
        """)
    error = only_error(diagnostics)
    assert error.position == Position(6, 78)
    assert "'BUCKET' is assigned from an expression the generator cannot evaluate (line 5)" in error.message


def test_a_constant_reassigned_from_a_non_static_expression_is_no_longer_known():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        import os
        C = 1.0
        model.schedule_training("first", expression="@daily", hyperparameters={"C": C})
        C = float(os.getenv("C", "1"))
        model.schedule_training("second", expression="@daily", hyperparameters={"C": C})
        """)
    error = only_error(diagnostics)
    assert error.position == Position(8, 78)
    assert "'C' is assigned from an expression the generator cannot evaluate (line 7)" in error.message
    assert [s.name for s in app.schedules] == ["first"]


def test_a_comprehension_is_not_static():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        model.schedule_training("s", expression="@daily", hyperparameters={"sizes": [2**i for i in range(3)]})
        """)
    error = only_error(diagnostics)
    assert error.position == Position(4, 77)
    assert "list comprehension cannot be evaluated" in error.message


def test_a_name_never_defined_is_not_static():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        model.schedule_training("s", expression="@daily", hyperparameters={"C": UNDEFINED_C})
        """)
    error = only_error(diagnostics)
    assert error.position == Position(4, 73)
    assert "'UNDEFINED_C' is not a module-level constant known at this point" in error.message


CALL = "model.schedule_training(name='s', hyperparameters="


@pytest.mark.parametrize(
    "before, expression, at, message",
    [
        # `at` is the part of `expression` the error points at: the innermost that cannot be known
        ("import os\n", '{"a": [1, os.sep]}', "os.sep", "attribute access"),
        ("import os\n", 'f"run-{os.sep}"', "os.sep", "attribute access"),
        ("import os\n", "[*os.environ]", "os.environ", "attribute access"),
        ("import os\n", "{'k': os.getenv('K') or 'x'}", "os.getenv('K') or 'x'", "boolean operation"),
        ("def helper(): pass\n", "{'f': helper}", "helper", "'helper' is a function (line 4)"),
        ("class Config: pass\n", "{'c': Config}", "Config", "'Config' is a class (line 4)"),
        ("", "{'m': model}", "model", "'model' is the unionml model object (line 3)"),
        ("X = 1\nX += 1\n", "{'x': X}", "X", "'X' is changed by an augmented assignment (line 5)"),
        ("", "{'x': 1 / 0}", "1 / 0", "fails when evaluated: division by zero"),
        ("", "{'x': 'a' * 3}", "'a' * 3", "arithmetic is evaluated on numbers and durations only"),
        ("", "{'x': 1 << 2}", "1 << 2", "only + - * / // % ** are evaluated"),
        ("", "{'x': -True}", "-True", "unary '+' and '-' apply to numbers only"),
        ("", "{'x': 1j}", "1j", "cannot be evaluated"),
        ("", "{[1]: 2}", "[1]", "a list cannot be a dict key"),
        ("", "{**[1]}", "[1]", "cannot unpack a list with '**'"),
        ("", "{'x': [*1]}", "1", "cannot unpack a int with '*'"),
        ("", "{'x': lambda: 1}", "lambda: 1", "lambda cannot be evaluated"),
        ("", "{'x': 1 if True else 2}", "1 if True else 2", "conditional expression cannot be evaluated"),
        ("", "{'x': {}['k']}", "{}['k']", "subscript cannot be evaluated"),
        ("", "{'x': [1] == [1]}", "[1] == [1]", "comparison cannot be evaluated"),
        ("", "{'x': dict(1)}", "dict(1)", "'builtins.dict(...)' fails with these arguments"),
        ("from datetime import timedelta\n", "{'x': timedelta(hours='1')}", "timedelta(", "fails with these"),
    ],
)
def test_errors_point_at_the_part_that_cannot_be_known(before, expression, at, message):
    source = HEADER + before + CALL + expression + ")\n"
    app, diagnostics = read(source)
    error = only_error(diagnostics)
    expected = Position(source.count("\n"), len(CALL) + expression.index(at) + 1)
    assert error.position == expected, diagnostics.render(source)
    assert message in error.message
    assert app.schedules == ()


def test_every_non_static_argument_is_reported():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        import os
        model.schedule_training(os.getenv("NAME"), expression=CRON, hyperparameters={"C": os.sep})
        """)
    assert [d.position for d in diagnostics.errors] == [Position(5, 25), Position(5, 55), Position(5, 83)]


def test_a_constant_that_cannot_be_evaluated_says_why_where_it_is_used():
    app, diagnostics = read(HEADER + 'X = {"tag": f"{1:zz}"}\n' + CALL + "X)\n")
    (error,) = diagnostics.errors
    assert error.message == (
        "'X' is assigned from an expression the generator cannot evaluate (line 4): "
        "this f-string fails when evaluated: Unknown format code 'z' for object of type 'int'"
    )


@pytest.mark.parametrize(
    "dataset, column, message",
    [
        (
            "Dataset(name=(n := 'x'))",
            25,
            "this assignment expression (`:=`) cannot be evaluated without running the app",
        ),
        ("Dataset(features=5)", 28, "Dataset(...) `features` must be a list of column names (strings)"),
    ],
)
def test_dataset_arguments_that_cannot_be_read_are_errors(dataset, column, message):
    app, diagnostics = read(
        f"from unionml import Dataset, Model\ndataset = {dataset}\n" "model = Model(init=dict, dataset=dataset)\n"
    )
    (error,) = diagnostics.errors
    assert (error.position, error.message) == (Position(2, column), message)
