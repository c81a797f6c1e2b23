"""The extraction stage (extract.py, assembled by analyze.read_app) on small inline apps.

`read(body)` reads HEADER (three lines: the imports, `dataset` and `model`), then `body`, then
COMPONENTS (a reader, trainer, predictor and evaluator), so a body's first line is line 4.
Tests that need other objects pass their own `header=`; tests of registration pass
`components=` with the registrations under test taken out.
"""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from unionml_codegen.read import read_app
from unionml_codegen.diagnostics import Diagnostic, Diagnostics, Position
from ..inline_apps import COMPONENTS, HEADER
from unionml_codegen.spec import App, Expression


def source_of(body: str, header: str = HEADER, components: str = COMPONENTS) -> str:
    return header + textwrap.dedent(body) + components


def read(body: str, header: str = HEADER, components: str = COMPONENTS) -> tuple[App | None, Diagnostics]:
    """Read the app `header` + `body` (dedented) + `components`."""
    diagnostics = Diagnostics("app.py")
    app = read_app(source_of(body, header, components), "app.py", None, "app", diagnostics)
    return app, diagnostics


def read_ok(body: str, header: str = HEADER, components: str = COMPONENTS) -> App:
    app, diagnostics = read(body, header, components)
    assert app is not None and not diagnostics.items, diagnostics.render(source_of(body, header, components))
    return app


def only_error(diagnostics: Diagnostics) -> Diagnostic:
    messages = [d.message for d in diagnostics.errors]
    assert len(messages) == 1, messages
    return diagnostics.errors[0]


# the unionml objects


@pytest.mark.parametrize(
    "header",
    [
        """\
        from unionml import Dataset, Model
        dataset = Dataset(name="digits")
        model = Model(name="clf", init=dict, dataset=dataset)
        """,
        """\
        import unionml as uml
        dataset = uml.Dataset(name="digits")
        model = uml.Model(name="clf", init=dict, dataset=dataset)
        """,
        """\
        from unionml import Dataset as D, Model as M
        dataset = D(name="digits")
        model = M(name="clf", init=dict, dataset=dataset)
        """,
        """\
        import unionml
        dataset = unionml.Dataset(name="digits")
        model = unionml.Model(name="clf", init=dict, dataset=dataset)
        """,
        """\
        from unionml.dataset import Dataset
        from unionml.model import Model
        dataset = Dataset(name="digits")
        model = Model(name="clf", init=dict, dataset=dataset)
        """,
    ],
    ids=["from-import", "import-as", "from-import-as", "import", "submodules"],
)
def test_import_spellings(header):
    app = read_ok('model.schedule_training("daily", expression="@daily")\n', header=textwrap.dedent(header))
    assert app.datasets["dataset"].name == "digits"
    assert app.models["model"].name == "clf"
    assert app.models["model"].dataset == "dataset"
    assert set(app.datasets["dataset"].components) == {"reader"}
    assert set(app.models["model"].components) == {"trainer", "predictor", "evaluator"}
    assert [(s.name, s.model) for s in app.schedules] == [("daily", "model")]


def test_classes_named_dataset_and_model_from_another_library_are_not_unionml():
    app, diagnostics = read(
        """\
        from mylib import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        """,
        header="",
    )
    assert app.models == {} and app.datasets == {}
    assert only_error(diagnostics).message == "no unionml Model found"


def test_unionml_defaults():
    app = read_ok("")
    dataset, model = app.datasets["dataset"], app.models["model"]
    assert (dataset.name, dataset.features, dataset.targets) == ("dataset", None, None)
    assert (dataset.test_size, dataset.shuffle, dataset.random_state) == (0.2, True, 12345)
    assert (model.name, model.init, model.hyperparameter_config) == ("model", Expression("dict", frozenset({"dict"})), None)
    assert dataset.position == Position(2, 11)
    assert model.position == Position(3, 9)


