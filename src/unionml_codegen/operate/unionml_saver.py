"""A model written as unionml 0.2.1's default saver writes it, by the model's kind.

Standalone (the standard library only, and the model's own library): fetch-model of a flyte1 project calls
it in this interpreter (runs.py), and of a flyte2 project in the flyte SDK's (flyte2_remote.py loads this
file by its path), where the project's requirements are installed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def save_model(model: Any, hyperparameters: dict, path: Path) -> str | None:
    """Write `model` to `path` (unionml's `{"model_obj": ..., "hyperparameters": ...}`); the flavour written,
    or None for a kind of model unionml's saver does not write."""
    module = type(model).__module__.split(".")[0]
    if module == "sklearn" or hasattr(model, "get_params"):
        import joblib

        joblib.dump({"model_obj": model, "hyperparameters": hyperparameters}, path)
        return "scikit-learn (joblib)"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        torch.save({"model_obj": model.state_dict(), "hyperparameters": hyperparameters}, path)
        return "PyTorch (state_dict)"
    if module in ("keras", "tensorflow", "tf_keras"):
        model.save(path)
        return "Keras"
    return None
