"""Apps CPython refuses, and apps nested too deeply for libcst, are diagnosed before anything is read
(cpython.py, called by extract.parse and, for copied local modules, by analyze.read_app)."""

from __future__ import annotations

import pytest

from unionml_codegen.read import cpython
from unionml_codegen.read import read_app
from unionml_codegen.diagnostics import Diagnostics, Position
from unionml_codegen.generate import generate
from unionml_codegen.diagnostics import AppError

from ..helpers import EXAMPLES, run_cli
from ..inline_apps import COMPONENTS, HEADER


def errors_of(body: str, header: str = HEADER, components: str = COMPONENTS) -> list:
    diagnostics = Diagnostics("app.py")
    app = read_app(header + body + components, "app.py", None, "app", diagnostics)
    assert app is None
    return diagnostics.errors


def only_error(body: str, **kwargs):
    errors = errors_of(body, **kwargs)
    assert len(errors) == 1, [e.message for e in errors]
    return errors[0]


@pytest.mark.parametrize(
    "body, position, message",
    [
        ('model.schedule_training(name="a", name="b", expression="@daily")\n', (4, 35), "keyword argument repeated"),
        ("[x for x in (y := [1, 2])]\n", (4, 14), "assignment expression cannot be used in a comprehension"),
        ("[(yield x) for x in [1]]\n", (4, 3), "'yield' inside list comprehension"),
        ("await foo()\n", (4, 1), "'await' outside function"),
        ('x = f"{"a"}"\n', (4, 9), "f-string: expecting '}'"),
        ("x = " + "1" * 5000 + "\n", (4, 5), "Exceeds the limit (4300 digits)"),
        ("def f(a, a):\n    pass\n", (4, 10), "duplicate argument 'a'"),
        ("return 1\n", (4, 1), "'return' outside function"),
        # the compiler counts columns in UTF-8 bytes: reported in characters
        ('é = "ü"; await foo()\n', (4, 10), "'await' outside function"),
        ('x = 1\ny = "a\0b"\n', (5, 7), "NUL byte"),
        ('x = "\\N{NO SUCH NAME}"\n', (4, 5), "(unicode error) 'unicodeescape' codec can't decode"),
        ('x = "da" b"ily"\n', (4, 10), "cannot mix bytes and nonbytes literals"),
    ],
    ids=[
        "repeated-keyword", "walrus-in-iterable", "yield-in-comprehension", "await", "f-string-3.12",
        "int-string-limit", "duplicate-argument", "return", "byte-columns", "nul", "bad-N-escape", "str-bytes",
    ],
)  # fmt: skip
def test_code_cpython_refuses_is_an_error_where_cpython_finds_it(body, position, message):
    error = only_error(body)
    assert error.position == Position(*position)
    assert message in error.message
    assert "rejects this" in error.hint


def test_a_repeated_task_option_in_a_decorator_is_an_error():
    components = COMPONENTS.replace("@model.trainer", "@model.trainer(cache=True, cache=False)")
    error = only_error("", components=components)
    assert error.message == "invalid syntax: keyword argument repeated: cache"
    line = (HEADER + components).splitlines().index("@model.trainer(cache=True, cache=False)") + 1
    assert error.position == Position(line, 28)


def test_1300_nested_brackets_are_refused_by_cpython_before_libcst_crashes(tmp_path):
    # libcst's native parser segfaults on this; run in a subprocess so a crash fails only this test
    (tmp_path / "app.py").write_text(HEADER + "x = " + "(" * 1300 + "1" + ")" * 1300 + "\n" + COMPONENTS)
    result = run_cli("generate", "app.py", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("app.py:4:"), result.stderr
    assert "too many nested parentheses" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "expression, column",
    [
        ("[" * 150 + "1" + "]" * 150, 84),
        (" + ".join(['"a"'] * 400), 5),
        (" ".join(['"a"'] * 400), 5),
        ("a" + "[a" * 100 + "]" * 100, 5),
    ],
    ids=["150-nested-lists", "400-term-concatenation", "400-piece-implicit-concatenation", "100-subscripts"],
)
def test_code_nested_too_deeply_for_libcst_is_an_error_not_a_recursion_error(expression, column):
    error = only_error(f"x = {expression}\n")
    assert error.position.line == 4
    assert error.message.startswith("this code is nested too deeply for the generator")
    assert "at most 160 levels" in error.hint


@pytest.mark.parametrize(
    "expression",
    ["[" * 60 + "1" + "]" * 60, " + ".join(['"a"'] * 120), " ".join(['"a"'] * 120), "x" + ".a()" * 50],
    ids=["60-nested-lists", "120-term-concatenation", "120-piece-implicit-concatenation", "50-chained-calls"],
)
def test_deep_but_bounded_nesting_in_a_component_generates(tmp_path, expression):
    source = (EXAMPLES / "digits" / "app.py").read_text()
    marker = "    return estimator.fit("
    assert marker in source
    source = source.replace(marker, f"    unused = lambda x: {expression}\n{marker}", 1)
    (tmp_path / "app.py").write_text(source)
    files = generate(tmp_path / "app.py", tmp_path / "out")
    assert files


def test_a_recursion_error_past_the_bound_is_still_a_diagnostic(monkeypatch):
    monkeypatch.setattr(cpython, "MAX_DEPTH", 100_000)  # let libcst meet the deep tree
    error = only_error("x = " + "[" * 190 + "1" + "]" * 190 + "\n")
    assert error.message.startswith("this code is nested too deeply for the generator")
    assert error.position.line == 4


def test_a_copied_local_module_cpython_refuses_is_an_error_at_that_module(tmp_path):
    app_dir = tmp_path / "shop"
    app_dir.mkdir()
    source = (EXAMPLES / "digits" / "app.py").read_text()
    source = source.replace(
        "from unionml import Dataset, Model", "from unionml import Dataset, Model\n\nfrom features import scale"
    )
    source = source.replace("estimator.fit(features,", "estimator.fit(scale(features),")
    (app_dir / "app.py").write_text(source)
    (app_dir / "features.py").write_text("def scale(frame):\n    return f(x=1, x=2)\n")
    result = run_cli("generate", "shop/app.py", "-o", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("shop/features.py:2:19: error: invalid syntax: keyword argument repeated: x")
    assert "    return f(x=1, x=2)\n" + " " * 22 + "^" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
