"""The generated modules' imports are in isort's sections and order: the standard library, third-party, then
relative imports, a blank line between sections, and in a section every `import x` before every `from x import y`,
each by module. components.py keeps the app's own import statements, in the app's order, with the same blank
line between its sections."""

from __future__ import annotations

import ast
import sys

import pytest

from unionml_codegen.generate import render_app

from ..helpers import EXAMPLES

GENERATED = sorted(
    path for path in EXAMPLES.glob("*/flyte*/*/*.py") if path.name != "components.py" and path.parent.name != "models"
)


def _section(node: ast.stmt, package: str = "") -> int:
    """isort's section: the standard library (0), third-party (1), the project's own package, relative or not (2)."""
    if isinstance(node, ast.ImportFrom) and node.level:
        return 2
    top = _module(node).split(".")[0]
    return 2 if top == package else 0 if top in sys.stdlib_module_names else 1


def _module(node: ast.stmt) -> str:
    return node.names[0].name if isinstance(node, ast.Import) else node.module or ""


def _import_blocks(text: str) -> list[list[ast.stmt]]:
    """The top-level imports of a module, in blocks of consecutive lines."""
    tree = ast.parse(text)
    blocks: list[list[ast.stmt]] = []
    last_line = None
    for node in tree.body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            if blocks:
                break  # the imports at the top only
            continue
        if last_line is not None and node.lineno == last_line + 1:
            blocks[-1].append(node)
        else:
            blocks.append([node])
        last_line = node.end_lineno
    return blocks


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_a_generated_module_imports_in_isort_s_sections_and_order(path):
    package = path.parent.name
    blocks = _import_blocks(path.read_text())
    sections = [{_section(node, package) for node in block} for block in blocks]
    assert all(len(section) == 1 for section in sections), (path, sections)
    assert [s.pop() for s in sections] == sorted({_section(n, package) for b in blocks for n in b}), path
    for block in blocks:
        keys = [(isinstance(n, ast.ImportFrom), _module(n).lower()) for n in block]
        assert keys == sorted(keys), (path, keys)


APP = """\
import os
from datetime import datetime
from typing import List
import pandas as pd
from unionml import Dataset, Model

dataset = Dataset()
model = Model(init=dict, dataset=dataset)

@dataset.reader
def reader(labeled: bool = True) -> pd.DataFrame:
    return pd.DataFrame({"at": [datetime.now()], "cwd": [os.getcwd()]})

@model.trainer
def trainer(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> dict:
    return estimator

@model.predictor
def predictor(estimator: dict, features: pd.DataFrame) -> List[float]:
    return []

@model.evaluator
def evaluator(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> float:
    return 1.0
"""


def test_components_keep_the_app_s_imports_in_their_sections(tmp_path):
    """The app writes its imports without a blank line between the standard library and pandas; components.py
    keeps them, in the app's order, with that blank line."""
    app = tmp_path / "app.py"
    app.write_text(APP)
    files = render_app(app, tmp_path / "flyte").files
    [text] = [v for k, v in files.items() if k.endswith("/components.py")]
    blocks = _import_blocks(text)
    assert [[_section(node) for node in block] for block in blocks] == [[0, 0, 0], [1]], text
