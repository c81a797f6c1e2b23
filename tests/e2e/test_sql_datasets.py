"""`Dataset.from_sqlite_task(task, ...)` (and `from_sqlalchemy_task`): the flytekit SQL task is the
dataset's reader, as in unionml 0.2.1 (sql_tasks.py). The generated workflows call the task itself
as their first node, the components module keeps its definition, and training the generated plan
locally gives unionml's own `model.train(...)` metrics on the same SQLite database, with a
SQLite3Task and with flytekitplugins-sqlalchemy's SQLAlchemyTask. The flyte2 target runs a
SQLite3Task's query itself: its training and prediction tasks give unionml's results too, and its
query reads the rows flytekit's task reads."""

from __future__ import annotations

import json
import shutil
import sqlite3
import textwrap

import pandas as pd
import pytest

from unionml_codegen.read import read_app
from unionml_codegen.diagnostics import Diagnostics, Position
from unionml_codegen.rules.flyte2 import check_flyte2
from unionml_codegen.options import Options
from unionml_codegen.generate import generate
from unionml_codegen.requirements import distribution, requirement_module

from ..helpers import run_python
from .test_flyte2 import run_flyte2
from ..support.flyte_package import describe_launch_plan, flyteadmin_problems, load_entities, package

APP = """\
from typing import List

import pandas as pd
from flytekit import kwtypes
from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from unionml import Dataset, Model

sqlite_task = SQLite3Task(
    name="shop_sqlite_query",
    query_template="SELECT x1, x2, x3, y FROM mock_table LIMIT {{{{.inputs.limit}}}}",
    inputs=kwtypes(limit=int),
    output_schema_type=pd.DataFrame,
    task_config=SQLite3Config(uri="{uri}"),
)

dataset = Dataset.from_sqlite_task(sqlite_task, name="shop_data", features=["x1", "x2", "x3"], targets=["y"])
model = Model(name="shop_model", init=LogisticRegression, dataset=dataset)


@model.trainer
def trainer(model: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return model.fit(features, target.squeeze())


@model.predictor
def predictor(model: LogisticRegression, features: pd.DataFrame) -> List[float]:
    return [float(x) for x in model.predict(features)]


@model.evaluator
def evaluator(model: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(accuracy_score(target.squeeze(), model.predict(features)))


model.schedule_training("nightly_sql_training", expression="0 3 * * *", hyperparameters={{"C": 100.0}}, limit=25)
"""

UNIONML_ORACLE = """
import importlib.util, json
spec = importlib.util.spec_from_file_location("shop_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)
_, metrics = app.model.train(hyperparameters={"C": 100.0}, limit=25)
print(json.dumps({"metrics": metrics, "predictions": app.model.predict(limit=8)}))
"""

