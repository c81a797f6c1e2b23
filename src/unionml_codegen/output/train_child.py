"""Run one training workflow of a generated flytekit project locally and save its model (`--train-models`).

Run as a script by output/training.py, never imported: `python -B train_child.py REQUEST`, where REQUEST is
a pickle the generator wrote (the project's directory, the workflow's module and name, its inputs, how to
save the model and where, per schedule). It imports the generated package (reviewed code, never the app), calls the
workflow with exactly those inputs (flytekit's local execution, as `unionml run` runs a launch plan), saves
the model object as unionml 0.2.1's default saver does, and writes a JSON result beside the request: the
metrics, or the error as the project's code raised it. What the project prints goes to stderr.
"""

import contextlib
import importlib
import json
import os
import pickle
import sys
import traceback


def _save(flavor, model_object, hyperparameters, path, saver_kwargs):
    """unionml's `Model._default_saver`: joblib for scikit-learn, torch.save of the state dict for PyTorch."""
    if flavor == "sklearn":
        import joblib

        joblib.dump({"model_obj": model_object, "hyperparameters": hyperparameters}, path, **saver_kwargs)
    elif flavor == "pytorch":
        import torch

        torch.save({"model_obj": model_object.state_dict(), "hyperparameters": hyperparameters}, path, **saver_kwargs)
    else:
        raise ValueError(f"no saver for {flavor!r}")


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return _jsonable(value.tolist())
    return repr(value)


def _summary(exc):
    """The innermost error of the chain, with the last frame of the project's own code it went through."""
    chain = [exc]
    while chain[-1].__cause__ is not None or (chain[-1].__context__ is not None and not chain[-1].__suppress_context__):
        inner = chain[-1].__cause__ or chain[-1].__context__
        if inner in chain:
            break
        chain.append(inner)
    root = chain[-1]
    frames = [f for f in traceback.extract_tb(root.__traceback__) if "site-packages" not in f.filename]
    where = f" ({frames[-1].filename}:{frames[-1].lineno}, in {frames[-1].name})" if frames else ""
    lines = [line.strip() for line in str(root).splitlines() if line.strip()]
    return f"{type(root).__name__}: {lines[-1] if lines else ''}{where}"


def main(request_path):
    with open(request_path, "rb") as handle:
        request = pickle.load(handle)  # written by the generator for this run
    result_path = request_path + ".json"
    sys.path.insert(0, request["project"])
    try:
        with contextlib.redirect_stdout(sys.stderr):
            module = importlib.import_module(request["module"])
            workflow = getattr(module, request["workflow"])
            outputs = workflow(**request["inputs"])
            for save in request["saves"]:  # one file per schedule that uses this training, saved its way
                _save(save["flavor"], outputs.model_object, outputs.hyperparameters, save["path"], save["saver_kwargs"])
        result = {"ok": True, "metrics": _jsonable(outputs.metrics), "type": type(outputs.model_object).__name__}
    except BaseException as exc:  # reported by the generator as the run's failure
        result = {"ok": False, "error": _summary(exc)}
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main(sys.argv[1]))
