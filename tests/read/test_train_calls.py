"""read/train_calls.py: which `model.train(...)` a prediction schedule's model comes from, and its arguments."""

from __future__ import annotations

import datetime as dt
import textwrap

from unionml_codegen.diagnostics import Diagnostics
from unionml_codegen.read import read_app

HEAD = """
from datetime import datetime
from tempfile import NamedTemporaryFile
from typing import List

import pandas as pd
from sklearn.linear_model import LogisticRegression

from unionml import Dataset, Model

dataset = Dataset(targets=["target"])
model = Model(dataset=dataset, init=LogisticRegression)


@dataset.reader
def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
    return pd.DataFrame()


@model.trainer
def trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:
    return [int(label) for label in estimator.predict(features)]


@model.evaluator
def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return 1.0

"""


def _schedules(tail: str) -> dict:
    source = HEAD + textwrap.dedent(tail)
    diagnostics = Diagnostics("app.py")
    app = read_app(source, "app.py", None, "app", diagnostics)
    assert app is not None and not diagnostics.errors, diagnostics.render(source)
    return {s.name: s for s in app.schedules}


def _line(tail: str, text: str) -> int:
    return (HEAD + textwrap.dedent(tail)).splitlines().index(text) + 1


def test_each_of_the_guides_three_forms_is_tied_to_its_train_call():
    tail = """
    HP = {"C": 0.5}
    model.train(hyperparameters=HP, time=datetime(2026, 11, 1))
    model.schedule_prediction(name="artifact", expression="0 0 * * *", reader_time_arg="time", labeled=False)
    trained, _ = model.train(hyperparameters={"C": 2.0}, splitter_kwargs={"test_size": 0.3}, time=datetime(2026, 11, 2))
    model.schedule_prediction(name="object", expression="0 0 * * *", reader_time_arg="time", model_object=trained)
    with NamedTemporaryFile() as saved:
        model.save(saved.name, compress=3)
        model.schedule_prediction(name="file", expression="0 0 * * *", reader_time_arg="time", model_file=saved.name)
    """
    schedules = _schedules(tail)
    artifact, obj, file = (schedules[name].model_training for name in ("artifact", "object", "file"))
    assert artifact.via == "artifact" and artifact.call.position.line == _line(
        tail, "model.train(hyperparameters=HP, time=datetime(2026, 11, 1))"
    )
    assert artifact.call.arguments["hyperparameters"] == {"C": 0.5}
    assert artifact.call.arguments["reader_kwargs"] == {"time": dt.datetime(2026, 11, 1)}
    assert obj.via == "model_object" and obj.call.arguments["hyperparameters"] == {"C": 2.0}
    assert obj.call.arguments["splitter_kwargs"] == {"test_size": 0.3}
    assert file.via == "model_file" and file.saver_kwargs == {"compress": 3}
    assert file.call is obj.call  # model.save wrote the model of the last train call
    assert schedules["artifact"].model_training.call.problem is None


def test_positional_and_unpacked_arguments_map_to_model_trains_parameters():
    tail = """
    KW = {"time": datetime(2026, 1, 1), "parser_kwargs": {"targets": ["target"]}}
    model.train({"C": 1.0}, None, {"test_size": 0.5}, **KW)
    model.schedule_prediction(name="p", expression="0 0 * * *", reader_time_arg="time")
    """
    arguments = _schedules(tail)["p"].model_training.call.arguments
    assert arguments == {
        "hyperparameters": {"C": 1.0}, "loader_kwargs": {}, "splitter_kwargs": {"test_size": 0.5},
        "parser_kwargs": {"targets": ["target"]}, "trainer_kwargs": {}, "reader_kwargs": {"time": dt.datetime(2026, 1, 1)},
    }  # fmt: skip


def test_an_argument_the_generator_cannot_evaluate_is_kept_as_the_calls_problem_at_its_place():
    tail = """
    def load_config():
        return {"C": 1.0}
    model.train(hyperparameters=load_config(), time=datetime(2026, 1, 1))
    model.schedule_prediction(name="p", expression="0 0 * * *", reader_time_arg="time")
    """
    call = _schedules(tail)["p"].model_training.call
    assert call.arguments is None
    where, why = call.problem
    assert where.line == _line(tail, "model.train(hyperparameters=load_config(), time=datetime(2026, 1, 1))")
    assert where.column == len("model.train(hyperparameters=") + 1
    assert why.startswith("`hyperparameters=load_config()`: the call to 'load_config' cannot be evaluated")


def test_a_name_or_path_changed_after_the_train_call_is_not_followed():
    tail = """
    trained, _ = model.train(time=datetime(2026, 1, 1))
    trained = LogisticRegression()
    model.schedule_prediction(name="rebound", expression="0 0 * * *", reader_time_arg="time", model_object=trained)
    result = model.train(time=datetime(2026, 1, 1))
    model.schedule_prediction(name="tuple", expression="0 0 * * *", reader_time_arg="time", model_object=result)
    with NamedTemporaryFile() as saved:
        model.save(saved.name)
    with NamedTemporaryFile() as saved:
        model.schedule_prediction(name="other_file", expression="0 0 * * *", reader_time_arg="time",
                                  model_file=saved.name)
    """
    schedules = _schedules(tail)
    assert all(schedules[name].model_training is None for name in ("rebound", "tuple", "other_file"))


def test_schedules_with_a_model_of_their_own_are_not_tied_to_a_train_call():
    tail = """
    model.train(time=datetime(2026, 1, 1))
    model.schedule_prediction(name="file", expression="0 0 * * *", reader_time_arg="time", model_file="m.joblib")
    model.schedule_prediction(name="version", expression="0 0 * * *", reader_time_arg="time", model_version="latest")
    model.schedule_training(name="train", expression="0 0 * * *", reader_time_arg="time")
    """
    assert all(s.model_training is None for s in _schedules(tail).values())