GENERATED = """
import json
from shop.launch_plans import nightly_sql_training
outputs = nightly_sql_training()
print(json.dumps({"metrics": outputs.metrics, "model": type(outputs.model_object).__name__}))
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """An app reading a SQLite database (made here) with a SQLite3Task, and its generated project."""
    root = tmp_path_factory.mktemp("sql")
    frame = pd.DataFrame(
        {"x1": [1.0, 2.0, 3.0, 4.5] * 10, "x2": [1.0, 2.5, 3.0, 0.5] * 10, "x3": [0.0, 2.0, 1.0, 3.0] * 10,
         "y": [1, 0, 1, 0] * 10}
    )  # fmt: skip
    database = root / "shop.sqlite"
    with sqlite3.connect(database) as connection:
        frame.to_sql("mock_table", connection, index=False)
    (root / "shop").mkdir()
    (root / "shop" / "app.py").write_text(APP.format(uri=database.as_uri()))
    generate(root / "shop" / "app.py", root / "out")
    return root


def test_the_workflows_call_the_sql_task_as_their_reader_node(shop):
    workflows = (shop / "out" / "shop" / "workflows.py").read_text()
    assert workflows.count("data = components.sqlite_task(limit=limit)") == 2  # train and predict
    assert "_reader(" not in workflows  # no reader task wraps it
    assert "def shop_model_train(\n    limit: int," in workflows
    components = (shop / "out" / "shop" / "components.py").read_text()
    assert "sqlite_task = SQLite3Task(" in components
    assert "from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task" in components
    assert "Dataset" not in components


@pytest.fixture(scope="module")
def unionml(shop):
    """unionml 0.2.1's own training (the schedule's hyperparameters and limit) and prediction (limit=8)."""
    return json.loads(run_python(UNIONML_ORACLE, cwd=shop / "shop").stdout.strip().splitlines()[-1])


def test_the_generated_training_plan_gives_unionml_metrics(shop, unionml):
    expected = unionml["metrics"]
    generated = run_python(GENERATED, cwd=shop / "out")
    actual = json.loads(generated.stdout.strip().splitlines()[-1])
    assert set(expected) == {"train", "test"}
    assert actual == {"metrics": expected, "model": "LogisticRegression"}


def test_the_project_packages_with_the_sql_task_and_passes_flyteadmin_rules(shop):
    entities = load_entities(package(shop / "out", "shop"))
    sql_tasks = [t for t in entities.tasks.values() if t.template.type == "sqlite"]
    assert [t.template.id.name for t in sql_tasks] == ["shop_sqlite_query"]
    plan = entities.launch_plans["nightly_sql_training"]
    assert flyteadmin_problems(plan, entities.workflows) == []
    info = describe_launch_plan(plan, entities.workflows)
    assert info.fixed_inputs["limit"] == 25
    assert info.cron_expression == "0 3 * * *"


ALCHEMY = {
    "from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task": (
        "from flytekitplugins.sqlalchemy import SQLAlchemyConfig, SQLAlchemyTask"
    ),
    "sqlite_task = SQLite3Task(": "sqlite_task = SQLAlchemyTask(",
    'task_config=SQLite3Config(uri="{uri}")': 'task_config=SQLAlchemyConfig(uri="sqlite:///{path}")',
    "Dataset.from_sqlite_task": "Dataset.from_sqlalchemy_task",
}


def test_a_sqlalchemy_task_reader_trains_as_unionml_does(shop, tmp_path):
    """`Dataset.from_sqlalchemy_task` with flytekitplugins-sqlalchemy's task on the same SQLite database."""
    app = APP
    for old, new in ALCHEMY.items():
        assert old in app
        app = app.replace(old, new)
    (tmp_path / "alchemy").mkdir()
    (tmp_path / "alchemy" / "app.py").write_text(app.format(path=shop / "shop.sqlite"))
    generate(tmp_path / "alchemy" / "app.py", tmp_path / "out")
    components = (tmp_path / "out" / "alchemy" / "components.py").read_text()
    assert "sqlite_task = SQLAlchemyTask(" in components
    assert "flytekitplugins-sqlalchemy" in (tmp_path / "out" / "requirements.txt").read_text()
    expected = json.loads(run_python(UNIONML_ORACLE, cwd=tmp_path / "alchemy").stdout.strip().splitlines()[-1])
    generated = run_python(GENERATED.replace("from shop.", "from alchemy."), cwd=tmp_path / "out")
    actual = json.loads(generated.stdout.strip().splitlines()[-1])
    assert set(expected["metrics"]) == {"train", "test"}
    assert actual == {"metrics": expected["metrics"], "model": "LogisticRegression"}


# The flyte2 target runs the SQLite3Task's query itself (flyte cannot import flytekit).

FLYTE2 = """
import json, zipfile
import flyte
from shop import sqlite_query, tasks, triggers

trigger = triggers.nightly_sql_training
run = flyte.with_runcontext(mode="local", disable_run_cache=True).run(tasks.shop_model_train, **trigger.inputs)
model_object, hyperparameters, metrics = run.outputs()
predict = flyte.with_runcontext(mode="local").run(tasks.shop_model_predict, model_object=model_object, limit=8)
with zipfile.ZipFile("shop.zip", "w") as archive:  # SQLite3Config(compressed=True) reads an archive of one file
    archive.write(DATABASE, "shop.sqlite")
query = "SELECT x2, y FROM mock_table WHERE x1 > {{ .Inputs.above }} LIMIT {{.inputs.limit}}"
frames = {
    name: sqlite_query.read(query, uri=uri, compressed=name == "zip", inputs={"above": 1.5, "limit": 7}).to_dict("list")
    for name, uri in {"file URI": "file://" + DATABASE, "path": DATABASE, "zip": "shop.zip"}.items()
}
print(json.dumps({"metrics": metrics, "hyperparameters": hyperparameters, "predictions": predict.outputs()[0],
                  "trigger": trigger.inputs, "frames": frames}))
"""