def test_dataset_arguments():
    app = read_ok(
        """\
        from unionml import Dataset, Model
        SEED = 7
        dataset = Dataset(
            name="digits", features=["a", "b"], targets="y", test_size=1 / 4, shuffle=False, random_state=SEED
        )
        model = Model(init=dict, dataset=dataset)
        """,
        header="",
    )
    dataset = app.datasets["dataset"]
    assert dataset.name == "digits"
    assert dataset.features == ("a", "b")
    assert dataset.targets == ("y",)
    assert dataset.splitter_defaults == {"test_size": 0.25, "shuffle": False, "random_state": 7}
    assert dataset.parser_defaults == {"features": ["a", "b"], "targets": ["y"]}


def test_model_arguments_name_and_init_positionally():
    app = read_ok(
        """\
        from functools import partial
        from sklearn.linear_model import LogisticRegression
        from unionml import Dataset, Model
        dataset = Dataset("data")
        model = Model("clf", partial(LogisticRegression, max_iter=100), dataset=dataset)
        """,
        header="",
    )
    model = app.models["model"]
    assert model.name == "clf"
    assert model.init == Expression("partial(LogisticRegression, max_iter=100)", frozenset({"partial", "LogisticRegression"}))
    assert app.datasets["dataset"].name == "data"


def test_hyperparameter_config_is_kept_as_code():
    app = read_ok("", header=HEADER.replace("dataset=dataset)", 'dataset=dataset, hyperparameter_config={"C": float})'))
    assert app.models["model"].hyperparameter_config == Expression('{"C": float}', frozenset({"float"}))


def test_two_models_in_one_app():
    app = read_ok(
        """\
        import pandas as pd
        from unionml import Dataset, Model
        dataset = Dataset()
        small = Model(name="small", init=dict, dataset=dataset)
        large = Model(name="large", init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> pd.DataFrame:
            return pd.DataFrame()

        @small.trainer
        def train_small(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> dict:
            return estimator

        @large.trainer
        def train_large(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> dict:
            return estimator

        @small.predictor
        @large.predictor
        def predictor(estimator: dict, features: pd.DataFrame) -> list:
            return []

        @small.evaluator
        @large.evaluator
        def evaluator(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> float:
            return 1.0

        small.schedule_training("small_daily", expression="@daily")
        large.schedule_training("large_weekly", expression="@weekly")
        """,
        header="",
        components="",
    )
    assert {v: m.name for v, m in app.models.items()} == {"small": "small", "large": "large"}
    assert app.models["small"].components["trainer"].function.name == "train_small"
    assert app.models["large"].components["trainer"].function.name == "train_large"
    assert app.models["large"].components["predictor"].function.name == "predictor"
    assert [(s.name, s.model) for s in app.schedules] == [("small_daily", "small"), ("large_weekly", "large")]


@pytest.mark.parametrize(
    "snippet, line, column, message",
    [
        ("dataset = Dataset(size=3)", 2, 19, "Dataset(...) has no parameter 'size'"),
        ('dataset = Dataset("a", "b")', 2, 24, "Dataset(...) takes at most 1 positional argument(s)"),
        ("dataset = Dataset(**OPTIONS)", 2, 19, "`**` arguments to Dataset(...) are not read"),
        ("model = Model(init=dict)", 3, 9, "Model(...) needs `dataset=`"),
        ('model = Model(init=dict, dataset="dataset")', 3, 34, "must be a unionml Dataset"),
        ("model = model_b = Model(init=dict, dataset=dataset)", 3, 19, "assign the unionml model to one plain name"),
    ],
)
def test_dataset_and_model_argument_errors(snippet, line, column, message):
    lines = HEADER.splitlines()
    lines[line - 1] = snippet
    app, diagnostics = read("", header="\n".join(lines) + "\n")
    error = diagnostics.errors[0]
    assert error.position == Position(line, column), [str(d) for d in diagnostics.errors]
    assert message in error.message


