"""Values a launch plan input cannot carry are refused at their argument (rules/flyte_values.py, rules/inputs.py);
their near-valid counterparts generate a project that `pyflyte package` accepts, with the values written
as the input types want them (an int for a float input as a float, a tuple for a list as a list).

The refused inputs are those of issue 13, item 11: each made `pyflyte package` fail before.
"""

from __future__ import annotations

import math
import re
import shutil
import textwrap
from pathlib import Path

import pytest

from unionml_codegen.diagnostics import AppError
from unionml_codegen.rules.flyte_values import FlyteType, check, read_annotation
from unionml_codegen.generate import render_app
from unionml_codegen.spec import Expression, Import

from ..helpers import run_cli
from ..support.flyte_package import describe_launch_plan, flyteadmin_problems, load_entities, package

APP = """\
from datetime import date, datetime, timedelta
from typing import Dict, List, Optional

import pandas as pd
from sklearn.linear_model import LogisticRegression
from unionml import Dataset, Model

dataset = Dataset(targets=["y"])
model = Model(dataset=dataset, init=LogisticRegression)


@dataset.reader
def reader(
    time: datetime,
    frac: float = 1.0,
    n: int = 1,
    tags: List[str] = [],
    weights: Dict[str, float] = {},
    day: Optional[date] = None,
    labeled: bool = True,
    frame: Optional[pd.DataFrame] = None,
    rate: float = 1,
    columns: List[str] = ("x",),
) -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})


@model.trainer
def trainer(est: LogisticRegression, x: pd.DataFrame, y: pd.DataFrame, *, epochs: int = 1) -> LogisticRegression:
    return est


@model.predictor
def predictor(est: LogisticRegression, x: pd.DataFrame) -> List[int]:
    return []


@model.evaluator
def evaluator(est: LogisticRegression, x: pd.DataFrame, y: pd.DataFrame) -> float:
    return 1.0


"""
BASE = APP.count("\n")
CRON = 'expression="@daily", reader_time_arg="time"'


def generate(tmp_path: Path, source: str, app: str = APP):
    path = tmp_path / "valued" / "app.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(app + textwrap.dedent(source), encoding="utf-8", errors="surrogatepass")
    try:
        result = render_app(path, tmp_path / "out")
    except AppError as exc:
        return None, [(d.position.line - BASE, d.position.column, d.message, d.hint) for d in exc.diagnostics.errors]
    return result, []


def training(*arguments: str) -> str:
    return f'model.schedule_training("a", {CRON}, {", ".join(arguments)})\n'