@pytest.fixture(scope="module")
def shop_flyte2(shop):
    """The shop app generated with --target flyte2, run in the flyte SDK's local mode."""
    generate(shop / "shop" / "app.py", shop / "out2", Options(target="flyte2"))
    database = str(shop / "shop.sqlite")
    return run_flyte2(f"DATABASE = {database!r}\n" + FLYTE2, cwd=shop / "out2")


def test_flyte2_reads_the_sql_task_query_without_flytekit(shop, shop_flyte2):
    tasks = (shop / "out2" / "shop" / "tasks.py").read_text()
    assert "def shop_data_reader(limit: int) -> pd.DataFrame:" in tasks
    assert f'uri="{(shop / "shop.sqlite").as_uri()}",' in tasks
    assert '"SELECT x1, x2, x3, y FROM mock_table LIMIT {{.inputs.limit}}",' in tasks
    assert tasks.count("data = shop_data_reader(limit=limit)") == 2  # train and predict
    modules = "".join(path.read_text() for path in (shop / "out2").rglob("*.py"))
    assert "import flytekit" not in modules and "from flytekit" not in modules  # run_flyte2 blocks it too
    assert "flytekit" not in (shop / "out2" / "requirements.txt").read_text()
    assert "SQLite3Task(" not in (shop / "out2" / "shop" / "components.py").read_text()


def test_flyte2_training_and_prediction_give_unionml_results(shop_flyte2, unionml):
    assert shop_flyte2["trigger"]["limit"] == 25 and shop_flyte2["hyperparameters"] == {"C": 100.0}
    assert shop_flyte2["metrics"] == unionml["metrics"]  # exact floats
    assert len(unionml["predictions"]) == 8
    assert shop_flyte2["predictions"] == unionml["predictions"]


def test_flyte2_query_reads_as_flytekit_sqlite3_task_does(shop, shop_flyte2):
    """A compressed database, a file URI and a path, and inputs in any case and spacing, against flytekit's task."""
    from flytekit import kwtypes
    from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task

    task = SQLite3Task(
        "q",
        "SELECT x2, y FROM mock_table WHERE x1 > {{ .Inputs.above }} LIMIT {{.inputs.limit}}",
        inputs=kwtypes(above=float, limit=int),
        output_schema_type=pd.DataFrame,
        task_config=SQLite3Config(uri=str(shop / "out2" / "shop.zip"), compressed=True),
    )
    expected = task(above=1.5, limit=7).to_dict("list")
    assert len(expected["y"]) == 7 and min(expected["x2"]) < 3.0
    assert shop_flyte2["frames"] == {"file URI": expected, "path": expected, "zip": expected}


NOTEBOOK = """\
# %% [markdown]
# A notebook-style tutorial: sales from SQLite, cleaned by a helper package, trained at the top level.
# %%
from typing import List

import pandas as pd
from flytekit import kwtypes
from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task
from sklearn.linear_model import LogisticRegression
from unionml import Dataset, Model

from helpers import clean

DB = "shop.sqlite"
QUERY = \"\"\"
    SELECT x2, y
    FROM mock_table
    WHERE x1 >= {{ .inputs.sqlite_query }}
    LIMIT {{ .inputs.env }}
\"\"\"
sales = SQLite3Task(
    name="sales_query",
    query_template=QUERY,
    inputs=kwtypes(sqlite_query=float, env=int),  # names the generated tasks.py also needs
    output_schema_type=pd.DataFrame,
    task_config=SQLite3Config(uri=DB),
)
dataset = Dataset.from_sqlite_task(sales, name="sales", features=["x2"], targets=["y"])  # x2 alone: no perfect fit
model = Model(name="sales_model", init=LogisticRegression, dataset=dataset)


@dataset.loader
def loader(data: pd.DataFrame) -> pd.DataFrame:
    return clean(data)


@model.trainer
def trainer(model: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return model.fit(features, target.squeeze())


@model.predictor
def predictor(model: LogisticRegression, features: pd.DataFrame) -> List[float]:
    return [float(x) for x in model.predict(features)]


@model.evaluator
def evaluator(model: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float((model.predict(features) == target.squeeze()).mean())


# %%
model_object, metrics = model.train(hyperparameters={"C": 0.5}, sqlite_query=0.5, env=30)
print(metrics)

# %%
model.schedule_training("hourly_sales", expression="0 * * * *", hyperparameters={"C": 0.5}, sqlite_query=0.5, env=30)
"""