# components


def test_component_functions_and_their_signatures():
    app = read_ok(
        """\
        import pandas as pd

        @model.trainer
        def trainer(estimator: dict, features: pd.DataFrame, target, *, epochs: int = 10, **extra) -> dict:
            return estimator
        """,
        components=COMPONENTS.replace("@model.trainer\n", ""),
    )
    trainer = app.models["model"].components["trainer"]
    assert trainer.position == Position(6, 1)  # the decorator
    function = trainer.function
    assert function.name == "trainer"
    assert function.position == Position(7, 5)
    assert [(p.name, p.kind) for p in function.parameters] == [
        ("estimator", "positional"),
        ("features", "positional"),
        ("target", "positional"),
        ("epochs", "keyword_only"),
        ("extra", "var_keyword"),
    ]
    assert function.parameter("features").annotation == Expression("pd.DataFrame", frozenset({"pd"}))
    assert function.parameter("target").annotation is None
    assert [(p.name, p.default) for p in function.keyword_only] == [("epochs", Expression("10"))]
    assert function.returns == Expression("dict", frozenset({"dict"}))


def test_a_decorator_with_task_options():
    app = read_ok(
        """\
        import pandas as pd
        from flytekit import Resources

        @model.trainer(cache=True, cache_version="1", requests=Resources(cpu="2"))
        def trainer(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> dict:
            return estimator
        """,
        components=COMPONENTS.replace("@model.trainer\n", ""),
    )
    trainer = app.models["model"].components["trainer"]
    assert trainer.function.name == "trainer"
    assert trainer.task_options == (
        ("cache", Expression("True")),
        ("cache_version", Expression('"1"')),
        ("requests", Expression('Resources(cpu="2")', frozenset({"Resources"}))),
    )
    assert trainer.position == Position(7, 1)


def test_registration_by_call():
    app = read_ok(
        """\
        import pandas as pd

        def read_fn(sample_frac: float = 1.0) -> pd.DataFrame:
            return pd.DataFrame()

        def predict_fn(estimator: dict, features: pd.DataFrame) -> list:
            return []

        dataset.reader(read_fn)
        model.predictor(predict_fn, cache=True)
        """,
        components=COMPONENTS.replace("@dataset.reader\n", "").replace("@model.predictor\n", ""),
    )
    reader = app.datasets["dataset"].components["reader"]
    assert reader.function.name == "read_fn"
    assert reader.position == Position(12, 1)
    predictor = app.models["model"].components["predictor"]
    assert predictor.function.name == "predict_fn"
    assert predictor.task_options == (("cache", Expression("True")),)


def test_the_last_registration_wins():
    app = read_ok(
        """\
        import pandas as pd

        @model.trainer(cache=True)
        def first_trainer(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> dict:
            return estimator

        @model.trainer
        def second_trainer(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> dict:
            return estimator

        @dataset.reader
        def read_first() -> pd.DataFrame:
            return pd.DataFrame()

        def read_second() -> pd.DataFrame:
            return pd.DataFrame()

        dataset.reader(read_second)
        """,
        components=COMPONENTS.replace("@model.trainer\n", "").replace("@dataset.reader\n", ""),
    )
    trainer = app.models["model"].components["trainer"]
    assert (trainer.function.name, trainer.task_options, trainer.position) == ("second_trainer", (), Position(10, 1))
    assert app.datasets["dataset"].components["reader"].function.name == "read_second"


def test_a_later_call_replaces_a_decorator():
    app = read_ok(
        """\
        def other_predictor(estimator: dict, features: list) -> list:
            return []
        """,
        components=COMPONENTS + "\nmodel.predictor(other_predictor)\n",
    )
    assert app.models["model"].components["predictor"].function.name == "other_predictor"


