"""A Keras 3 classifier of handwritten digits: a model built by an init function, trained weekly and
used nightly for predictions with the latest trained model (run it with KERAS_BACKEND=torch or any
Keras backend)."""

from datetime import datetime
from typing import List

import keras
import pandas as pd
from sklearn.datasets import load_digits
from unionml import Dataset, Model


def init_model(hidden: int = 16, seed: int = 0) -> keras.Sequential:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(hidden, activation="relu"), keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.SGD(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


dataset = Dataset(name="digits", targets=["target"])
model = Model(name="digits_keras", init=init_model, dataset=dataset)


@dataset.reader
def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
    frame = load_digits(as_frame=True).frame.iloc[time.day * 10 : time.day * 10 + 80]
    return frame if labeled else frame.drop(columns=["target"])


@model.trainer
def trainer(model: keras.Sequential, features: pd.DataFrame, target: pd.DataFrame) -> keras.Sequential:
    keras.utils.set_random_seed(1)
    model.fit(features.values.astype("float32"), target.squeeze().values, epochs=5, batch_size=16, verbose=0,
              shuffle=False)
    return model


@model.predictor
def predictor(model: keras.Sequential, features: pd.DataFrame) -> List[int]:
    return [int(x) for x in model.predict(features.values.astype("float32"), verbose=0).argmax(axis=1)]


@model.evaluator
def evaluator(model: keras.Sequential, features: pd.DataFrame, target: pd.DataFrame) -> float:
    predicted = predictor(model, features)
    return float(sum(int(p == t) for p, t in zip(predicted, target.squeeze().tolist())) / len(predicted))


model.schedule_training(
    "weekly", expression="0 0 * * MON", reader_time_arg="time", hyperparameters={"hidden": 24, "seed": 3}
)
model.schedule_prediction(
    "nightly", expression="@daily", reader_time_arg="time", model_version="latest", labeled=False
)
