# Regression (fuzz F8): an import inside `with open('x'):` was copied with its context manager; pyflyte package failed on open('x')
"""Batch predictions for handwritten digits, from a committed model file and from the latest
model that a weekly training schedule produces.

`model.joblib` beside this file was written by unionml's `model.save(...)` after
`model.train(hyperparameters=HYPERPARAMETERS, time=datetime(2026, 11, 1), labeled=True)`.
"""

from datetime import datetime, timedelta
from typing import List

with open("x"):
    import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

import unionml

HYPERPARAMETERS = {"C": 0.1, "max_iter": 1000}

dataset = unionml.Dataset(name="digits_dataset", targets=["target"])
model = unionml.Model(name="digits_classifier", init=LogisticRegression, dataset=dataset)


@dataset.reader
def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
    """The day's snapshot: labeled rows for training, the next unlabeled rows for prediction."""
    frame = load_digits(as_frame=True).frame
    start = 20 * time.day
    if labeled:
        return frame.iloc[: 1000 + start]
    return frame.iloc[1000 + start : 1100 + start].drop(columns=["target"])


@model.trainer
def trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:
    return [int(x) for x in estimator.predict(features)]


@model.evaluator
def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(accuracy_score(target.squeeze(), predictor(estimator, features)))


model.schedule_training(
    "weekly_retraining",
    expression="0 3 * * MON",
    reader_time_arg="time",
    hyperparameters=HYPERPARAMETERS,
)

model.schedule_prediction(
    "daily_predictions",
    expression="0 6 * * *",
    reader_time_arg="time",
    model_file="model.joblib",
    loader_kwargs={"mmap_mode": None},
    labeled=False,
)

model.schedule_prediction(
    "hourly_predictions_with_latest_model",
    fixed_rate=timedelta(hours=1),
    reader_time_arg="time",
    model_version="latest",
    labeled=False,
)
