import pandas as pd
from sklearn.ensemble import RandomForestClassifier


def fit_forest(estimator: RandomForestClassifier, features: pd.DataFrame, target: pd.DataFrame):
    return estimator.fit(features, target.squeeze())