# (id, schedule call, the argument the error points at (its value), words of the message)
REFUSED = [
    ("inf hyperparameter", training('hyperparameters={"C": 1e999}'), "hyperparameters=", "hyperparameters['C'] is inf; non-finite"),
    ("nan hyperparameter", training('hyperparameters={"C": 1e999 - 1e999}'), "hyperparameters=", "hyperparameters['C'] is nan"),
    ("inf reader kwarg", training("frac=-1e999"), "frac=", "the reader's frac is -inf"),
    ("inf inside a list", training('hyperparameters={"grid": [1.0, 1e999]}'), "hyperparameters=", "hyperparameters['grid'][1] is inf"),
    ("int beyond 64 bits for an int", training("n=2**63"), " n=", "the reader's n is 9223372036854775808, beyond Flyte's 64-bit integers"),
    ("negative int beyond 64 bits", training("n=-2**63 - 1"), " n=", "the reader's n is -9223372036854775809, beyond"),
    ("int beyond 64 bits in a dict", training('hyperparameters={"seed": 2**64}'), "hyperparameters=",
     "hyperparameters['seed'] is an integer of 65 bits, beyond the 64-bit integers a Flyte dict input can hold"),
    ("timedelta in hyperparameters", training('hyperparameters={"patience": timedelta(minutes=5)}'), "hyperparameters=",
     "hyperparameters['patience'] is a timedelta, which a Flyte dict input cannot hold"),
    ("set in hyperparameters", training('hyperparameters={"layers": {1, 2}}'), "hyperparameters=",
     "hyperparameters['layers'] is a set"),
    ("datetime in loader kwargs", training('loader_kwargs={"since": datetime(2026, 1, 1)}'), "loader_kwargs=",
     "loader_kwargs['since'] is a datetime"),
    ("lone surrogate in a reader kwarg", training('tags=["ok", "\\ud800"]'), "tags=",
     "the reader's tags[1] is '\\\\ud800' (a str), which has a lone surrogate"),
    ("lone surrogate in a label", training('launchplan_kwargs={"labels": {"team": "\\udc80"}}'), "launchplan_kwargs=",
     "launchplan_kwargs['labels']['team'] is '\\\\udc80' (a str), which has a lone surrogate"),
    ("lone surrogate in a model version", 'model.schedule_prediction("p", expression="@daily", reader_time_arg="time", model_version="\\ud800")\n',
     "model_version=", "`model_version` is '\\\\ud800' (a str), which has a lone surrogate"),
    ("str for a bool", training('labeled="yes"'), "labeled=", "the reader's labeled is 'yes' (a str), but the input is typed bool"),
    ("int for a bool", training("labeled=1"), "labeled=", "the reader's labeled is 1, but the input is typed bool"),
    ("bool for an int", training("n=True"), " n=", "the reader's n is True, but the input is typed int"),
    ("float for an int", training('trainer_kwargs={"epochs": 2.5}'), "trainer_kwargs=", "trainer_kwargs['epochs'] is 2.5, but the input is typed int"),
    ("str in a List[str]", training('tags=["a", 1]'), "tags=", "the reader's tags[1] is 1, but the input is typed str"),
    ("set for a list", training('tags={"a"}'), "tags=", "the reader's tags is a set, but the input is typed List[str]"),
    ("int key in a Dict[str, float]", training("weights={1: 1.0}"), "weights=", "the reader's weights has the key 1; Flyte maps have string keys"),
    ("datetime for an Optional[date]", training("day=datetime(2026, 1, 1)"), "day=", "but the input is typed Optional[date]"),
    ("fixed input of the wrong type", training('launchplan_kwargs={"fixed_inputs": {"labeled": "no"}}'), "launchplan_kwargs=",
     "launchplan_kwargs['fixed_inputs']['labeled'] is 'no' (a str), but the input is typed bool"),
    ("non-string kwargs key", training("splitter_kwargs={1: 2}"), "splitter_kwargs=", "splitter_kwargs has the key 1; its keys must be strings"),
]  # fmt: skip


