"""A wine classifier laid out like unionml's project template: app.py beside a requirements.txt and
a helper package (winery/) that the components import, with relative imports inside the package."""

from typing import List

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from unionml import Dataset, Model
from winery import FEATURE_COLUMNS
from winery.data import load_wine_frame
from winery.features import scaled

FEATURES = ["alcohol", "malic_acid", "ash", "magnesium", "flavanoids", "color_intensity", "proline"]
dataset = Dataset(name="wine_dataset", features=FEATURES, targets=["target"], test_size=0.25)
model = Model(name="wine_classifier", init=LogisticRegression, dataset=dataset)


@dataset.reader
def reader(limit: int = 178) -> pd.DataFrame:
    data = load_wine_frame(limit)
    data = scaled(data)
    return data


@dataset.feature_loader
def feature_loader(rows: List[dict]) -> pd.DataFrame:
    return scaled(pd.DataFrame(rows))[dataset._features]


@model.trainer
def trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    features = features.astype(float)
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:
    predictions = estimator.predict(features.astype(float))
    predictions = [int(label) for label in predictions]
    return predictions


@model.evaluator
def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(accuracy_score(target.squeeze(), predictor(estimator, features)))


model.remote(dockerfile="Dockerfile", project="wine", domain="development")

model.schedule_training(
    "nightly_wine_training",
    expression="0 2 * * *",
    hyperparameters={"C": 2.0, "max_iter": 2000},
    limit=150,
)


if __name__ == "__main__":
    model_object, metrics = model.train(hyperparameters={"C": 2.0, "max_iter": 2000}, limit=150)
    features = load_wine_frame(5)[FEATURE_COLUMNS]
    predictions = model.predict(features=features)
    print(model_object, metrics, predictions, sep="\n")
