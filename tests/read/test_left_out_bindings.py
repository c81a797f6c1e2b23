"""Names the project's code reads that only code the project leaves out binds (issue 19, items 9 and 10):
the `if __name__ == "__main__":` block, which never runs when unionml imports the app, and a `:=`
inside the statement that creates a unionml object. Each is one error at the read (UMG515), never a
traceback, nor an error about `model.train(...)` inside the block that no component uses."""

from __future__ import annotations

import pytest

from unionml_codegen.diagnostics import AppError
from unionml_codegen.generate import generate

from ..helpers import EXAMPLES, run_cli

PREDICTOR = "    return [int(x) for x in estimator.predict(features)]"


def _digits(tmp_path, replacements: dict[str, str]):
    source = (EXAMPLES / "digits" / "app.py").read_text()
    for old, new in replacements.items():
        assert old in source
        source = source.replace(old, new)
    (tmp_path / "app.py").write_text(source)
    return tmp_path / "app.py", source


def _line_of(source: str, text: str) -> int:
    return source.count("\n", 0, source.index(text)) + 1


def test_a_predictor_reading_a_name_bound_only_in_the_main_block_is_one_error_naming_the_name_and_block(tmp_path):
    app, source = _digits(tmp_path, {
        PREDICTOR: "    return [int(x) + OFFSET for x in estimator.predict(features)]",
        'if __name__ == "__main__":\n': 'if __name__ == "__main__":\n    OFFSET = 0\n',
    })  # fmt: skip
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    block = _line_of(source, 'if __name__ == "__main__":')
    assert error.code == "UMG515"
    assert (error.position.line, error.position.column) == (_line_of(source, "+ OFFSET"), 22)
    assert error.message == (
        f"'OFFSET' is bound only in the `if __name__ == \"__main__\":` block (line {block}), which runs when the app "
        "is run as a script, never when unionml imports it; the generated project leaves the block out"
    )
    assert "model.train" not in str(raised.value.diagnostics.items)


def test_a_name_bound_at_the_top_level_and_again_in_the_main_block_is_taken_from_the_top_level(tmp_path):
    app, _ = _digits(tmp_path, {
        PREDICTOR: "    return [int(x) + OFFSET for x in estimator.predict(features)]",
        "ROWS_PER_DAY = 25\n": "ROWS_PER_DAY = 25\nOFFSET = 0\n",
        'if __name__ == "__main__":\n': 'if __name__ == "__main__":\n    OFFSET = 100\n',
    })  # fmt: skip
    result = generate(app, tmp_path / "out")
    assert not result.diagnostics.errors
    components = (tmp_path / "out" / tmp_path.name.lower() / "components.py").read_text()
    assert "OFFSET = 0\n" in components and "OFFSET = 100" not in components and "__main__" not in components


def test_a_walrus_inside_dataset_read_by_a_component_is_refused_at_its_lines_without_a_traceback(tmp_path):
    app, source = _digits(tmp_path, {
        'dataset = Dataset(name="digits_dataset",': 'dataset = Dataset(name=(NAME := "digits_dataset"),',
        "    data = load_digits(as_frame=True)": "    print(NAME)\n    data = load_digits(as_frame=True)",
    })  # fmt: skip
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    firsts = [line for line in result.stderr.splitlines() if line.startswith("app.py:")]
    dataset_line = _line_of(source, "dataset = Dataset(")
    assert firsts == [
        f"app.py:{dataset_line}:25: error: this assignment expression (`:=`) cannot be evaluated without running "
        "the app [UMG301]",
        f"app.py:{_line_of(source, 'print(NAME)')}:11: error: 'NAME' is bound only inside the statement that creates "
        f"a unionml object (line {dataset_line}, by `:=`), which the generated project leaves out [UMG515]",
    ]
    assert not (tmp_path / "flyte").exists()
