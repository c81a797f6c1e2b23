"""PyTorch models. flytekit 1.16's PyTorch transformer cannot load a custom module with torch >= 2.6
(see flyte-facts.md), so modules cross task boundaries as unionml saves them (a state dict and the
hyperparameters, rebuilt with the app's init), and a prediction schedule loads a model file inside
the task that predicts."""

from __future__ import annotations

import json

import pytest
import torch

from unionml_codegen.generate import generate

from ..helpers import run_python
from ..support.flyte_package import package

APP = """\
from datetime import datetime
from typing import List

import pandas as pd
import torch
from sklearn.datasets import load_digits
from torch import nn
from unionml import Dataset, Model


class DigitsNet(nn.Module):
    def __init__(self, hidden: int = 16, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
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
    optimizer = torch.optim.SGD(module.parameters(), lr=0.01)
    x = torch.tensor(features.values, dtype=torch.float32)
    y = torch.tensor(target.squeeze().values, dtype=torch.long)
    for _ in range(30):
        optimizer.zero_grad()
        nn.functional.cross_entropy(module(x), y).backward()
        optimizer.step()
    return module


@model.predictor
def predictor(module: DigitsNet, features: pd.DataFrame) -> List[int]:
    with torch.no_grad():
        return module(torch.tensor(features.values, dtype=torch.float32)).argmax(dim=1).tolist()


@model.evaluator
def evaluator(module: DigitsNet, features: pd.DataFrame, target: pd.DataFrame) -> float:
    predicted = predictor(module, features)
    return float(sum(int(p == t) for p, t in zip(predicted, target.squeeze().tolist())) / len(predicted))


model.schedule_training("weekly", expression="0 0 * * MON", reader_time_arg="time", hyperparameters={"hidden": 24, "seed": 3})


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


TRAINED_BY_HAND = """
import json
from datetime import datetime
from digits_torch import components, dataset_defaults
data = components.reader(datetime(2026, 11, 29), labeled=True)
splits = dict(zip(("train", "test"), dataset_defaults.split(data, test_size=0.2, shuffle=True, random_state=12345)))
parsed = {key: dataset_defaults.parse(split, features=None, targets=["target"]) for key, split in splits.items()}
module = components.trainer(components.DigitsNet(hidden=24, seed=3), *parsed["train"])
print(json.dumps({key: components.evaluator(module, *columns) for key, columns in parsed.items()}))
"""

TRAINED_BY_SCHEDULE = """
import json
from datetime import datetime
from digits_torch.launch_plans import weekly
outputs = weekly(time=datetime(2026, 11, 29))
module = outputs.model_object
print(json.dumps({"metrics": outputs.metrics, "type": type(module).__name__, "hidden": module.layers[0].out_features,
                  "hyperparameters": outputs.hyperparameters}))
"""


def test_pytorch_training_schedule_moves_the_module_as_a_state_dict(tmp_path):
    app_dir = tmp_path / "digits_torch"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(APP)
    namespace: dict = {}
    exec(compile(APP.split("dataset = Dataset")[0], "app.py", "exec"), namespace)
    torch.save({"model_obj": namespace["DigitsNet"]().state_dict(), "hyperparameters": {}}, app_dir / "net.pt")

    result = generate(app_dir / "app.py", app_dir / "flyte")
    workflows = " ".join(result.files["digits_torch/workflows.py"].split())
    assert (
        "DigitsNetModel = Annotated[ DigitsNet, torch_models.StateDictTransformer( lambda hyperparameters: "
        "DigitsNet(**hyperparameters) ), ]" in workflows
    )
    out = app_dir / "flyte"
    expected = json.loads(run_python(TRAINED_BY_HAND, cwd=out).stdout.splitlines()[-1])
    actual = json.loads(run_python(TRAINED_BY_SCHEDULE, cwd=out).stdout.splitlines()[-1])
    assert set(expected) == {"train", "test"} and expected["train"] > 0.2
    assert actual["metrics"] == expected
    assert (actual["type"], actual["hidden"]) == ("DigitsNet", 24)
    assert actual["hyperparameters"] == {"hidden": 24, "seed": 3}


# The same model typed three ways: a subclass, `nn.Module` (flytekit's own PyTorch transformer claims that
# type, so registering another for it broke importing the project), and `nn.Sequential`.
TYPED_APP = """\
from datetime import datetime
from typing import List

import pandas as pd
import torch
from sklearn.datasets import load_digits
from torch import nn
from unionml import Dataset, Model

INIT


dataset = Dataset(name="digits", targets=["target"])
model = Model(name="digits_net", init=init_model, dataset=dataset)


@dataset.reader
def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
    frame = load_digits(as_frame=True).frame.iloc[time.day * 10 : time.day * 10 + 60]
    return frame if labeled else frame.drop(columns=["target"])