@pytest.mark.parametrize(
    "registration, message",
    [
        ("@model.evaluator(cache=True)", "`cache=`: unionml's model.evaluator takes no options"),
        ("@model.trainer(True)", "@model.trainer(...) takes task options by keyword only"),
    ],
)
def test_task_option_errors(registration, message):
    app, diagnostics = read(
        registration + "\ndef component(estimator: dict, features: list, target: list) -> float:\n    return 1.0\n"
    )
    error = only_error(diagnostics)
    assert error.position == Position(4, 1)
    assert message in error.message


def test_registration_by_call_needs_one_function_name():
    app, diagnostics = read("dataset.reader(lambda: None)\n")
    error = only_error(diagnostics)
    assert error.position == Position(4, 1)
    assert "dataset.reader(...) must be given one function by name" in error.message


def test_a_registered_function_must_be_defined_in_the_app():
    app, diagnostics = read(
        "from helpers import read_fn\ndataset.reader(read_fn)\n",
        components=COMPONENTS.replace("@dataset.reader\n", ""),
    )
    error = only_error(diagnostics)
    assert error.position == Position(5, 1)
    assert "the dataset reader 'read_fn' is not a function defined in the app" in error.message


@pytest.mark.parametrize("role", ["trainer", "predictor", "evaluator"])
def test_a_model_needs_trainer_predictor_and_evaluator(role):
    app, diagnostics = read("", components=COMPONENTS.replace(f"@model.{role}\n", ""))
    error = only_error(diagnostics)
    assert error.position == Position(3, 9)  # the Model(...) call
    assert error.message == f"the model 'model' has no {role}"
    assert f"@model.{role}" in error.hint
    assert role not in app.models["model"].components


def test_a_dataset_needs_a_reader():
    app, diagnostics = read("", components=COMPONENTS.replace("@dataset.reader\n", ""))
    error = only_error(diagnostics)
    assert error.position == Position(2, 11)  # the Dataset(...) call
    assert error.message == "the dataset 'dataset' has no reader"


# schedules


def test_schedule_name_positional_or_keyword():
    app = read_ok("""\
        model.schedule_training("positional", expression="@daily")
        model.schedule_training(name="keyword", expression="@daily")
        model.schedule_training(expression="@daily", name="keyword_last")
        """)
    assert [s.name for s in app.schedules] == ["positional", "keyword", "keyword_last"]
    assert [s.position for s in app.schedules] == [Position(4, 1), Position(5, 1), Position(6, 1)]
    assert app.schedules[0].at("name") == Position(4, 25)
    assert app.schedules[1].at("name") == Position(5, 30)


def test_schedule_training_defaults():
    (schedule,) = read_ok('model.schedule_training("daily", expression="0 0 * * *")\n').schedules
    assert schedule.kind == "training"
    assert schedule.model == "model"
    assert schedule.expression == "0 0 * * *"
    assert (schedule.offset, schedule.fixed_rate, schedule.reader_time_arg) == (None, None, None)
    assert schedule.activate_on_deploy is True
    assert schedule.launchplan_kwargs == schedule.hyperparameters == schedule.trainer_kwargs == {}
    assert schedule.loader_kwargs == schedule.splitter_kwargs == schedule.parser_kwargs == {}
    assert schedule.reader_kwargs == {}
    assert schedule.model_source is None
    assert schedule.model_train_call is None


