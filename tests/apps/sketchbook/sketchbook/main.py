"""A sketch classifier laid out as unionml-demo's pictionary app: the app is `sketchbook/main.py`
inside its own package, importing its siblings absolutely, with a helper in `strokes/`, a
namespace package (no `__init__.py`)."""

from typing import List

import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from sketchbook.dataset import load_sketches
from sketchbook.trainer import fit_forest
from strokes.scale import SCALE
from unionml import Dataset, Model

dataset = Dataset(name="sketch_dataset", test_size=0.25, shuffle=True, random_state=7, targets=["label"])
model = Model(name="sketch_forest", init=RandomForestClassifier, dataset=dataset)


@dataset.reader
def reader(count: int = 300) -> pd.DataFrame:
    return load_sketches(count)


@model.trainer
def trainer(estimator: RandomForestClassifier, features: pd.DataFrame, target: pd.DataFrame) -> RandomForestClassifier:
    return fit_forest(estimator, features / SCALE, target)


@model.predictor
def predictor(estimator: RandomForestClassifier, features: pd.DataFrame) -> List[int]:
    return [int(x) for x in estimator.predict(features / SCALE)]


@model.evaluator
def evaluator(estimator: RandomForestClassifier, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(estimator.score(features / SCALE, target.squeeze()))


model.schedule_training(
    name="nightly_sketch_training",
    expression="0 2 * * *",
    hyperparameters={"n_estimators": 15, "random_state": 3},
)
