"""A dataset's SQL task that the app rebinds or changes in ways the generator cannot follow (issue 19,
item 5) is an error at that line (UMG126), for both targets: before, `--target flyte2` read the first
task's query and database where unionml reads the other one, and attribute changes were ignored."""

from __future__ import annotations

import pytest

from unionml_codegen.diagnostics import AppError
from unionml_codegen.options import Options
from unionml_codegen.generate import generate

from ..helpers import EXAMPLES

CONSTRUCTOR = """sqlite_task = SQLite3Task(
    name="shop_sqlite_query",
    query_template="SELECT x1, x2, x3, y FROM mock_table LIMIT {{.inputs.limit}}",
    inputs=kwtypes(limit=int),
    output_schema_type=pd.DataFrame,
    task_config=SQLite3Config(uri="shop.db"),
)
"""
OTHER = (
    'SQLite3Task(name="other_query", query_template="SELECT x1, x2, x3, y FROM other LIMIT {{.inputs.limit}}", '
    'inputs=kwtypes(limit=int), output_schema_type=pd.DataFrame, task_config=SQLite3Config(uri="other.db"))'
)
CHANGES = {
    "unpacking": (f"sqlite_task, spare = {OTHER}, None\n", "bound again here (unpacking)"),
    "list unpacking": (f"[sqlite_task] = [{OTHER}]\n", "bound again here (unpacking)"),
    "for loop": (f"for sqlite_task in [{OTHER}]:\n    pass\n", "bound again here (a `for` loop)"),
    "walrus": (f"(sqlite_task := {OTHER})\n", "bound again here (`:=`)"),
    "with as": (f"import contextlib\nwith contextlib.nullcontext({OTHER}) as sqlite_task:\n    pass\n",
                "bound again here (`with ... as`)"),  # fmt: skip
    "query attribute": ('sqlite_task._query_template = "SELECT * FROM other"\n', "changed here"),
    "setattr": ('setattr(sqlite_task, "_query_template", "SELECT * FROM other")\n', "changed here"),
    "config attribute": ('sqlite_task.task_config.uri = "other.db"\n', "changed here"),
}


def _app(tmp_path, change: str, after: bool = False):
    source = (EXAMPLES / "sql_reader" / "app.py").read_text()
    assert CONSTRUCTOR in source
    call = "dataset = Dataset.from_sqlite_task("
    if after:
        source = source.replace("model = Model(", change + "model = Model(", 1)
    else:
        source = source.replace(call, change + call, 1)
    (tmp_path / "app.py").write_text(source)
    return tmp_path / "app.py", source


@pytest.mark.parametrize("target", ["flyte1", "flyte2"])
@pytest.mark.parametrize("case", sorted(CHANGES))
def test_a_change_of_the_sql_task_the_generator_cannot_follow_is_an_error_at_its_line(tmp_path, case, target):
    change, words = CHANGES[case]
    app, source = _app(tmp_path, change)
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out", Options(target=target))
    errors = [d for d in raised.value.diagnostics.errors if d.code == "UMG126"]
    assert len(errors) == 1, raised.value.diagnostics.items
    (error,) = errors
    assert (
        error.position.line
        == source.count("\n", 0, source.index(change)) + change[: change.find("sqlite_task")].count("\n") + 1
    )
    assert words in error.message and "'sqlite_task'" in error.message
    assert not (tmp_path / "out").exists()


def test_an_attribute_change_after_the_dataset_is_still_an_error_a_rebinding_is_not(tmp_path):
    app, _ = _app(tmp_path, CHANGES["query attribute"][0], after=True)
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out")
    assert [d.code for d in raised.value.diagnostics.errors] == ["UMG126"]
    app, _ = _app(tmp_path, CHANGES["unpacking"][0], after=True)  # the dataset holds the first task already
    generate(app, tmp_path / "out")


def test_a_plain_reassignment_is_still_followed(tmp_path):
    app, _ = _app(tmp_path, f"sqlite_task = {OTHER}\n")
    generate(app, tmp_path / "out", Options(target="flyte2"))
    assert "other.db" in (tmp_path / "out" / tmp_path.name.lower() / "tasks.py").read_text()
