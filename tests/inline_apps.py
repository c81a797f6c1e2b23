"""The smallest valid app, in two halves, for tests that read small inline apps."""

HEADER = """\
from unionml import Dataset, Model
dataset = Dataset()
model = Model(init=dict, dataset=dataset)
"""

COMPONENTS = """
from typing import List

import pandas as pd

@dataset.reader
def reader(sample_frac: float = 1.0, labeled: bool = True) -> pd.DataFrame:
    return pd.DataFrame()

@model.trainer
def trainer(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> dict:
    return estimator

@model.predictor
def predictor(estimator: dict, features: pd.DataFrame) -> List[float]:
    return []

@model.evaluator
def evaluator(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return 1.0
"""