NOTEBOOK_FLYTE2 = """
import json
import flyte
from notebook import tasks, triggers
run = flyte.with_runcontext(mode="local").run(tasks.sales_model_train, **triggers.hourly_sales.inputs)
print(json.dumps(run.outputs()[2]))
"""

NOTEBOOK_UNIONML = """
import importlib.util, json
spec = importlib.util.spec_from_file_location("notebook_app", "app.py")
app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app)  # trains once at the top level, as the notebook does
print(json.dumps(app.metrics))
"""


def test_a_notebook_style_sql_app_with_a_helper_package_trains_under_flyte2_as_unionml_does(shop, tmp_path):
    app_dir = tmp_path / "notebook"
    (app_dir / "helpers").mkdir(parents=True)
    (app_dir / "helpers" / "__init__.py").write_text("def clean(frame):\n    return frame.dropna()\n")
    (app_dir / "app.py").write_text(NOTEBOOK)
    shutil.copy(shop / "shop.sqlite", app_dir / "shop.sqlite")
    generate(app_dir / "app.py", tmp_path / "out", Options(target="flyte2"))
    tasks = (tmp_path / "out" / "notebook" / "tasks.py").read_text()
    assert "    sqlite_query as sqlite_query_2,\n" in tasks  # the module steps aside for the input of its name
    assert "return sqlite_query_2.read(" in tasks
    assert '"SELECT x2, y FROM mock_table WHERE x1 >= {{ .inputs.sqlite_query }} LIMIT {{ .inputs.env }}",' in tasks
    assert (tmp_path / "out" / "helpers" / "__init__.py").exists()
    shutil.copy(shop / "shop.sqlite", tmp_path / "out" / "shop.sqlite")  # the uri is relative: where the task runs
    expected = json.loads(run_python(NOTEBOOK_UNIONML, cwd=app_dir).stdout.strip().splitlines()[-1])
    assert set(expected) == {"train", "test"} and expected["train"] < 1.0  # a fit that can differ
    assert run_flyte2(NOTEBOOK_FLYTE2, cwd=tmp_path / "out") == expected


def read(source: str):
    diagnostics = Diagnostics("app.py")
    app = read_app(textwrap.dedent(source), "app.py", None, "app", diagnostics)
    return app, diagnostics


COMPONENTS = APP[APP.index("\n\n@model.trainer") : APP.index("\n\nmodel.schedule_training")]
IMPORTS = APP[: APP.index("sqlite_task = ")]


@pytest.mark.parametrize("spelling", ["Dataset.from_sqlite_task", "Dataset.from_sqlalchemy_task"])
def test_the_reader_interface_comes_from_the_task(spelling):
    source = (
        IMPORTS
        + (
            "from flytekitplugins.sqlalchemy import SQLAlchemyConfig, SQLAlchemyTask\n"
            "from datetime import datetime\n"
            "task = SQLAlchemyTask('q', 'select * from t where ts > {{ .inputs.since }} limit {{.INPUTS.limit}}',\n"
            "    task_config=SQLAlchemyConfig(uri='sqlite://'),\n"
            "    inputs={'since': datetime, 'limit': int}, output_schema_type=pd.DataFrame)\n"
            f"dataset = {spelling}(task, 'data', targets=['y'])\n"
            "model = Model(init=LogisticRegression, dataset=dataset)\n"
        )
        + COMPONENTS.replace("{{", "{").replace("}}", "}")
    )
    app, diagnostics = read(source)
    assert not diagnostics.errors, diagnostics.render(source)
    dataset = app.datasets["dataset"]
    assert dataset.reader_is_task and dataset.name == "data" and dataset.targets == ("y",)
    reader = dataset.components["reader"].function
    assert reader.name == "task"
    assert [(p.name, p.kind, p.annotation.text) for p in reader.parameters] == [
        ("since", "keyword_only", "datetime"),
        ("limit", "keyword_only", "int"),
    ]
    assert reader.returns.text == "pd.DataFrame"
    # a namespace package installs as its plugin's distribution, not as `flytekitplugins`
    assert "flytekitplugins.sqlalchemy" in app.third_party_modules
    assert "flytekitplugins" not in app.third_party_modules


def test_namespace_plugins_map_to_their_distributions():
    assert requirement_module("flytekitplugins.sqlalchemy.task") == "flytekitplugins.sqlalchemy"
    assert distribution(requirement_module("flytekitplugins.sqlalchemy")) == "flytekitplugins-sqlalchemy"
    assert distribution(requirement_module("sklearn.linear_model")) == "scikit-learn"
    assert distribution(requirement_module("pandas")) == "pandas"


