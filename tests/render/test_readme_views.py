"""The generated README a reviewer takes in at a glance: each cron and fixed rate in words, a Mermaid
diagram of which launch plan starts which workflow with which fixed inputs, and one of each
workflow's nodes; deterministic, and valid Mermaid whatever names and values the app has."""

from __future__ import annotations

import ast
import datetime as dt
import locale
import re

import pytest

from unionml_codegen.render.readme import cron_in_words, mermaid_label, rate_in_words

from ..helpers import EXAMPLES, run_cli

NODE = re.compile(r'    (?P<id>[a-z][a-z0-9]*)(\["(?P<box>[^"]*)"\]|\(\["(?P<round>[^"]*)"\]\))')
EDGE = re.compile(r"    (?P<a>[a-z][a-z0-9]*) --> (?P<b>[a-z][a-z0-9]*)")
LABEL = re.compile(r"([A-Za-z0-9 _.,:=/()\[\]{}*+@'-]|#[0-9]+;|<br/>)*")


def mermaid_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)^```$", markdown, re.S | re.M)


def check_mermaid(block: str) -> list[str]:
    """Structural check of the flowcharts the README holds; returns the labels, entities decoded."""
    lines = block.rstrip("\n").split("\n")
    assert lines[0] == "flowchart LR", lines[0]
    declared, labels = set(), []
    for line in lines[1:]:
        node, edge = NODE.fullmatch(line), EDGE.fullmatch(line)
        assert node or edge, f"not a node or an edge: {line!r}"
        if node:
            assert node["id"] not in declared, line
            declared.add(node["id"])
            label = node["box"] if node["box"] is not None else node["round"]
            assert LABEL.fullmatch(label), f"unsafe label text: {label!r}"
            labels.append(re.sub(r"#([0-9]+);", lambda m: chr(int(m[1])), label.replace("<br/>", "\n")))
        else:
            assert {edge["a"], edge["b"]} <= declared, f"edge to an undeclared node: {line!r}"
    return labels


@pytest.mark.parametrize(
    "expression, words",
    [
        ("30 2 * * 1", "At 02:30 AM, only on Monday"),
        ("30 2 * * MON", "At 02:30 AM, only on Monday"),
        ("0 9-17 * * mon-fri", "At 0 minutes past the hour, between 09:00 AM and 05:59 PM, Monday through Friday"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("5/10 * * * *", "Every 10 minutes, starting at 5 minutes past the hour"),
        ("0 0 ? * *", "At 12:00 AM"),
        ("0 0 1 JAN-MAR *", "At 12:00 AM, on day 1 of the month, January through March"),
        ("0 0 1-7 * 1", "At 12:00 AM, between day 1 and 7 of the month, or on Monday"),  # robfig: either day
        ("0 0 * * 0", "At 12:00 AM, only on Sunday"),
        # robfig's descriptors, which cron-descriptor does not read: described by their five fields
        ("@yearly", "At 12:00 AM, on day 1 of the month, only in January"),
        ("@annually", "At 12:00 AM, on day 1 of the month, only in January"),
        ("@monthly", "At 12:00 AM, on day 1 of the month"),
        ("@weekly", "At 12:00 AM, only on Sunday"),
        ("@daily", "At 12:00 AM"),
        ("@midnight", "At 12:00 AM"),
        ("@hourly", "Every hour"),
    ],
)
def test_cron_in_words_reads_the_robfig_grammar(expression, words):
    assert cron_in_words(expression) == words


def test_cron_in_words_is_english_whatever_the_machine_locale(monkeypatch):
    monkeypatch.setattr(locale, "getlocale", lambda *args: ("de_DE", "UTF-8"))
    assert cron_in_words("30 14 * * 1") == "At 02:30 PM, only on Monday"


def test_an_expression_cron_descriptor_cannot_read_gets_no_words():
    assert cron_in_words("@every 1h") == ""


@pytest.mark.parametrize(
    "rate, words",
    [
        (dt.timedelta(days=1), "Every 1 day"),
        (dt.timedelta(minutes=1), "Every 1 minute"),
        (dt.timedelta(hours=1, minutes=30), "Every 1 hour 30 minutes"),
        (dt.timedelta(days=2, hours=6), "Every 2 days 6 hours"),
    ],
)
def test_fixed_rates_in_words(rate, words):
    assert rate_in_words(rate) == words


def test_mermaid_labels_keep_only_safe_characters():
    hostile = '"]; click p0 call alert(1) %%\n```\n#x;<b>`|'
    label = mermaid_label(hostile)
    assert LABEL.fullmatch(label) and '"' not in label and "`" not in label and "\n" not in label
    assert re.sub(r"#([0-9]+);", lambda m: chr(int(m[1])), label) == hostile.replace("\n", "\\n")


