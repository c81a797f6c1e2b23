"""A reader with typed collection inputs that schedules fix: a List[str], a Dict[str, int] and an Optional."""

from datetime import datetime, timedelta
from typing import Dict, List, Optional

import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from unionml import Dataset, Model

dataset = Dataset(targets=["target"])
model = Model(dataset=dataset, init=LogisticRegression)


@dataset.reader
def reader(
    time: datetime,
    columns: List[str] = [],
    limits: Dict[str, int] = {},
    scale: Optional[float] = None,
    labeled: bool = True,
) -> pd.DataFrame:
    frame = load_digits(as_frame=True).frame
    rows = limits.get("rows", 900) + time.day
    frame = frame.iloc[:rows]
    if columns:
        frame = frame[columns + ["target"]]
    if scale is not None:
        frame = frame.assign(**{c: frame[c] * scale for c in frame.columns if c != "target"})
    return frame if labeled else frame.drop(columns=["target"])


@model.trainer
def trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:
    return [int(label) for label in estimator.predict(features)]


@model.evaluator
def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(accuracy_score(target.squeeze(), predictor(estimator, features)))


model.schedule_training(
    name="daily_typed_training",
    expression="0 1 * * *",
    reader_time_arg="time",
    hyperparameters={"C": 0.5, "max_iter": 2000},
    columns=["pixel_0_2", "pixel_0_3", "pixel_1_2", "pixel_2_5"],
    limits={"rows": 1200, "cap": 3},
    scale=0.5,
)
model.schedule_training(
    name="hourly_empty_collections",
    fixed_rate=timedelta(hours=1),
    reader_time_arg="time",
    hyperparameters={"C": 0.1, "max_iter": 2000},
    columns=[],
    limits={},
)
model.schedule_prediction(
    name="daily_typed_predictions",
    expression="0 2 * * *",
    reader_time_arg="time",
    model_version="latest",
    columns=["pixel_0_2", "pixel_0_3", "pixel_1_2", "pixel_2_5"],
    limits={"rows": 1000},
    labeled=False,
)
