"""A sketch classifier shaped like unionml's PyTorch project template: app.py beside a helper package
(sketches/) with relative imports inside, a model typed as `nn.Module`, components that rebind their
parameters and loop variables, and a `__main__` block that binds the same names and trains."""

from typing import List, Tuple

import torch
import torch.nn as nn

from sketches.net import build_network
from sketches.strokes import StrokesDataset
from sketches.training import fit
from unionml import Dataset, Model

dataset = Dataset(name="sketch_dataset", test_size=0.25, shuffle=True)
model = Model(name="sketch_classifier", init=build_network, dataset=dataset)


@dataset.reader
def reader(count: int = 200, classes: int = 4) -> StrokesDataset:
    return StrokesDataset(count, classes)


@dataset.splitter
def splitter(
    data: StrokesDataset, test_size: float, **kwargs
) -> Tuple[torch.utils.data.Subset, torch.utils.data.Subset]:
    return data.split(test_size)


@dataset.parser
def parser(data: torch.utils.data.Subset, features=None, targets=None) -> Tuple[torch.utils.data.Subset]:
    return (data,)


@model.trainer
def trainer(module: nn.Module, data: torch.utils.data.Subset, *, epochs: int = 5, batch_size: int = 32) -> nn.Module:
    return fit(module, data, epochs, batch_size)


@model.evaluator
def evaluator(module: nn.Module, data: torch.utils.data.Subset) -> float:
    module.eval()
    correct = 0
    for features, labels in torch.utils.data.DataLoader(data, batch_size=64):
        features = features.float()
        with torch.no_grad():
            predicted = module(features).argmax(dim=1)
        correct += int((predicted == labels).sum())
    return correct / len(data)


@dataset.feature_loader
def feature_loader(pixels: List[List[float]]) -> torch.Tensor:
    return torch.tensor(pixels, dtype=torch.float32).reshape(-1, 1, 8, 8)


@model.predictor
def predictor(module: nn.Module, features: torch.Tensor) -> List[int]:
    module.eval()
    features = features.float()
    with torch.no_grad():
        return [int(label) for label in module(features).argmax(dim=1)]


model.schedule_training(
    "weekly_sketch_training",
    expression="0 4 * * SUN",
    hyperparameters={"classes": 4},
    trainer_kwargs={"epochs": 3, "batch_size": 16},
    count=160,
)
model.schedule_prediction("daily_sketch_predictions", expression="0 6 * * *", model_version="latest", count=40)


if __name__ == "__main__":
    data = StrokesDataset(20, 4)
    module, metrics = model.train(hyperparameters={"classes": 4}, trainer_kwargs={"epochs": 3}, count=160)
    features, labels = data[0]
    predicted = model.predict(features=features.tolist())
    print(module, metrics, predicted, sep="\n")
    model.save("/tmp/sketch_model.pt")