def test_schedule_training_with_every_argument():
    (schedule,) = read_ok("""\
        from datetime import timedelta
        model.schedule_training(
            "every_argument",
            expression=None,
            offset="PT5M",
            fixed_rate=timedelta(hours=6),
            reader_time_arg="sample_frac",
            activate_on_deploy=False,
            launchplan_kwargs={"max_parallelism": 4},
            hyperparameters={"C": 0.5, "max_iter": 1000},
            loader_kwargs={"dropna": True},
            splitter_kwargs={"test_size": 0.1},
            parser_kwargs={"features": ["a"]},
            trainer_kwargs={"epochs": 3},
            labeled=False,
            sample_frac=0.5,
        )
        """).schedules
    assert schedule.name == "every_argument"
    assert schedule.expression is None
    assert schedule.offset == "PT5M"
    assert schedule.fixed_rate == timedelta(hours=6)
    assert schedule.reader_time_arg == "sample_frac"
    assert schedule.activate_on_deploy is False
    assert schedule.launchplan_kwargs == {"max_parallelism": 4}
    assert schedule.hyperparameters == {"C": 0.5, "max_iter": 1000}
    assert schedule.loader_kwargs == {"dropna": True}
    assert schedule.splitter_kwargs == {"test_size": 0.1}
    assert schedule.parser_kwargs == {"features": ["a"]}
    assert schedule.trainer_kwargs == {"epochs": 3}
    assert schedule.reader_kwargs == {"labeled": False, "sample_frac": 0.5}
    assert schedule.at("hyperparameters") == Position(13, 21)
    assert schedule.at("labeled") == Position(18, 13)


def test_schedule_arguments_from_a_double_star_constant():
    (schedule,) = read_ok("""\
        COMMON = {"expression": "@hourly", "hyperparameters": {"C": 2.0}, "labeled": False}
        model.schedule_training("s", **COMMON)
        """).schedules
    assert (schedule.expression, schedule.hyperparameters) == ("@hourly", {"C": 2.0})
    assert schedule.reader_kwargs == {"labeled": False}
    assert schedule.at("expression") == Position(5, 30)


def test_schedule_prediction():
    app = read_ok("""\
        model.train(hyperparameters={"C": 1.0})
        model.schedule_prediction("latest", expression="@daily", model_version="latest", labeled=False)
        model.schedule_prediction("from_file", expression="@daily", model_file="model.joblib")
        model.schedule_prediction("trained", expression="@daily", loader_kwargs={"mmap_mode": "r"})
        model.schedule_prediction("object", expression="@daily", model_object=model.artifact.model_object)
        """)
    latest, from_file, trained, obj = app.schedules
    assert {s.kind for s in app.schedules} == {"prediction"}
    assert (latest.model_source, latest.reader_kwargs) == ({"model_version": "latest"}, {"labeled": False})
    assert from_file.model_source == {"model_file": "model.joblib"}
    assert (trained.model_source, trained.loader_kwargs) == ({}, {"mmap_mode": "r"})
    assert trained.model_train_call == Position(4, 1)
    assert obj.model_source == {"model_object": Expression("model.artifact.model_object", frozenset({"model"}))}


def test_the_last_train_call_before_a_schedule_is_its_model():
    app = read_ok("""\
        model.schedule_prediction("before", expression="@daily")
        model.train(hyperparameters={"C": 1.0})
        model_object, metrics = model.train(hyperparameters={"C": 2.0})
        model.schedule_prediction("after", expression="@daily")
        """)
    assert [s.model_train_call for s in app.schedules] == [None, Position(6, 25)]


@pytest.mark.parametrize(
    "call, column, message",
    [
        ('model.schedule_training(expression="@daily")', 1, "model.schedule_training(...) needs a name"),
        ('model.schedule_training("a", "@daily")', 30, "takes only the name positionally"),
        ('model.schedule_training(1, expression="@daily")', 25, "a schedule name must be a string"),
        ('model.schedule_training("a", hyperparameters=[1])', 46, "`hyperparameters` must be a dict"),
        ('model.schedule_training("a", trainer_kwargs=None, loader_kwargs=1)', 65, "`loader_kwargs` must be a dict"),
        ('model.schedule_training("a", fixed_rate=3600)', 41, "`fixed_rate` must be a timedelta"),
        ('model.schedule_training("a", expression=5)', 41, "`expression` must be a string"),
        ('model.schedule_prediction("a", model_version=2)', 46, "`model_version` must be a string"),
        ('model.schedule_training("a", expression=CRON)', 41, "'CRON' is assigned from an expression"),
    ],
)
def test_schedule_argument_errors(call, column, message):
    app, diagnostics = read('import os\nCRON = os.environ["CRON"]\n' + call + "\n")
    error = only_error(diagnostics)
    assert error.position == Position(6, column)
    assert message in error.message
    assert app.schedules == ()