TASK = (
    "sqlite_task = SQLite3Task('q', 'select * from t limit {{.inputs.limit}}', inputs=kwtypes(limit=int),\n"
    "    output_schema_type=pd.DataFrame, task_config=SQLite3Config(uri='sqlite.db'))\n"
)


def used(old: str, new: str) -> str:
    """TASK with one change, and a dataset reading with it."""
    return TASK.replace(old, new) + "dataset = Dataset.from_sqlite_task(sqlite_task)\n"


@pytest.mark.parametrize(
    "statements, at, message",
    [
        ("other = 1\ndataset = Dataset.from_sqlite_task(other)\n", "other)", "must be a SQLite3Task(...)"),
        ("dataset = Dataset.from_sqlite_task(name='d')\n", "Dataset.from", "from_sqlite_task(...) needs the SQL task"),
        (
            used("output_schema_type=pd.DataFrame,", ""),
            "SQLite3Task(",
            "the SQL task 'sqlite_task' has no `output_schema_type=`",
        ),
        (
            used("kwtypes(limit=int)", "make_inputs()"),
            "make_inputs()",
            "cannot read the SQL task's inputs",
        ),
        (
            TASK + "dataset = Dataset.from_sqlite_task(sqlite_task)\n"
            "@dataset.reader\ndef reader() -> pd.DataFrame:\n    return pd.DataFrame()\n",
            "@dataset.reader",
            "reads with the SQL task 'sqlite_task'; unionml ignores a reader registered on it",
        ),
        (
            used(", task_config=SQLite3Config(uri='sqlite.db')", ""),
            "SQLite3Task(",
            "the SQLite3Task 'sqlite_task' has no `task_config=`: flytekit refuses it",
        ),
        (
            used("task_config=SQLite3Config(uri='sqlite.db')", "task_config=None"),
            "SQLite3Task(",
            "the SQLite3Task 'sqlite_task' has no `task_config=`: flytekit refuses it",
        ),
        (
            used("'select * from t limit {{.inputs.limit}}'", "123"),
            "123",
            "the SQL task 'sqlite_task': `query_template` is 123, not a str; flytekit cannot build or run the task",
        ),
        (
            used("uri='sqlite.db'", "uri=DB"),
            "DB)",
            "the SQL task 'sqlite_task': `uri` is 1, not a str",
        ),
        (
            used("limit {{.inputs.limit}}", "where day = {{ .Inputs.day }} limit {{.inputs.limit}}"),
            "SQLite3Task(",
            "uses `{{ .inputs.day }}`, which is not one of its inputs (limit); flytekit raises when the task runs",
        ),
        (
            used("kwtypes(limit=int)", "kwtypes(limit=int, day=str)"),
            "day=",
            "the input 'day' of the SQL task 'sqlite_task' is not used in its query; flytekit raises",
        ),
    ],
)
def test_sql_dataset_errors(statements, at, message):
    body = "DB = 1\n" + statements + "model = Model(init=LogisticRegression, dataset=dataset)\n"
    source = IMPORTS + body + COMPONENTS.replace("{{", "{").replace("}}", "}")
    app, diagnostics = read(source)
    errors = [d for d in diagnostics.errors if message in d.message]
    assert len(errors) == 1, diagnostics.render(source)
    assert not [d for d in diagnostics.errors if "has no reader" in d.message]  # no second error for the first
    if app is not None:  # the flyte2 target adds no error of its own for what both targets refuse
        before = len(diagnostics.errors)
        check_flyte2(app, diagnostics)
        assert len(diagnostics.errors) == before, diagnostics.render(source)
    index = source.index(at)
    line = source[:index].count("\n") + 1
    assert errors[0].position == Position(line, index - source.rfind("\n", 0, index))


# The query's placeholders against the task's inputs: refused exactly when flytekit's interpolation raises.

QUERIES = [
    ("select * from t limit {{.inputs.limit}}", ["limit"]),
    ("select * from t limit {{ .INPUTS.limit }}", ["limit"]),
    ("select * from t where a = {{.inputs.a}} and b = {{.inputs.a}}", ["a"]),
    ("select * from t limit {{ inputs.limit }}", ["limit"]),  # flytekit's `.` matches the space too
    ("select * from t limit {{.inputs.limit}}", ["limit", "day"]),
    ("select * from t where day = {{.inputs.day}}", []),
    ("select * from t limit {inputs.limit}", ["limit"]),
    ("select 1", []),
]