def test_the_digits_readme_shows_the_schedules_in_words_and_the_diagrams():
    """The committed example: cron descriptions beside the expressions, the fixed rate in words, one
    launch plan diagram with every plan, its timing, fixed inputs and workflow, and one diagram per
    workflow of workflows.py with the tasks it calls."""
    flyte = EXAMPLES / "digits" / "flyte"
    readme = (flyte / "README.md").read_text()
    assert "| cron `0 0 * * *` | At 12:00 AM |" in readme
    assert "| cron `@daily` | At 12:00 AM |" in readme
    assert "| fixed rate `timedelta(days=1)` | Every 1 day |" in readme
    blocks = mermaid_blocks(readme)
    workflows_py = (flyte / "digits" / "workflows.py").read_text()
    workflows = [
        node.name
        for node in ast.parse(workflows_py).body
        if isinstance(node, ast.FunctionDef) and any(ast.unparse(d) == "workflow" for d in node.decorator_list)
    ]
    assert len(blocks) == 1 + len(workflows) >= 4
    plan_labels = check_mermaid(blocks[0])
    launch_plans = re.findall(
        r"^(\w+) = LaunchPlan\.get_or_create\(", (flyte / "digits" / "launch_plans.py").read_text(), re.M
    )
    assert launch_plans and all(any(label.startswith(name + "\n") for label in plan_labels) for name in launch_plans)
    daily = next(label for label in plan_labels if label.startswith("cron_daily_training\n"))
    assert daily.split("\n")[1:3] == ["cron 0 0 * * *: At 12:00 AM", "time = the kickoff time"]
    assert "hyperparameters = {'C': 0.1, 'max_iter': 1000}" in daily.split("\n")
    assert "digits_classifier_train" in plan_labels and "digits_classifier_train_at_scheduled_time" in plan_labels
    for name, block in zip(workflows, blocks[1:]):
        assert f"### `{name}`\n\n```mermaid\n{block}" in readme
        labels = check_mermaid(block)
        assert "digits_dataset_reader" in labels or name.endswith("from_features")
        assert labels[-1].startswith("outputs: ")
    train = check_mermaid(blocks[1 + workflows.index("digits_classifier_train")])
    assert train[:2] == ["time: datetime", "labeled: bool"] and "digits_classifier_train_task" in train


HOSTILE = '"]; click p0 call alert(1) %%\n```\n#x;<b>`|'
HOSTILE_APP = f"""
from datetime import datetime
from typing import List

import pandas as pd
from sklearn.linear_model import LogisticRegression
from unionml import Dataset, Model

dataset = Dataset(name={HOSTILE!r}, targets=["target"])
model = Model(name={HOSTILE!r}, init=LogisticRegression, dataset=dataset)


@dataset.reader
def reader(time: datetime, tag: str = "") -> pd.DataFrame:
    return pd.DataFrame({{"x": [1.0, 2.0], "target": [0, 1]}})


@model.trainer
def trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
    return estimator.fit(features, target.squeeze())


@model.predictor
def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> List[float]:
    return [float(x) for x in estimator.predict(features)]


@model.evaluator
def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return float(estimator.score(features, target.squeeze()))


model.schedule_training("nightly.v1-a", expression="0 0 * * *", reader_time_arg="time", tag={HOSTILE!r},
                        hyperparameters={{{HOSTILE!r}: 1}})
"""


def test_hostile_names_and_values_stay_inside_their_mermaid_labels(tmp_path):
    (tmp_path / "app.py").write_text(HOSTILE_APP)
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    readme = (tmp_path / "flyte" / "README.md").read_text()
    assert readme.count("```") % 2 == 0
    blocks = mermaid_blocks(readme)
    assert len(blocks) >= 3
    labels = [label for block in blocks for label in check_mermaid(block)]
    plan = next(label for label in labels if label.startswith("nightly.v1-a\n")).split("\n")
    shown = repr(HOSTILE)  # the fixed input as the launch plan writes it, cut to 40 characters
    assert f"tag = {shown[:37]}..." in plan, plan
    assert f"hyperparameters = {{{shown[:36]}..." in plan, plan
