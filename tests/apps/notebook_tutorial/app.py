"""A tutorial written as a notebook: training, printing and plotting at the top level, between the
component definitions, and names the components also use bound by that top-level code."""

from typing import List

import pandas as pd
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from unionml import Dataset, Model

dataset = Dataset(name="iris_dataset", targets=["target"], test_size=0.3, random_state=7)
model = Model(name="iris_tree", init=DecisionTreeClassifier, dataset=dataset)


@dataset.reader
def reader(rows: int = 150) -> pd.DataFrame:
    data = load_iris(as_frame=True).frame
    return data.sample(frac=1.0, random_state=3).head(rows)


data = reader()
print(data.describe())
features = data.drop(columns=["target"])


@model.trainer
def trainer(estimator: DecisionTreeClassifier, features: pd.DataFrame, target: pd.DataFrame) -> DecisionTreeClassifier:
    features = features[sorted(features.columns)]
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: DecisionTreeClassifier, features: pd.DataFrame) -> List[int]:
    features = features[sorted(features.columns)]
    return [int(label) for label in estimator.predict(features)]


@model.evaluator
def evaluator(estimator: DecisionTreeClassifier, features: pd.DataFrame, target: pd.DataFrame) -> float:
    predictions = predictor(estimator, features)
    hits = 0
    for prediction, actual in zip(predictions, target.squeeze().tolist()):
        hits += int(prediction == actual)
    return hits / len(predictions)


model_object, metrics = model.train(hyperparameters={"max_depth": 3, "random_state": 0}, rows=120)
print(metrics)
predictions = model.predict(features=features.head())
print(predictions)
hits = sum(predictions)

try:
    import matplotlib.pyplot as plt

    plt.bar(["train", "test"], [metrics["train"], metrics["test"]])
    plt.savefig("metrics.png")
except ImportError:
    pass

model.schedule_training(
    "hourly_iris_training",
    expression="@hourly",
    hyperparameters={"max_depth": 3, "random_state": 0},
    rows=120,
)