@pytest.mark.parametrize("query, inputs", QUERIES)
def test_query_inputs_are_refused_exactly_when_flytekit_raises(query, inputs):
    from flytekit.extras.sqlite3.task import SQLite3Task

    try:
        SQLite3Task.interpolate_query(query, **{name: 1 for name in inputs})
        flytekit_runs = True
    except ValueError:
        flytekit_runs = False
    task = (
        f"sqlite_task = SQLite3Task('q', {query!r}, inputs=kwtypes({', '.join(f'{n}=int' for n in inputs)}),\n"
        "    output_schema_type=pd.DataFrame, task_config=SQLite3Config(uri='sqlite.db'))\n"
    )
    body = (
        task
        + "dataset = Dataset.from_sqlite_task(sqlite_task)\nmodel = Model(init=LogisticRegression, dataset=dataset)\n"
    )
    source = IMPORTS + body + COMPONENTS.replace("{{", "{").replace("}}", "}")
    _, diagnostics = read(source)
    assert [d.code for d in diagnostics.errors if d.code != "UMG125"] == [], diagnostics.render(source)
    assert (not diagnostics.errors) == flytekit_runs, diagnostics.render(source)


@pytest.mark.parametrize(
    "change, at, message",
    [
        (
            ("task_config=SQLite3Config(uri='sqlite.db')", "task_config=SQLite3Config(uri=os.environ['DB'])"),
            "os.environ",
            "the SQLite3Task 'sqlite_task': this",
        ),
        (
            ("task_config=SQLite3Config(uri='sqlite.db')", "task_config=CONFIG"),
            "CONFIG)",
            "the SQLite3Task 'sqlite_task': `task_config` is not written as `SQLite3Config(uri=...)`",
        ),
        (
            ("'select * from t limit {{.inputs.limit}}'", "QUERY"),
            "QUERY",
            "the SQLite3Task 'sqlite_task': 'QUERY' is",
        ),
        (
            ("output_schema_type=pd.DataFrame", "output_schema_type=FlyteSchema"),
            "SQLite3Task(",
            "does not read its results as a pandas DataFrame",
        ),
        (
            ("output_schema_type=pd.DataFrame,", "output_schema_type=pd.DataFrame, cache=True,"),
            "cache=",
            "`cache=` of the SQLite3Task 'sqlite_task' is a flytekit task option the flyte2 target does not carry",
        ),
        (
            ("task_config=SQLite3Config(uri='sqlite.db')", "task_config=SQLite3Config(**OPTIONS)"),
            "SQLite3Config(**",
            "the SQLite3Task 'sqlite_task': `task_config` is not written as `SQLite3Config(uri=...)`",
        ),
        (
            ("SQLite3Config(uri='sqlite.db')", "SQLite3Config()"),
            "SQLite3Task(",
            "the SQLite3Task 'sqlite_task': no `uri` is given",
        ),
        (
            ("sqlite_task = SQLite3Task(", "sqlite_task = SQLAlchemyTask("),
            "SQLAlchemyTask(",
            "the SQL task 'sqlite_task' is a SQLAlchemyTask; the flyte2 target runs SQLite queries only",
        ),
    ],
)
def test_what_the_flyte2_target_cannot_run_is_refused_at_its_line(change, at, message):
    prelude = (
        "import os\nfrom flytekit.types.schema import FlyteSchema\n"
        "from flytekitplugins.sqlalchemy import SQLAlchemyTask\n"
        "CONFIG = SQLite3Config(uri='sqlite.db')\nQUERY = open('query.sql').read()\nOPTIONS = {'uri': 'x.db'}\n"
    )
    body = TASK.replace(*change) + "dataset = Dataset.from_sqlite_task(sqlite_task)\n"
    body += "model = Model(init=LogisticRegression, dataset=dataset)\n"
    source = IMPORTS + prelude + body + COMPONENTS.replace("{{", "{").replace("}}", "}")
    app, diagnostics = read(source)
    assert not diagnostics.errors, diagnostics.render(source)  # flyte1 keeps the flytekit task as it is
    check_flyte2(app, diagnostics)
    assert [d.code for d in diagnostics.errors] == ["UMG801"] and message in diagnostics.errors[0].message
    index = source.index(at, source.index("sqlite_task = "))
    line = source[:index].count("\n") + 1
    assert diagnostics.errors[0].position == Position(line, index - source.rfind("\n", 0, index))
