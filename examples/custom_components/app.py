"""A dataset of plain records (a list of dicts) with its own loader, splitter and parser in place of
unionml's pandas defaults: no pandas anywhere."""

import random
from typing import Dict, List, Optional, Tuple

from sklearn.linear_model import LinearRegression

from unionml import Dataset, Model

Records = List[Dict[str, float]]

dataset = Dataset(features=["x", "z"], targets=["y"], test_size=0.25, shuffle=True, random_state=11)
model = Model(name="line", init=LinearRegression, dataset=dataset)


@dataset.reader
def reader(samples: int = 80) -> Records:
    noise = random.Random(5)
    return [{"x": float(i), "z": float(i % 7), "y": 3.0 * i - 2.0 * (i % 7) + noise.random()} for i in range(samples)]


@dataset.loader
def loader(data: Records) -> Records:
    return [row for row in data if row["x"] >= 0.0]


@dataset.splitter
def splitter(data: Records, test_size: float, shuffle: bool, random_state: int) -> Tuple[Records, Records]:
    data = list(data)
    if shuffle:
        random.Random(random_state).shuffle(data)
    cut = len(data) - int(len(data) * test_size)
    return data[:cut], data[cut:]


@dataset.parser
def parser(data: Records, features: Optional[List[str]], targets: List[str]) -> Tuple[List[List[float]], List[float]]:
    features = [] if features is None else features
    return [[row[name] for name in features] for row in data], [row[targets[0]] for row in data]


@model.trainer
def trainer(estimator: LinearRegression, features: List[List[float]], target: List[float]) -> LinearRegression:
    return estimator.fit(features, target)


@model.predictor
def predictor(estimator: LinearRegression, features: List[List[float]]) -> List[float]:
    return [float(value) for value in estimator.predict(features)]


@model.evaluator
def evaluator(estimator: LinearRegression, features: List[List[float]], target: List[float]) -> float:
    return float(estimator.score(features, target))


model.schedule_training("records_training", expression="0 0 * * MON", hyperparameters={}, samples=60)