# where unionml calls may be


def test_calls_inside_with_and_try_bodies_are_found():
    app = read_ok("""\
        import contextlib
        with contextlib.suppress(ImportError):
            model.schedule_training("in_with", expression="@daily")
        try:
            model.schedule_training("in_try", expression="@daily")
        except ImportError:
            pass
        finally:
            model.schedule_training("in_finally", expression="@daily")
        with contextlib.suppress(ImportError): model.schedule_training("one_line_with", expression="@daily")
        try: model.schedule_training("one_line_try", expression="@daily")
        finally: pass
        """)
    assert [s.name for s in app.schedules] == ["in_with", "in_try", "in_finally", "one_line_with", "one_line_try"]


def test_a_for_loop_over_a_literal_list_is_unrolled():
    app = read_ok("""\
        for C in [0.1, 1.0, 10.0]:
            model.schedule_training(f"train_C_{C}", expression="@daily", hyperparameters={"C": C})
        """)
    assert [(s.name, s.hyperparameters) for s in app.schedules] == [
        ("train_C_0.1", {"C": 0.1}),
        ("train_C_1.0", {"C": 1.0}),
        ("train_C_10.0", {"C": 10.0}),
    ]
    assert {s.position for s in app.schedules} == {Position(5, 5)}


def test_a_for_loop_over_a_module_constant_tuple_is_unrolled():
    app = read_ok("""\
        SCHEDULES = (("hourly", "@hourly"), ("daily", "@daily"), ("weekly", "@weekly"))
        for period, cron in SCHEDULES:
            model.schedule_training(f"{period}_training", expression=cron)
        else:
            model.schedule_training("after_loop", expression=cron)
        for n in ["one_line"]: model.schedule_training(n, expression="@daily")
        """)
    assert [(s.name, s.expression) for s in app.schedules] == [
        ("hourly_training", "@hourly"),
        ("daily_training", "@daily"),
        ("weekly_training", "@weekly"),
        ("after_loop", "@weekly"),
        ("one_line", "@daily"),
    ]


def test_a_loop_variable_of_an_unknown_loop_is_unknown_after_it():
    app, diagnostics = read("""\
        import os
        C = 1.0
        for C in os.listdir("."):
            pass
        model.schedule_training("s", expression="@daily", hyperparameters={"C": C})
        """)
    error = only_error(diagnostics)
    assert error.position == Position(8, 73)
    assert "'C' is assigned from an expression the generator cannot evaluate (line 6)" in error.message


