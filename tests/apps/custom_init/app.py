"""A model built by a custom `@model.init` function, as unionml's own test fixtures do."""

from typing import List

import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from unionml import Dataset, Model

dataset = Dataset(name="digits_dataset", targets=["target"])
model = Model(name="scaled_digits", dataset=dataset)


@model.init
def init(hyperparameters: dict) -> Pipeline:
    hyperparameters = dict(hyperparameters)
    scale = hyperparameters.pop("scale", True)
    steps = [("scale", StandardScaler())] if scale else []
    return Pipeline(steps + [("classify", LogisticRegression(**hyperparameters))])


@dataset.reader
def reader(rows: int = 600) -> pd.DataFrame:
    return load_digits(as_frame=True).frame.head(rows)


@model.trainer
def trainer(estimator: Pipeline, features: pd.DataFrame, target: pd.DataFrame) -> Pipeline:
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: Pipeline, features: pd.DataFrame) -> List[int]:
    return [int(label) for label in estimator.predict(features)]


@model.evaluator
def evaluator(estimator: Pipeline, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(estimator.score(features, target.squeeze()))


model.schedule_training("daily_scaled", expression="@daily", hyperparameters={"C": 0.5, "max_iter": 3000})
