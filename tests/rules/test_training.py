"""rules/training.py: the static half of `--train-models` (what would be trained, with which inputs; what is
refused, at which line), and whether a model trained before is kept. Nothing here trains (tests/e2e does)."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from unionml_codegen.diagnostics import AppError, Diagnostics
from unionml_codegen.generate import render_app
from unionml_codegen.options import Options
from unionml_codegen.read import read_app
from unionml_codegen.rules import validate
from unionml_codegen.rules.training import Kept, Training

from ..read.test_train_calls import HEAD

SEED = Path(__file__).parents[2] / "examples" / "seed_guide" / "app.py"


def _source(tail: str) -> str:
    return HEAD + textwrap.dedent(tail)


def _validated(source: str, training: Training, models: dict | None = None):
    diagnostics = Diagnostics("app.py")
    app = read_app(source, "app.py", None, "app", diagnostics)
    assert app is not None and not diagnostics.errors, diagnostics.render(source)
    app = validate(app, diagnostics, models or {}, Path("."), training=training)
    return app, diagnostics


def _errors(source: str, training: Training) -> list[str]:
    _, diagnostics = _validated(source, training)
    return [f"{d.position.line}:{d.position.column}: {d.message} [{d.code}] hint: {d.hint}" for d in diagnostics.errors]


def _line(source: str, text: str) -> int:
    return source.splitlines().index(text) + 1


def test_the_seed_guides_models_become_training_runs_with_the_inputs_of_a_training_launch_plan():
    app, diagnostics = _validated(SEED.read_text(), Training(train=True))
    assert not diagnostics.errors
    trained = {name: ref for name, ref in app.model_references.items() if ref.training is not None}
    assert sorted(trained) == ["daily_predictions", "daily_predictions_with_model_file",
                               "daily_predictions_with_model_object"]  # fmt: skip
    for reference in trained.values():
        assert reference.kind == "file" and reference.data is None  # trained later (train.py), not here
        assert reference.training.flavor == "sklearn"
        # the dataset's splitter and parser defaults under the call's own kwargs, as render/views.py's training plans
        assert reference.training.inputs == {
            "hyperparameters": {"C": 0.1, "max_iter": 5000}, "loader_kwargs": {},
            "splitter_kwargs": {"test_size": 0.2, "shuffle": True, "random_state": 12345},
            "parser_kwargs": {"features": None, "targets": ["target"]},
            "time": __import__("datetime").datetime(2026, 11, 1), "labeled": True,
        }  # fmt: skip
        assert reference.training.key["inputs_python"] == {"time": "datetime(2026, 11, 1, 0, 0)"}
    assert trained["daily_predictions_with_model_file"].training.saver_kwargs == {"compress": 3}
    assert app.model_references["daily_predictions_with_remote_model"].kind == "version"


def test_without_the_flag_a_trainable_model_is_unknown_with_a_hint_to_train_it():
    source = SEED.read_text()
    with pytest.raises(AppError) as raised:
        render_app(SEED, SEED.parent / "not-generated-here", Options())
    errors = {d.message.split("'")[1]: d for d in raised.value.diagnostics.errors}
    assert sorted(errors) == ["daily_predictions", "daily_predictions_with_model_file",
                              "daily_predictions_with_model_object"]  # fmt: skip
    assert all(d.code == "UMG404" and "let the generator train it" in d.hint for d in errors.values())
    assert errors["daily_predictions_with_model_object"].position.line == _line(source, "    model_object=trained,")
    assert errors["daily_predictions_with_model_file"].position.line == _line(source, "        model_file=saved.name,")


def test_a_call_argument_that_is_not_static_is_refused_at_it_with_train_models():
    source = _source("""
    import json
    CONFIG = json.loads('{"C": 1.0}')
    model.train(hyperparameters=CONFIG, time=datetime(2026, 1, 1))
    model.schedule_prediction(name="p", expression="0 0 * * *", reader_time_arg="time")
    """)
    (error,) = _errors(source, Training(train=True))
    line = _line(source, "model.train(hyperparameters=CONFIG, time=datetime(2026, 1, 1))")
    assert error.startswith(f"{line}:29: prediction schedule 'p' uses the model of `model.train(...)` at line {line}, "
                            "which the generator cannot run as the app would: `hyperparameters=CONFIG`: 'CONFIG'")  # fmt: skip
    assert error.count("[UMG410]") == 1 and "--model p=PATH" in error


@pytest.mark.parametrize(
    "call, why",
    [
        ("model.train(time=datetime(2026, 1, 1), sample=3)", "`sample` is neither a parameter of the reader `reader`"),
        ("model.train(labeled=True)", "it gives no `time`, which `reader` needs"),
        ("model.train(hyperparameters=[1], time=datetime(2026, 1, 1))", "`hyperparameters` must be a dict, not list"),
    ],
)
def test_a_call_the_training_workflow_cannot_take_is_refused(call, why):
    source = _source(f"""
    {call}
    model.schedule_prediction(name="p", expression="0 0 * * *", reader_time_arg="time")
    """)
    (error,) = _errors(source, Training(train=True))
    assert f"at line {_line(source, call)}" in error and why in error and "[UMG410]" in error


def test_save_arguments_that_are_not_static_are_refused_at_them():
    source = _source("""
    import os
    LEVEL = int(os.environ.get("LEVEL", "3"))
    model.train(time=datetime(2026, 1, 1))
    with NamedTemporaryFile() as saved:
        model.save(saved.name, compress=LEVEL)
        model.schedule_prediction(name="p", expression="0 0 * * *", reader_time_arg="time", model_file=saved.name)
    """)
    (error,) = _errors(source, Training(train=True))
    assert error.startswith(f"{_line(source, '    model.save(saved.name, compress=LEVEL)')}:37: ")
    assert "model.save(..., compress=...): 'LEVEL'" in error and "[UMG410]" in error


def test_a_model_the_generator_cannot_save_is_refused():
    source = _source("""
    @model.saver
    def saver(estimator, hyperparameters, file):
        pass

    @model.loader
    def loader(file):
        pass

    model.train(time=datetime(2026, 1, 1))
    model.schedule_prediction(name="p", expression="0 0 * * *", reader_time_arg="time")
    """)
    (error,) = _errors(source, Training(train=True))
    assert "[UMG414]" in error and "the app's own @model.saver" in error and "--model p=PATH" in error


def test_a_typed_binding_wins_over_training():
    app, diagnostics = _validated(SEED.read_text(), Training(train=True),
                                  {"daily_predictions": SEED.parent / "model.joblib"})  # fmt: skip
    assert not diagnostics.errors
    assert app.model_references["daily_predictions"].training is None
    assert app.model_references["daily_predictions"].sha256 == hashlib.sha256(
        (SEED.parent / "model.joblib").read_bytes()).hexdigest()  # fmt: skip
    assert app.model_references["daily_predictions_with_model_object"].training is not None


def _kept(training_app, name: str, data: bytes, **changes) -> Kept:
    """The record a training of `name` would leave (render/trained.py's KEY entries), with `changes`."""
    reference = training_app.model_references[name]
    sha256 = hashlib.sha256(data).hexdigest()
    record = {**reference.training.key, "sha256": sha256, "vendored": f"seed_guide/models/{sha256[:16]}-model.joblib"}
    return Kept({**record, **changes}, data)


def test_a_model_trained_before_is_kept_while_its_key_and_bytes_are_what_the_record_says():
    source = SEED.read_text()
    planned, _ = _validated(source, Training(train=True))
    names = ("daily_predictions", "daily_predictions_with_model_file", "daily_predictions_with_model_object")
    data = b"a model file"
    kept = {name: _kept(planned, name, data) for name in names}
    app, diagnostics = _validated(source, Training(kept=kept))
    assert not diagnostics.errors
    reference = app.model_references["daily_predictions"]
    assert (
        reference.data == data and reference.vendored == f"models/{hashlib.sha256(data).hexdigest()[:16]}-model.joblib"
    )
    # the record's inputs edited (or the app's changed): not kept
    edited = {**kept, "daily_predictions": _kept(planned, "daily_predictions", data, inputs={"hyperparameters": {}})}
    assert [d.code for d in _validated(source, Training(kept=edited))[1].errors] == ["UMG411"]
    # the bytes are not the recorded ones
    swapped = {**kept, "daily_predictions": Kept(kept["daily_predictions"].record, data + b"!")}
    (error,) = _validated(source, Training(kept=swapped))[1].errors
    assert error.code == "UMG412" and "has sha256" in error.message
    unreadable = {**kept, "daily_predictions": Kept(kept["daily_predictions"].record, None, "cannot be read (gone)")}
    (error,) = _validated(source, Training(kept=unreadable))[1].errors
    assert error.code == "UMG412" and "cannot be read (gone)" in error.message


GUIDE = Path(__file__).parents[3] / "shared" / "seed" / "scheduling.md"


@pytest.mark.skipif(not GUIDE.is_file(), reason=f"unionml's scheduling guide is not beside this clone ({GUIDE})")
def test_the_guides_own_app_trains_on_datetime_now_which_is_refused_at_it():
    """The guide itself trains on `time=datetime.now()`: a model no later run could reproduce."""
    import re

    cells = re.findall(r"```\{code-(?:cell|block)\} python\n(.*?)```", GUIDE.read_text(), re.S)
    source = "\n".join(re.sub(r"^:tags:.*\n", "", cell) for cell in cells)
    source = source.replace('"<MODEL_VERSION>"', '"f3c9a1e7b2d4c6e8a0b1"').replace('"<APP_VERSION>"', '"3f9c2e1"')
    errors = _errors(source, Training(train=True))
    assert len(errors) == 3 and all("[UMG410]" in error for error in errors)
    lines = source.splitlines()
    for error in errors:
        line, column = (int(n) for n in error.split(":")[:2])
        assert lines[line - 1][column - 1 :].startswith("datetime.now()")
        assert "`time=datetime.now()`: the call to 'datetime.datetime.now' cannot be evaluated" in error
