"""PyTorch model files: a prediction schedule loads unionml's PyTorch format (a state dict and the
hyperparameters) by rebuilding the module with the app's init, inside the task that predicts, so the
module never crosses a task boundary (flytekit 1.16's PyTorch transformer cannot load a custom module
with torch >= 2.6; see flyte-facts.md)."""

from __future__ import annotations

import json

import torch

from unionml_codegen.generate import generate

from .conftest import run_python

APP = """\
from datetime import datetime
from typing import List

import pandas as pd
import torch
from sklearn.datasets import load_digits
from torch import nn
from unionml import Dataset, Model


class DigitsNet(nn.Module):
    def __init__(self, hidden: int = 16):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x):
        return self.layers(x)


dataset = Dataset(name="digits", targets=["target"])
model = Model(name="digits_net", init=DigitsNet, dataset=dataset)


@dataset.reader
def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
    frame = load_digits(as_frame=True).frame.iloc[time.day * 10 : time.day * 10 + 50]
    return frame if labeled else frame.drop(columns=["target"])


@model.trainer
def trainer(module: DigitsNet, features: pd.DataFrame, target: pd.DataFrame) -> DigitsNet:
    return module


@model.predictor
def predictor(module: DigitsNet, features: pd.DataFrame) -> List[int]:
    with torch.no_grad():
        return module(torch.tensor(features.values, dtype=torch.float32)).argmax(dim=1).tolist()


@model.evaluator
def evaluator(module: DigitsNet, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return 1.0


model.schedule_prediction("nightly", expression="@daily", reader_time_arg="time", model_file="net.pt", labeled=False)
"""

EXPECTED = """
import json, torch
from datetime import datetime
from digits_torch.components import DigitsNet, predictor, reader
saved = torch.load("../net.pt")
net = DigitsNet(**saved["hyperparameters"])
net.load_state_dict(saved["model_obj"])
print(json.dumps(predictor(net, reader(datetime(2026, 11, 29), labeled=False))))
"""

SCHEDULED = """
import json
from datetime import datetime
from digits_torch.launch_plans import nightly
print(json.dumps(nightly(time=datetime(2026, 11, 29))))
"""


def test_pytorch_model_file_is_rebuilt_with_the_apps_init_and_predicts(tmp_path):
    app_dir = tmp_path / "digits_torch"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(APP)
    torch.manual_seed(7)
    namespace: dict = {}
    exec(compile(APP.split("dataset = Dataset")[0], "app.py", "exec"), namespace)
    net = namespace["DigitsNet"](hidden=12)
    torch.save({"model_obj": net.state_dict(), "hyperparameters": {"hidden": 12}}, app_dir / "net.pt")

    result = generate(app_dir / "app.py", app_dir / "flyte")
    assert "torch" in result.files["requirements.txt"].split()
    workflows = result.files["digits_torch/workflows.py"]
    assert "model_files.load_pytorch(" in workflows and "DigitsNet(**hyperparameters)" in workflows

    out = app_dir / "flyte"
    expected = json.loads(run_python(EXPECTED, cwd=out).stdout.splitlines()[-1])
    scheduled = json.loads(run_python(SCHEDULED, cwd=out).stdout.splitlines()[-1])
    assert len(expected) == 50 and len(set(expected)) > 1
    assert scheduled == expected
