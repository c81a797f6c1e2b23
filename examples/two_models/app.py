"""Two models of one dataset, each with its own schedules."""

from typing import List

import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from unionml import Dataset, Model

dataset = Dataset(name="tumors", targets=["target"], test_size=0.2)
linear = Model(name="tumor_linear", init=LogisticRegression, dataset=dataset)
forest = Model(name="tumor_forest", init=RandomForestClassifier, dataset=dataset)


@dataset.reader
def reader(columns: int = 10) -> pd.DataFrame:
    frame = load_breast_cancer(as_frame=True).frame
    return frame[list(frame.columns[:columns]) + ["target"]]


def fit(estimator, features: pd.DataFrame, target: pd.DataFrame):
    return estimator.fit(features, target.squeeze())


def predict(estimator, features: pd.DataFrame) -> List[int]:
    return [int(label) for label in estimator.predict(features)]


def score(estimator, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(f1_score(target.squeeze(), predict(estimator, features)))


@linear.trainer
def train_linear(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return fit(estimator, features, target)


@linear.predictor
def predict_linear(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:
    return predict(estimator, features)


@linear.evaluator
def evaluate_linear(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return score(estimator, features, target)


@forest.trainer
def train_forest(
    estimator: RandomForestClassifier, features: pd.DataFrame, target: pd.DataFrame
) -> RandomForestClassifier:
    return fit(estimator, features, target)


@forest.predictor
def predict_forest(estimator: RandomForestClassifier, features: pd.DataFrame) -> List[int]:
    return predict(estimator, features)


@forest.evaluator
def evaluate_forest(estimator: RandomForestClassifier, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return score(estimator, features, target)


linear.schedule_training("daily_linear", expression="0 1 * * *", hyperparameters={"max_iter": 5000})
forest.schedule_training(
    "daily_forest", expression="0 3 * * *", hyperparameters={"n_estimators": 20, "random_state": 1}, columns=8
)
