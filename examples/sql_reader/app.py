"""A dataset read by a flytekit SQL task (Dataset.from_sqlite_task): the task is the reader, its
`limit` input a schedule argument. Point the SQLite3Config uri at your database."""

from typing import List

import pandas as pd
from flytekit import kwtypes
from flytekit.extras.sqlite3.task import SQLite3Config, SQLite3Task
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from unionml import Dataset, Model

sqlite_task = SQLite3Task(
    name="shop_sqlite_query",
    query_template="SELECT x1, x2, x3, y FROM mock_table LIMIT {{.inputs.limit}}",
    inputs=kwtypes(limit=int),
    output_schema_type=pd.DataFrame,
    task_config=SQLite3Config(uri="shop.db"),
)

dataset = Dataset.from_sqlite_task(sqlite_task, name="shop_data", features=["x1", "x2", "x3"], targets=["y"])
model = Model(name="shop_model", init=LogisticRegression, dataset=dataset)


@model.trainer
def trainer(model: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return model.fit(features, target.squeeze())


@model.predictor
def predictor(model: LogisticRegression, features: pd.DataFrame) -> List[float]:
    return [float(x) for x in model.predict(features)]


@model.evaluator
def evaluator(model: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(accuracy_score(target.squeeze(), model.predict(features)))


model.schedule_training("nightly_sql_training", expression="0 3 * * *", hyperparameters={"C": 100.0}, limit=25)