@pytest.mark.parametrize("source, at, message", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_a_value_flyte_cannot_carry_is_an_error_at_its_argument(tmp_path, source, at, message):
    result, errors = generate(tmp_path, source)
    assert result is None
    assert len(errors) == 1, errors
    line, column, text, hint = errors[0]
    assert (line, column) == (1, source.index(at) + len(at) + 1), errors[0]
    assert message in text
    assert hint


def test_unknown_task_option_is_an_error_at_the_registration(tmp_path):
    app = APP.replace("@model.trainer\n", "@model.trainer(cache=True, bogus=1)\n")
    _, errors = generate(tmp_path, training(), app=app)
    line = app.splitlines().index("@model.trainer(cache=True, bogus=1)") + 1
    assert [(e[0] + BASE, e[1], e[2]) for e in errors] == [
        (line, 1, "`bogus=` is not an option of flytekit's @task (flytekit 1.16)")
    ]
    assert "cache_version" in errors[0][3]


@pytest.mark.parametrize(
    "parameter, message",
    [
        ('labeled: bool = "yes"', "the default of 'labeled' is 'yes' (a str), but the input is typed bool"),
        (
            "n: int = 1e999",
            "the default of 'n' is inf; non-finite numbers cannot be written into the generated launch plan",
        ),
        ("n: int = 9" + "9" * 19, "the default of 'n' is an integer of 67 bits, beyond Flyte's 64-bit integers"),
        ("weights: Dict[str, float] = {1: 2.0}", "the default of 'weights' has the key 1; Flyte maps have string keys"),
    ],
)
def test_a_literal_default_flyte_cannot_carry_is_an_error_at_the_parameter(tmp_path, parameter, message):
    name = parameter.split(":")[0]
    app = re.sub(rf"\n    {name}: [^\n]*,\n", f"\n    {parameter},\n", APP)
    _, errors = generate(tmp_path, training(), app=app)
    line = app.splitlines().index(f"    {parameter},") + 1
    assert [(e[0] + BASE, e[1], e[2]) for e in errors] == [(line, 5, message)]


@pytest.mark.parametrize(
    "options, message",
    [
        ("cache='yes'", "the task option `cache=` is 'yes' (a str), but it takes bool"),
        ("cache=True, retries=1.5", "the task option `retries=` is 1.5, but it takes int"),
        ('environment={"A": 1}', "the task option `environment=`['A'] is 1, but it takes str"),
        ("timeout='1h'", "the task option `timeout=` is '1h' (a str), but it takes int or timedelta"),
        ('cache=True, cache_ignore_input_vars=("x", 2)', "the task option `cache_ignore_input_vars=`[1] is 2"),
    ],
)
def test_a_literal_task_option_of_the_wrong_type_is_an_error(tmp_path, options, message):
    app = APP.replace("@model.trainer\n", f"@model.trainer({options})\n")
    _, errors = generate(tmp_path, training(), app=app)
    assert len(errors) == 1 and message in errors[0][2], errors


def test_resources_with_requests_is_an_error_at_the_registration(tmp_path):
    app = APP.replace("@model.trainer\n", '@model.trainer(resources=Resources(cpu="2"), limits=Resources(cpu="1"))\n')
    app = app.replace("import pandas as pd\n", "import pandas as pd\nfrom flytekit import Resources\n")
    _, errors = generate(tmp_path, training(), app=app)
    assert [e[2] for e in errors] == [
        "`resources=` cannot be given together with `requests=` or `limits=` (flytekit refuses it)"
    ]


def test_resources_alone_gets_no_default_requests_or_limits_and_packages(tmp_path):
    """unionml's default requests/limits are added only without `resources=` (flytekit refuses the mix)."""
    app = APP.replace("@model.trainer\n", '@model.trainer(resources=Resources(cpu="2", mem="2Gi"))\n')
    app = app.replace("import pandas as pd\n", "import pandas as pd\nfrom flytekit import Resources\n")
    result, errors = generate(tmp_path, training(), app=app)
    assert result is not None, errors
    out = tmp_path / "project"
    for path, content in result.files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(content.encode() if isinstance(content, str) else content)
    entities = load_entities(package(out, "valued", output=tmp_path / "valued.tgz"))
    [train] = [t for name, t in entities.tasks.items() if name.endswith("_train_task")]
    resources = train.template.container.resources
    assert {r.value for r in resources.requests} == {"2", "2Gi"}  # the app's, not unionml's cpu="1", mem="1Gi"


def test_a_reader_input_typed_bare_list_is_an_error(tmp_path):
    app = APP.replace("    n: int = 1,\n", "    n: int = 1,\n    items: list = [],\n")
    _, errors = generate(tmp_path, training(), app=app)
    assert [e[2] for e in errors] == [
        "'items' cannot become a workflow input: flytekit cannot type an input or output as a bare `list`"
    ]


def test_dataset_arguments_flyte_cannot_carry_are_errors(tmp_path):
    app = APP.replace('Dataset(targets=["y"])', 'Dataset(targets=["y"], random_state=2**64, test_size=1e999)')
    _, errors = generate(tmp_path, training(), app=app)
    assert [e[2] for e in errors] == [
        "Dataset(...)['test_size'] is inf; non-finite numbers cannot be written into the generated launch plan",
        "Dataset(...)['random_state'] is an integer of 65 bits, beyond the 64-bit integers a Flyte dict input can hold",
    ]


def test_the_cli_exits_2_with_the_diagnostic(tmp_path):
    app = tmp_path / "valued" / "app.py"
    app.parent.mkdir()
    app.write_text(APP + training('labeled="yes"'))
    result = run_cli("generate", str(app), "-o", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    column = training('labeled="yes"').index('"yes"') + 1
    assert (
        f"app.py:{BASE + 1}:{column}: error: the reader's labeled is 'yes' (a str), but the input is typed bool"
        in result.stderr
    )
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


NEAR_VALID = f"""\
model.schedule_training("floats", {CRON}, frac=1, weights={{"a": 1, "b": 0.5}}, n=2**63 - 1, labeled=False,
    hyperparameters={{"C": 1e308, "seed": 2**64 - 1, "low": -2**63, "grid": (1, 2), "name": "caf\\u00e9 \\x00", "none": None}},
    loader_kwargs={{"options": {{"nested": [1, "a", None, True]}}}}, trainer_kwargs={{"epochs": 3}})
model.schedule_training("tuples", {CRON}, tags=("a", "b"), day=date(2026, 1, 1),
    launchplan_kwargs={{"labels": {{"team": "ml"}}, "fixed_inputs": {{"frac": 2}}}})
model.schedule_training("optional", {CRON}, day=None, frame=None)
"""


def test_near_valid_values_package_with_pyflyte_as_the_input_types_want_them(tmp_path):
    options = '@model.trainer(cache=True, cache_version="1", retries=2, timeout=60, environment={"A": "b"})\n'
    result, errors = generate(tmp_path, NEAR_VALID, app=APP.replace("@model.trainer\n", options))
    assert result is not None, errors
    out = tmp_path / "project"
    for path, content in result.files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(content.encode() if isinstance(content, str) else content)
    entities = load_entities(package(out, "valued", output=tmp_path / "valued.tgz"))
    plans = {name: describe_launch_plan(lp, entities) for name, lp in entities.launch_plans.items()}
    for name in ("floats", "tuples", "optional"):
        assert flyteadmin_problems(entities.launch_plans[name], entities) == []
    floats = plans["floats"].fixed_inputs
    assert floats["frac"] == 1.0 and floats["weights"] == {"a": 1.0, "b": 0.5} and floats["n"] == 2**63 - 1
    assert floats["hyperparameters"] == {
        "C": 1e308, "seed": 2**64 - 1, "low": -(2**63), "grid": [1, 2], "name": "café \x00", "none": None
    }  # fmt: skip
    assert floats["loader_kwargs"] == {"options": {"nested": [1, "a", None, True]}}
    assert floats["epochs"] == 3 and floats["labeled"] is False
    tuples = plans["tuples"].fixed_inputs
    assert tuples["tags"] == ["a", "b"] and tuples["frac"] == 2.0
    assert tuples["day"].date().isoformat() == "2026-01-01"
    assert plans["optional"].fixed_inputs["day"] is None
    # literal defaults are written as the input types want them: `rate: float = 1`, `columns: List[str] = ("x",)`
    defaults = plans["valued.workflows.model_train"].default_inputs
    assert defaults["rate"].default == 1.0 and defaults["columns"].default == ["x"]
    shutil.rmtree(out)


ANNOTATIONS = [
    ("int", {}, FlyteType("int", text="int")),
    ("List[int]", {"List": Import("typing", "List", None)}, "list"),
    ("list[int]", {}, "list"),
    ("typing.Dict[str, float]", {"typing": Import("typing", None, None)}, "map"),
    ("t.Optional[dt.datetime]", {"t": Import("typing", None, "t"), "dt": Import("datetime", None, "dt")}, "union"),
    ("int | None", {}, "union"),
    ("datetime", {"datetime": Import("datetime", "datetime", None)}, "datetime"),
    ("datetime", {"datetime": Import("datetime", None, None)}, "unknown"),  # the module, not the class
    ("pd.DataFrame", {"pd": Import("pandas", None, "pd")}, "unknown"),
    ("dict", {}, "struct"),
    ("list", {}, "bare_list"),
]


@pytest.mark.parametrize("text, imports, kind", ANNOTATIONS, ids=[a[0] for a in ANNOTATIONS])
def test_annotations_are_read_through_the_apps_imports(text, imports, kind):
    ftype = read_annotation(Expression(text), imports)
    assert ftype.kind == (kind.kind if isinstance(kind, FlyteType) else kind)


def test_a_value_for_an_unknown_type_is_only_checked_for_what_no_type_carries():
    frame = read_annotation(Expression("pd.DataFrame"), {"pd": Import("pandas", None, "pd")})
    assert check("s3://bucket/frame.parquet", frame, "x") == ("s3://bucket/frame.parquet", None)
    value, problem = check([math.inf], frame, "x")
    assert "x[0] is inf" in f"{problem.where} {problem.message}"


# Differential: check() against flytekit's own TypeEngine, on random values and types.
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_SCALARS = st.one_of(
    st.integers(min_value=-(2**66), max_value=2**66),
    st.floats(),
    st.text(max_size=5),
    st.sampled_from(["\ud800", "x\x00", "\udfff"]),
    st.booleans(),
    st.none(),
    st.datetimes(),
    st.dates(),
    st.timedeltas(),
    st.binary(max_size=3),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.frozensets(st.integers(), max_size=2).map(set),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(), st.tuples(st.integers())), inner, max_size=3),
    ),
    max_leaves=6,
)
_TYPES = {
    "int": int, "float": float, "str": str, "bool": bool, "datetime": "datetime.datetime", "date": "datetime.date",
    "timedelta": "datetime.timedelta", "List[int]": "typing.List[int]", "List[str]": "typing.List[str]",
    "Dict[str, float]": "typing.Dict[str, float]", "Optional[int]": "typing.Optional[int]",
    "Union[int, str]": "typing.Union[int, str]", "dict": dict, "List[Dict[str, int]]": "typing.List[typing.Dict[str, int]]",
}  # fmt: skip
_IMPORTS = {
    "List": Import("typing", "List", None), "Dict": Import("typing", "Dict", None),
    "Optional": Import("typing", "Optional", None), "Union": Import("typing", "Union", None),
    "datetime": Import("datetime", "datetime", None), "date": Import("datetime", "date", None),
    "timedelta": Import("datetime", "timedelta", None),
}  # fmt: skip


