# Regression (FINDINGS F1): resources= got unionml's default requests/limits beside it; pyflyte package failed
"""A UnionML app that classifies handwritten digits and retrains on a schedule.

The data ships with scikit-learn, so every schedule runs anywhere. The reader takes the
schedule's kickoff time and returns that day's snapshot: the first rows of the digits
data set, more of them later in the month.
"""

from datetime import datetime, timedelta
from typing import List

import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from flytekit import Resources
from unionml import Dataset, Model

ROWS_PER_DAY = 25
BASE_ROWS = 1000
HYPERPARAMETERS = {"C": 0.1, "max_iter": 1000}

dataset = Dataset(name="digits_dataset", test_size=0.2, shuffle=True, targets=["target"])
model = Model(name="digits_classifier", init=LogisticRegression, dataset=dataset)


def snapshot_size(time: datetime) -> int:
    return BASE_ROWS + ROWS_PER_DAY * time.day


@dataset.reader
def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
    data = load_digits(as_frame=True).frame.head(snapshot_size(time))
    return data if labeled else data.drop(columns=["target"])


@model.trainer(resources=Resources(cpu="2"))
def trainer(
    estimator: LogisticRegression,
    features: pd.DataFrame,
    target: pd.DataFrame,
) -> LogisticRegression:
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:
    return [int(x) for x in estimator.predict(features)]


@model.evaluator
def evaluator(
    estimator: LogisticRegression,
    features: pd.DataFrame,
    target: pd.DataFrame,
) -> float:
    return float(accuracy_score(target.squeeze(), predictor(estimator, features)))


model.schedule_training(
    name="cron_daily_training",
    expression="0 0 * * *",  # train at 12am every day
    reader_time_arg="time",
    hyperparameters=HYPERPARAMETERS,
)

model.schedule_training(
    name="non_standard_training_schedule",
    expression="@daily",
    reader_time_arg="time",
    hyperparameters={**HYPERPARAMETERS, "C": 1.0},
)

model.schedule_training(
    name="fixed_rate_training_schedule",
    fixed_rate=timedelta(days=1),
    reader_time_arg="time",
    hyperparameters=HYPERPARAMETERS,
    splitter_kwargs={"test_size": 0.25},
)


if __name__ == "__main__":
    model_object, metrics = model.train(hyperparameters=HYPERPARAMETERS, time=datetime(2026, 11, 29), labeled=True)
    print(metrics)
