"""Generating from an app never runs it: an app whose import would write a file, reach the network
and raise is generated without any of that happening."""

from __future__ import annotations

import socket

from unionml_codegen.generate import generate

HOSTILE = """\
from datetime import datetime
import socket
from pathlib import Path

from typing import List

import pandas as pd
from sklearn.linear_model import LogisticRegression
from unionml import Dataset, Model

Path({marker!r}).write_text("the app was imported")
socket.create_connection(("127.0.0.1", 9), timeout=1)

dataset = Dataset(targets=["y"])
model = Model(dataset=dataset, init=LogisticRegression)


@dataset.reader
def reader(time: datetime) -> pd.DataFrame:
    return pd.DataFrame({{"x": [1, 2], "y": [0, 1]}})


@model.trainer
def trainer(est: LogisticRegression, x: pd.DataFrame, y: pd.DataFrame) -> LogisticRegression:
    return est.fit(x, y.squeeze())


@model.predictor
def predictor(est: LogisticRegression, x: pd.DataFrame) -> List[int]:
    return list(est.predict(x))


@model.evaluator
def evaluator(est: LogisticRegression, x: pd.DataFrame, y: pd.DataFrame) -> float:
    return float(est.score(x, y))


model.train(hyperparameters={{"C": 1.0}}, time=datetime.now())
model.schedule_training("nightly", expression="0 0 * * *", reader_time_arg="time")
raise RuntimeError("importing this app fails")
"""


def test_hostile_app_is_generated_without_running_it(tmp_path, monkeypatch):
    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    marker = tmp_path / "imported.txt"
    app = tmp_path / "hostile" / "app.py"
    app.parent.mkdir()
    app.write_text(HOSTILE.format(marker=str(marker)))

    result = generate(app, tmp_path / "out")

    assert not marker.exists()
    assert connections == []
    assert "nightly" in result.files["hostile/launch_plans.py"]
    components = result.files["hostile/components.py"]
    for side_effect in ("write_text(", "create_connection(", "raise RuntimeError", "model.train(hyper", "nightly"):
        assert side_effect not in components
