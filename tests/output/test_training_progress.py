"""output/training.py's progress while `--train-models` trains: rich's status line on a terminal, plain lines
otherwise; and what it reads back of the models OUT keeps. (Training itself: tests/e2e/test_train_models.py.)"""

from __future__ import annotations

import io
import json
import re
import sys

from unionml_codegen.output import training


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_when_stderr_is_not_a_terminal(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    with training._progress("training the model of daily\x1b[2J (pkg.workflows.model_train)", 1, 2) as done:
        done()
    lines = err.getvalue().splitlines()
    assert lines[0] == "[1/2] training the model of daily\\x1b[2J (pkg.workflows.model_train) ..."  # escaped
    assert lines[1].startswith("[1/2] training the model of daily") and " done in " in lines[1]
    assert "\x1b" not in err.getvalue()


def test_a_status_line_on_a_terminal_replaced_by_the_outcome(monkeypatch):
    err = _Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    with training._progress("training the model of daily", 1, 1) as done:
        done()
    text = err.getvalue()
    assert "\x1b[" in text  # rich drew (and cleared) its status line
    last = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text.rstrip().splitlines()[-1])  # after the line is cleared
    assert re.fullmatch(r"training the model of daily: done in \d+\.\ds", last), repr(text)


def test_the_models_out_keeps_are_read_from_out_never_through_a_link(tmp_path):
    out = tmp_path / "flyte"
    (out / "pkg" / "models").mkdir(parents=True)
    (out / "pkg" / "models" / "a-model.joblib").write_bytes(b"model bytes")
    (tmp_path / "elsewhere.joblib").write_bytes(b"not in OUT")
    (out / "pkg" / "models" / "b-model.joblib").symlink_to(tmp_path / "elsewhere.joblib")
    sha = "0" * 64
    record = {"flavor": "sklearn", "inputs": {}, "inputs_python": {}, "saver_kwargs": {}, "saver_kwargs_python": {},
              "model": "model", "trained_by": {"line": 1, "via": "artifact"}, "workflow": "pkg.workflows.model_train",
              "saver": "joblib.dump", "training_code_sha256": sha, "sha256": sha, "size": 1}  # fmt: skip
    manifest = {
        "app": "../app.py", "content_sha256": sha, "files": {}, "generator": "unionml-codegen 0",
        "options": {"image": "i", "models": {}, "package": "pkg"},
        "trained_models": {
            "a": {**record, "vendored": "pkg/models/a-model.joblib"},
            "b": {**record, "vendored": "pkg/models/b-model.joblib"},
            "c": {**record, "vendored": "../outside.joblib"},
        },
    }  # fmt: skip
    (out / ".unionml-codegen.json").write_text(json.dumps(manifest))
    found = training.read_trained(out)
    assert found["a"][1:] == (b"model bytes", None)
    assert found["b"][1] is None and "symbolic link" in found["b"][2]
    assert found["c"] == (manifest["trained_models"]["c"], None, "is not a path inside the project")
