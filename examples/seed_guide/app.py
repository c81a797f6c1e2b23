"""Every schedule form of unionml's scheduling guide in one app: three training schedules (a cron
expression, a croniter keyword, a fixed rate) and four prediction schedules (the model trained by
`model.train(...)`, a `model_object`, a `model_file` with `loader_kwargs`, a `model_version` with
an `app_version`).

The generator cannot know the model behind the first three prediction forms; `generate.args`
binds each to `model.joblib` (a digits classifier written by unionml's `model.save(...)`).
"""

from datetime import datetime, timedelta
from tempfile import NamedTemporaryFile
from typing import List

import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from unionml import Dataset, Model

dataset = Dataset(targets=["target"])
model = Model(dataset=dataset, init=LogisticRegression)


@dataset.reader
def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
    """Labeled rows up to the kickoff's day of the month for training, the rows after them to predict."""
    frame = load_digits(as_frame=True).frame
    cutoff = 900 + 25 * time.day  # day 31: 1,675 labeled rows, and 50 of the 1,797 left to predict
    if labeled:
        return frame.iloc[:cutoff]
    return frame.iloc[cutoff : cutoff + 50].drop(columns=["target"])


@model.trainer
def trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[int]:
    return [int(label) for label in estimator.predict(features)]


@model.evaluator
def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(accuracy_score(target.squeeze(), predictor(estimator, features)))


# training: standard cron, a croniter keyword, and a fixed rate
model.schedule_training(
    name="cron_daily_training",
    expression="0 0 * * *",
    reader_time_arg="time",
    hyperparameters={"C": 0.1, "max_iter": 5000},
)
model.schedule_training(
    name="non_standard_training_schedule",
    expression="@daily",
    reader_time_arg="time",
    hyperparameters={"C": 0.1, "max_iter": 5000},
)
model.schedule_training(
    name="fixed_rate_training_schedule",
    fixed_rate=timedelta(days=1),
    reader_time_arg="time",
    hyperparameters={"C": 0.1, "max_iter": 5000},
)

# prediction with the model that `model.train(...)` leaves in `model.artifact`
model.train(hyperparameters={"C": 0.1, "max_iter": 5000}, time=datetime(2026, 11, 1), labeled=True)
model.schedule_prediction(
    name="daily_predictions",
    expression="0 0 * * *",
    reader_time_arg="time",
    labeled=False,
)

# prediction with a model object passed explicitly
trained, _ = model.train(hyperparameters={"C": 0.1, "max_iter": 5000}, time=datetime(2026, 11, 1), labeled=True)
model.schedule_prediction(
    name="daily_predictions_with_model_object",
    expression="0 0 * * *",
    reader_time_arg="time",
    model_object=trained,
    labeled=False,
)

# prediction with a model file, loaded with extra keyword arguments
with NamedTemporaryFile() as saved:
    model.save(saved.name, compress=3)
    model.schedule_prediction(
        name="daily_predictions_with_model_file",
        expression="0 0 * * *",
        reader_time_arg="time",
        model_file=saved.name,
        loader_kwargs={"mmap_mode": None},
        labeled=False,
    )

# prediction with a model trained on the cluster, by version
model.schedule_prediction(
    name="daily_predictions_with_remote_model",
    expression="0 0 * * *",
    reader_time_arg="time",
    model_version="f3c9a1e7b2d4c6e8a0b1",  # a training execution, as `unionml list-model-versions` names it
    app_version="3f9c2e1",  # the version it was deployed with: `unionml deploy OUT --version 3f9c2e1`
    loader_kwargs={},
    labeled=False,
)