@pytest.mark.parametrize(
    "snippet, line, column, where",
    [
        (
            """\
            def make_schedules():
                model.schedule_training("s", expression="@daily")
            """,
            5, 5, "inside a function",
        ),
        (
            """\
            import sys
            if sys.platform == "linux":
                model.schedule_training("s", expression="@daily")
            """,
            6, 5, "inside an `if` block",
        ),
        (
            """\
            DEPLOY = True
            if DEPLOY:
                pass
            else:
                model.schedule_training("s", expression="@daily")
            """,
            8, 5, "inside an `else` block",
        ),
        (
            """\
            if __name__ == "__main__":
                model.schedule_training("s", expression="@daily")
            """,
            5, 5, "inside `if __name__ == '__main__'`",
        ),
        (
            """\
            while True:
                model.schedule_training("s", expression="@daily")
                break
            """,
            5, 5, "inside a `while` loop",
        ),
        (
            """\
            import os
            for name in os.listdir("."):
                model.schedule_training(name, expression="@daily")
            """,
            6, 5, "inside a `for` loop over a sequence the generator cannot evaluate",
        ),
        (
            """\
            try:
                import torch
            except ImportError:
                model.schedule_training("s", expression="@daily")
            """,
            7, 5, "inside an `except` block",
        ),
        (
            """\
            class Schedules:
                model.schedule_training("s", expression="@daily")
            """,
            5, 5, "inside a class body",
        ),
        (
            """\
            [model.schedule_training(f"s{i}", expression="@daily") for i in range(3)]
            """,
            4, 2, "nested inside another expression",
        ),
        (
            """\
            print(model.schedule_training("s", expression="@daily"))
            """,
            4, 7, "nested inside another expression",
        ),
        (
            """\
            import sys
            if sys.argv: model.schedule_training("s", expression="@daily")
            """,
            5, 14, "inside an `if` block",
        ),
        (
            """\
            import sys
            if sys.argv:
                def read_fn():
                    pass
                dataset.reader(read_fn)
            """,
            8, 5, "inside an `if` block",
        ),
        (
            """\
            import sys
            if sys.argv:
                @model.init
                def init(C: float = 1.0) -> dict:
                    return {}
            """,
            6, 5, "inside an `if` block",
        ),
    ],
    ids=[
        "function", "if", "else", "main-guard", "while", "for-unknown", "except", "class", "comprehension",
        "call-argument", "one-line-if", "registration-call", "decorator",
    ],
)  # fmt: skip
def test_unionml_calls_that_would_run_conditionally_are_errors(snippet, line, column, where):
    app, diagnostics = read(snippet)
    errors = diagnostics.errors
    assert errors, "no error reported"
    assert {d.position for d in errors} == {Position(line, column)}, diagnostics.render(source_of(snippet))
    assert where in errors[0].message
    assert "cannot know whether or how often it runs" in errors[0].message
    assert "top level" in errors[0].hint
    assert app.schedules == ()


def test_model_train_under_the_main_guard_is_fine():
    app = read_ok("""\
        model.schedule_training("daily", expression="@daily")
        model.schedule_prediction("predict", expression="@daily", model_version="latest")
        if __name__ == "__main__":
            model.train(hyperparameters={"C": 1.0})
            print(model.predict(features=[[1.0]]))
        """)
    assert [s.name for s in app.schedules] == ["daily", "predict"]
    assert app.schedules[1].model_train_call is None


def test_a_syntax_error_is_reported_where_python_finds_it():
    diagnostics = Diagnostics("app.py")
    source = HEADER + 'model.schedule_training("s", expression="@daily" hyperparameters={})\n'
    assert read_app(source, "app.py", None, "app", diagnostics) is None
    error = only_error(diagnostics)
    assert error.position == Position(4, 41)  # Python points at `"@daily" hyperparameters`
    assert error.message.startswith("invalid syntax")


@pytest.mark.parametrize(
    "source, position",
    [
        ("x = 1\ny = = 2\n", Position(2, 5)),
        ("x = (1,\n", Position(1, 5)),
        ("def f(:\n    pass\n", Position(1, 7)),
    ],
)
def test_syntax_error_positions(source, position):
    diagnostics = Diagnostics("app.py")
    assert read_app(source, "app.py", None, "app", diagnostics) is None
    assert only_error(diagnostics).position == position


def test_import_star_is_an_error():
    app, diagnostics = read("from os.path import *\n")
    error = only_error(diagnostics)
    assert error.position == Position(4, 1)
    assert "`import *`" in error.message


@pytest.mark.parametrize(
    "where",
    ["def setup():\n    from datetime import timedelta\n", "class Config:\n    from datetime import timedelta\n"],
    ids=["function", "class"],
)
def test_an_import_inside_a_function_or_class_binds_no_module_name(where):
    app, diagnostics = read(where + 'model.schedule_training("s", fixed_rate=timedelta(days=1))\n')
    error = only_error(diagnostics)
    assert error.message == "the call to 'timedelta' cannot be evaluated without running the app"
