"""launch_plans.py is written in black's style by construction (render/format.py): black must leave
it unchanged, for the examples, for many-schedule apps, and for generated values."""

from __future__ import annotations

import datetime as dt
import sys

import black
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unionml_codegen.render import flyte1
from unionml_codegen.options import Options
from unionml_codegen.generate import render_app
from unionml_codegen.render.format import argument, black_literal, fits

from ..helpers import REPO

sys.path.insert(0, str(REPO / "bench"))
from run import synthetic  # noqa: E402  (the bench's many-schedule app)

MODE = black.Mode(target_versions={black.TargetVersion.PY310})


def _launch_plans(app_path, monkeypatch) -> tuple[str, bool]:
    taken = []
    original = flyte1._preformatted_launch_plans

    def spy(*args):
        result = original(*args)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(flyte1, "_preformatted_launch_plans", spy)
    files = render_app(app_path, app_path.parent / "flyte", Options()).files
    return next(v for k, v in files.items() if k.endswith("/launch_plans.py")), taken == [True]


@pytest.mark.parametrize("count", [1, 30])
def test_a_many_schedule_app_gets_launch_plans_black_leaves_unchanged(tmp_path, monkeypatch, count):
    (tmp_path / "app.py").write_text(synthetic(count))
    code, preformatted = _launch_plans(tmp_path / "app.py", monkeypatch)
    assert preformatted
    assert black.format_str(code, mode=MODE) == code


LONG = {f"parameter_{i}": "x" * 20 for i in range(5)}
SCHEDULES = {
    "long hyperparameters, exploded": f"hyperparameters={LONG!r}",
    "fixed rate": "fixed_rate=timedelta(days=1, hours=2)",
    "a string black would requote": "hyperparameters={'C': \"it's\"}",
    "an entry longer than a line": "hyperparameters={'C': '" + "y" * 100 + "'}",
    "a float in exponent form": "hyperparameters={'C': 1e-05}",
    "nested lists": "hyperparameters={'C': [1, [2.5, None], {'k': True}]}",
}


@pytest.mark.parametrize("case", sorted(SCHEDULES))
def test_every_value_shape_comes_out_as_black_writes_it(tmp_path, monkeypatch, case):
    app = synthetic(2).replace('hyperparameters={**HYPERPARAMETERS, "C": C_0},', SCHEDULES[case] + ",", 1)
    assert SCHEDULES[case] in app
    if case == "fixed rate":
        app = app.replace('expression="0 0 * * *",', "", 1)
    (tmp_path / "app.py").write_text(app)
    code, _ = _launch_plans(tmp_path / "app.py", monkeypatch)
    assert black.format_str(code, mode=MODE) == code


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
    | st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=999)),
    lambda inner: st.lists(inner, max_size=4)
    | st.lists(inner, max_size=3).map(tuple)
    | st.dictionaries(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(st.characters(min_codepoint=97, max_codepoint=122), min_size=1, max_size=30), values,
                       max_size=6))  # fmt: skip
def test_preformatted_arguments_are_what_black_writes(fixed_inputs):
    text = black_literal(fixed_inputs)
    if text is None:
        return
    text = argument("fixed_inputs", text, fixed_inputs)
    if text is None:
        return
    code = f"plan = LaunchPlan.get_or_create(\n    workflows.train,\n    fixed_inputs={text},\n)\n"
    if fits(code):
        assert black.format_str(code, mode=MODE) == code
