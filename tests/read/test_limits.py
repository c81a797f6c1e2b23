"""Bounds on what the generator evaluates (docs/rules.md, "Limits"): values past them are
diagnostics at the expression, never a traceback, a hang or a memory blow-up."""

from __future__ import annotations

import textwrap

import pytest

from unionml_codegen.read import read_app
from unionml_codegen.diagnostics import AppError, Diagnostics, Position
from unionml_codegen.generate import render_app
from unionml_codegen.read.walker import MAX_UNROLLED

from ..helpers import run_cli
from ..inline_apps import COMPONENTS, HEADER

CALL = 'model.schedule_training("s", expression="@daily", hyperparameters={"v": '


def errors_of(body: str):
    source = HEADER + textwrap.dedent(body) + COMPONENTS
    diagnostics = Diagnostics("app.py")
    app = read_app(source, "app.py", None, "app", diagnostics)
    return app, diagnostics.errors


def only_error(body: str):
    app, errors = errors_of(body)
    assert len(errors) == 1, [e.message for e in errors]
    assert app is None or app.schedules == ()
    return errors[0]


@pytest.mark.parametrize(
    "expression, message",
    [
        ("2 ** 20000", "this power has more than 4,300 digits"),
        ("10 ** 10 ** 10", "this power has more than 4,300 digits"),
        ("(-7) ** 99999999999", "this power has more than 4,300 digits"),
        ("10 ** 4000 * 10 ** 4000", "this number has more than 4,300 digits"),
        ('f"{1:>999999999}"', "asks for too wide a text"),
        ('f"{1.5:.999999999f}"', "asks for too wide a text"),
        ('f"{1:zz}"', "this f-string fails when evaluated: Unknown format code 'z'"),
        ("f\"{'a':d}\"", "this f-string fails when evaluated"),
        ('f"{2 ** 20000}"', "this power has more than 4,300 digits"),
    ],
)
def test_values_past_the_bounds_are_errors_at_the_expression(expression, message):
    error = only_error(CALL + expression + "})\n")
    assert error.position.line == 4
    assert message in error.message
    assert error.position.column >= len(CALL) + 1


def test_the_largest_int_within_the_bound_is_read():
    app, errors = errors_of(CALL + "10 ** 4299" + "})\n")
    assert not errors
    assert app.schedules[0].hyperparameters["v"] == 10**4299


@pytest.mark.parametrize(
    "before, message",
    [
        ("X = 'ab'\n" + "X = X + X\n" * 40, "'X' is assigned a value past the generator's bounds (this string is"),
        ("X = (1,)\n" + "X = (X, X)\n" * 60, "(this value has more than 100,000 items) (line 20)"),
        ("X = [1]\n" + "X = [*X, *X]\n" * 30, "(this value has more than 100,000 items)"),
    ],
)
def test_repeated_doubling_stops_at_the_bound(before, message):
    app, errors = errors_of(before + CALL + "X})\n")  # unbounded, the string would be 2 TB
    assert len(errors) == 1
    assert message in errors[0].message


def test_nested_loops_unrolled_past_the_bound_are_one_error():
    text = "a" * 360
    body = f"T = '{text}'\nfor a in T:\n    for b in T:\n        for c in T:\n            pass\n" + CALL + "1})\n"
    app, errors = errors_of(body)
    assert len(errors) == 1, [e.message for e in errors]
    (error,) = errors
    assert error.position == Position(7, 9)  # the loop whose iterations pass the bound
    assert f"more than {MAX_UNROLLED:,} loop iterations" in error.message
    assert "Limits" in error.hint


def test_loops_within_the_bound_are_unrolled():
    body = "for a in range_:\n    pass\n".replace("range_", "[" + ", ".join(map(str, range(100))) + "]")
    body += "for a in 'abcdefghij':\n    for b in 'abcdefghij':\n        model.schedule_training(a + b, expression='@daily')\n"
    app, errors = errors_of(body)
    assert not errors
    assert len(app.schedules) == 100


@pytest.mark.parametrize(
    "expression, message",
    [
        ("0 " + "9" * 5000 + " * * *", "hour value 999999999999... is out of range 0-23"),
        ("*/" + "9" * 5000 + " * * * *", "minute step must be a whole number of at least 1"),
        ("0 0 * * " + "0" * 5000 + "6", None),  # leading zeros: Saturday
        ("0 0 * * " + "0" * 5000 + "9", "day-of-week value 9 is out of range 0-6"),
    ],
)
def test_cron_fields_with_thousands_of_digits(tmp_path, expression, message):
    (tmp_path / "app.py").write_text(HEADER + f'model.schedule_training("s", expression="{expression}")\n' + COMPONENTS)
    if message is None:
        render_app(tmp_path / "app.py", tmp_path / "out")
        return
    with pytest.raises(AppError) as raised:
        render_app(tmp_path / "app.py", tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    assert message in error.message


def test_the_cli_reports_a_bound_and_writes_nothing(tmp_path):
    (tmp_path / "app.py").write_text(HEADER + CALL + "10 ** 10 ** 10})\n" + COMPONENTS)
    result = run_cli("generate", "app.py", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("app.py:4:73: error: this power has more than 4,300 digits")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