@model.trainer
def trainer(module: TYPE, features: pd.DataFrame, target: pd.DataFrame) -> TYPE:
    optimizer = torch.optim.SGD(module.parameters(), lr=0.05)
    x = torch.tensor(features.values, dtype=torch.float32)
    y = torch.tensor(target.squeeze().values, dtype=torch.long)
    for _ in range(25):
        optimizer.zero_grad()
        nn.functional.cross_entropy(module(x), y).backward()
        optimizer.step()
    return module


@model.predictor
def predictor(module: TYPE, features: pd.DataFrame) -> List[int]:
    with torch.no_grad():
        return module(torch.tensor(features.values, dtype=torch.float32)).argmax(dim=1).tolist()


@model.evaluator
def evaluator(module: TYPE, features: pd.DataFrame, target: pd.DataFrame) -> float:
    predicted = predictor(module, features)
    return float(sum(int(p == t) for p, t in zip(predicted, target.squeeze().tolist())) / len(predicted))


model.schedule_training("weekly", expression="0 0 * * MON", reader_time_arg="time", hyperparameters={"hidden": 20, "seed": 5})
model.schedule_prediction("nightly", expression="@daily", reader_time_arg="time", model_file="net.pt", labeled=False)
"""

SUBCLASS_INIT = """\
class DigitsNet(nn.Module):
    def __init__(self, hidden: int = 16, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.layers = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x):
        return self.layers(x)


init_model = DigitsNet"""

FUNCTION_INIT = """\
def init_model(hidden: int = 16, seed: int = 0) -> TYPE:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))"""

TYPINGS = {
    "subclass": (SUBCLASS_INIT, "DigitsNet"),
    "module": (FUNCTION_INIT, "nn.Module"),
    "sequential": (FUNCTION_INIT, "nn.Sequential"),
}

TYPED_BY_HAND = """
import json, torch
from datetime import datetime
from digits_torch import components, dataset_defaults
data = components.reader(datetime(2026, 11, 29), labeled=True)
splits = dict(zip(("train", "test"), dataset_defaults.split(data, test_size=0.2, shuffle=True, random_state=12345)))
parsed = {key: dataset_defaults.parse(split, features=None, targets=["target"]) for key, split in splits.items()}
module = components.trainer(components.init_model(hidden=20, seed=5), *parsed["train"])
features = components.reader(datetime(2026, 11, 29), labeled=False)
saved = torch.load("../net.pt")
loaded = components.init_model(**saved["hyperparameters"])
loaded.load_state_dict(saved["model_obj"])
print(json.dumps({"metrics": {key: components.evaluator(module, *columns) for key, columns in parsed.items()},
                  "predictions": components.predictor(module, features),
                  "file_predictions": components.predictor(loaded, features)}))
"""

TYPED_BY_PLANS = """
import json
from datetime import datetime
from digits_torch import workflows
from digits_torch.components import reader
from digits_torch.launch_plans import nightly, weekly
outputs = weekly(time=datetime(2026, 11, 29))
features = reader(datetime(2026, 11, 29), labeled=False)
predictions = workflows.digits_net_predict(model_object=outputs.model_object, time=datetime(2026, 11, 29), labeled=False)
print(json.dumps({"metrics": outputs.metrics, "predictions": predictions,
                  "file_predictions": nightly(time=datetime(2026, 11, 29)),
                  "hyperparameters": outputs.hyperparameters}))
"""


@pytest.mark.parametrize("typing", sorted(TYPINGS))
def test_pytorch_model_typed_as_subclass_base_class_or_sequential_trains_and_predicts(tmp_path, typing):
    init, annotation = TYPINGS[typing]
    app_dir = tmp_path / "digits_torch"
    app_dir.mkdir()
    app = TYPED_APP.replace("INIT", init).replace("TYPE", annotation)
    (app_dir / "app.py").write_text(app)
    namespace: dict = {}
    exec(compile(app.split("dataset = Dataset")[0], "app.py", "exec"), namespace)
    torch.manual_seed(11)
    net = namespace["init_model"](hidden=12)
    torch.save({"model_obj": net.state_dict(), "hyperparameters": {"hidden": 12}}, app_dir / "net.pt")

    result = generate(app_dir / "app.py", app_dir / "flyte")
    assert "torch_models.register" not in result.files["digits_torch/workflows.py"]
    out = app_dir / "flyte"
    package(out, "digits_torch")  # the project imports and packages (nn.Module used to raise at import)
    expected = json.loads(run_python(TYPED_BY_HAND, cwd=out).stdout.splitlines()[-1])
    actual = json.loads(run_python(TYPED_BY_PLANS, cwd=out).stdout.splitlines()[-1])
    assert expected["metrics"]["train"] > 0.2 and len(set(expected["predictions"])) > 1
    assert actual["metrics"] == expected["metrics"]
    assert actual["predictions"] == expected["predictions"]
    assert actual["file_predictions"] == expected["file_predictions"]
    assert actual["hyperparameters"] == {"hidden": 20, "seed": 5}