def _flytekit_literal(value, annotation: str):
    """None if flytekit turns `value` into a serializable literal of type `annotation` and back, else the error."""
    import datetime  # noqa: F401 - for eval of the annotation
    import typing  # noqa: F401

    from flytekit.core.context_manager import FlyteContextManager
    from flytekit.core.type_engine import TypeEngine

    python_type = eval(_TYPES[annotation]) if isinstance(_TYPES[annotation], str) else _TYPES[annotation]
    try:
        literal_type = TypeEngine.to_literal_type(python_type)
        context = FlyteContextManager.current_context()
        literal = TypeEngine.to_literal(context, value, python_type, literal_type)
        literal.to_flyte_idl().SerializeToString()
        TypeEngine.to_python_value(context, literal, python_type)  # what the task gets at run time
    except Exception as exc:  # flytekit raises many kinds
        return exc
    return None


def _non_finite(value) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, (list, tuple, set)):
        return any(_non_finite(v) for v in value)
    if isinstance(value, dict):
        return any(_non_finite(k) or _non_finite(v) for k, v in value.items())
    return False


@settings(max_examples=400, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(_VALUES, st.sampled_from(sorted(_TYPES)))
def test_check_agrees_with_flytekits_type_engine(value, annotation):
    converted, problem = check(value, read_annotation(Expression(annotation), _IMPORTS), "x")
    if problem is None:  # what we accept (as converted) flytekit turns into a literal
        assert _flytekit_literal(converted, annotation) is None, (value, annotation, converted)
    elif not _non_finite(value):  # what we refuse flytekit refuses too (non-finite floats: refused on purpose)
        assert _flytekit_literal(value, annotation) is not None, (value, annotation, problem)
