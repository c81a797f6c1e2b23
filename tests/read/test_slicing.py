"""Slicing (slicing.py, through analyze.read_app): the code the components need, and nothing else.

Apps are written out in full up to the part under test; `read` appends a trainer, predictor
and evaluator that use nothing from the module, unless told otherwise.
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unionml_codegen.read import read_app
from unionml_codegen.diagnostics import AppError, Diagnostics, Position
from unionml_codegen.options import Options
from unionml_codegen.generate import render_app
from unionml_codegen.spec import App

MODEL_COMPONENTS = """

@model.trainer
def trainer(estimator: dict, features: list, target: list) -> dict:
    return estimator

@model.predictor
def predictor(estimator: dict, features: list) -> dict:
    return {}

@model.evaluator
def evaluator(estimator: dict, features: list, target: list) -> float:
    return 1.0
"""

PREDICTOR_AND_EVALUATOR = "\n\n@model.predictor" + MODEL_COMPONENTS.split("@model.predictor")[1]

#: the three functions above, as the sliced code shows them
SLICED_MODEL_COMPONENTS = """
def trainer(estimator: dict, features: list, target: list) -> dict:
    return estimator

def predictor(estimator: dict, features: list) -> dict:
    return {}

def evaluator(estimator: dict, features: list, target: list) -> float:
    return 1.0
"""


def read(source: str, app_dir: Path | None = None, components: str = MODEL_COMPONENTS) -> tuple[App, Diagnostics]:
    diagnostics = Diagnostics("app.py")
    app = read_app(textwrap.dedent(source) + components, "app.py", app_dir, "app", diagnostics)
    assert app is not None
    return app, diagnostics


def sliced(source: str, app_dir: Path | None = None, components: str = MODEL_COMPONENTS) -> App:
    """Read an app that must have no problems; its sliced code must compile."""
    app, diagnostics = read(source, app_dir, components)
    assert not diagnostics.items, diagnostics.render(textwrap.dedent(source) + components)
    compile(app.components_code, "components.py", "exec")
    return app


def test_before_and_after():
    app = sliced(
        """\
        import os, sys
        import requests
        from datetime import datetime

        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        from unionml import Dataset, Model

        DATA_DIR = "/data"
        UNUSED = 3


        def data_path(name: str) -> str:
            return os.path.join(DATA_DIR, name)


        # reads one file
        def load(name: str) -> pd.DataFrame:
            return pd.read_csv(data_path(name))


        def unused_helper():
            return requests.get("https://example.com")


        dataset = Dataset(name="digits", targets=["target"])
        model = Model(name="clf", init=LogisticRegression, dataset=dataset)


        @dataset.reader
        def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
            return load("digits.csv")


        @model.trainer(cache=True)
        def trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
            return estimator.fit(features, target.squeeze())


        @model.predictor
        def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> list:
            return [float(x) for x in estimator.predict(features)]


        @model.evaluator
        def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
            return float(estimator.score(features, target))


        open("trained.txt", "w").write(str(datetime.now()))
        print("training", file=sys.stderr)
        model_object, metrics = model.train(hyperparameters={"C": 1.0})
        model.schedule_training("daily", expression="@daily")
        if __name__ == "__main__":
            model.train(hyperparameters={"C": 2.0})
        """,
        components="",
    )
    assert app.components_code == textwrap.dedent("""\
        import os
        from datetime import datetime

        import pandas as pd
        from sklearn.linear_model import LogisticRegression
        DATA_DIR = "/data"

        def data_path(name: str) -> str:
            return os.path.join(DATA_DIR, name)

        # reads one file
        def load(name: str) -> pd.DataFrame:
            return pd.read_csv(data_path(name))

        def reader(time: datetime, labeled: bool = True) -> pd.DataFrame:
            return load("digits.csv")

        def trainer(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> LogisticRegression:
            return estimator.fit(features, target.squeeze())

        def predictor(estimator: LogisticRegression, features: pd.DataFrame) -> list:
            return [float(x) for x in estimator.predict(features)]

        def evaluator(estimator: LogisticRegression, features: pd.DataFrame, target: pd.DataFrame) -> float:
            return float(estimator.score(features, target))
        """)
    assert app.component_names == {
        "os", "datetime", "pd", "LogisticRegression", "DATA_DIR", "data_path", "load",
        "reader", "trainer", "predictor", "evaluator",
    }  # fmt: skip
    assert app.third_party_modules == {"pandas", "sklearn"}
    assert app.local_modules == ()


def test_helpers_are_followed_transitively():
    app = sliced("""\
        from unionml import Dataset, Model

        BASE = 10
        SCALE = BASE * 2
        NOT_NEEDED = BASE + 1

        class Scaler:
            factor = SCALE

        def scale(x):
            return x * Scaler.factor

        def prepare(rows):
            return [scale(r) for r in rows]

        def unrelated():
            return NOT_NEEDED

        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> list:
            return prepare([1, 2, 3])
        """)
    code = app.components_code
    for kept in ("BASE = 10", "SCALE = BASE * 2", "class Scaler:", "def scale(x):", "def prepare(rows):"):
        assert kept in code
    assert "NOT_NEEDED" not in code and "def unrelated" not in code
    assert {"BASE", "SCALE", "Scaler", "scale", "prepare", "reader"} <= app.component_names
    assert not {"NOT_NEEDED", "unrelated", "dataset", "model"} & app.component_names


def test_names_used_only_in_signatures_are_kept():
    app = sliced("""\
        from typing import Optional
        from unionml import Dataset, Model

        DEFAULT_LIMIT = 100

        class Row(dict):
            pass

        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        @dataset.reader
        def reader(limit: Optional[int] = DEFAULT_LIMIT) -> list[Row]:
            return []
        """)
    assert "from typing import Optional" in app.components_code
    assert "DEFAULT_LIMIT = 100" in app.components_code
    assert "class Row(dict):" in app.components_code


def test_unionml_decorators_are_removed_and_other_decorators_kept():
    app = sliced("""\
        import functools
        from flytekit import Resources
        from unionml import Dataset, Model

        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        def logged(fn):
            return fn

        @functools.lru_cache(maxsize=None)
        def cached_rows() -> tuple:
            return (1, 2)

        @logged
        @dataset.reader(requests=Resources(cpu="2"))
        @functools.wraps(cached_rows)
        def reader() -> list:
            return list(cached_rows())
        """)
    code = app.components_code
    assert "@functools.lru_cache(maxsize=None)\ndef cached_rows() -> tuple:" in code
    assert "@logged\n@functools.wraps(cached_rows)\ndef reader() -> list:" in code
    assert "dataset" not in code and "@model" not in code
    # task options are rendered into the generated tasks, not into the components module
    assert "Resources" not in code
    assert "flytekit" in app.third_party_modules


@pytest.mark.parametrize(
    "imports, use, kept",
    [
        ("import os, sys", "os.sep", "import os\n"),
        ("import sys, os", "os.sep", "import os\n"),
        ("import os.path, json", "os.path.join('a')", "import os.path\n"),
        ("import numpy as np, json as js", "js.dumps(np.zeros(1))", "import numpy as np, json as js\n"),
        ("from os import path, sep, getcwd", "sep + getcwd()", "from os import sep, getcwd\n"),
        ("from os import path as p, sep", "p.join('a')", "from os import path as p\n"),
        ("import requests\nimport os", "os.sep", "import os\n"),
    ],
)
def test_only_the_imports_used_are_kept(imports, use, kept):
    body = textwrap.dedent("""
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> list:
            return [USE]
        """).replace("USE", use)
    app = sliced(imports + body)
    assert app.components_code.startswith(kept + "\n")
    assert app.components_code.count("import ") == 1


def test_imports_kept_for_one_name_do_not_define_the_others():
    app = sliced("""\
        import os, sys
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> list:
            return [os.sep]
        """)
    assert "os" in app.component_names
    assert "sys" not in app.component_names


def test_what_the_components_do_not_use_is_left_out():
    app = sliced("""\
        import requests
        import unionml
        from unionml import Dataset, Model

        TOKEN = requests.get("https://example.com/token").text
        dataset = unionml.Dataset()
        model = Model(init=dict, dataset=dataset)

        def unused_helper():
            return TOKEN

        @dataset.reader
        def reader() -> list:
            return []

        open("x", "w").write("side effect")
        print("imported")
        model.train(hyperparameters={"C": 1.0})
        model.schedule_training("daily", expression="@daily")
        with open("log.txt", "a") as log:
            log.write("done")
        """)
    code = app.components_code
    for left_out in (
        "requests", "unionml", "TOKEN", "Dataset(", "Model(", "unused_helper", "open(", "print(", "model.train",
        "schedule_training", "log.write",
    ):  # fmt: skip
        assert left_out not in code
    assert code == "def reader() -> list:\n    return []\n" + SLICED_MODEL_COMPONENTS
    assert app.third_party_modules == frozenset()


def test_third_party_modules_are_those_used_and_not_the_standard_library():
    app = sliced("""\
        import json
        import os.path
        import collections.abc
        from datetime import datetime
        import numpy as np
        import pandas as pd
        import scipy.sparse
        import torch
        from sklearn.linear_model import LogisticRegression
        from xgboost import XGBClassifier
        from unionml import Dataset, Model

        dataset = Dataset()
        model = Model(init=LogisticRegression, dataset=dataset)

        def to_frame(rows) -> pd.DataFrame:
            return pd.DataFrame(scipy.sparse.csr_matrix(np.asarray(rows)).toarray())

        @dataset.reader
        def reader(time: datetime) -> pd.DataFrame:
            return to_frame(json.loads(os.path.join("a", "b")))
        """)
    # sklearn: the model's init; torch and xgboost are imported but unused
    assert app.third_party_modules == {"numpy", "pandas", "scipy", "sklearn"}


HELPERS = {"helpers.py": "def clean(rows):\n    return rows\n"}
PACKAGE = {"mylib/__init__.py": "", "mylib/text.py": "def clean(rows):\n    return rows\n"}


@pytest.mark.parametrize(
    "files, statement, call, module",
    [
        (HELPERS, "import helpers", "helpers.clean", "helpers"),
        (HELPERS, "from helpers import clean", "clean", "helpers"),
        (HELPERS, "import helpers as h", "h.clean", "helpers"),
        (PACKAGE, "import mylib.text", "mylib.text.clean", "mylib"),
        (PACKAGE, "from mylib.text import clean", "clean", "mylib"),
        ({}, "from .helpers import clean", "clean", "helpers"),
    ],
)
def test_a_local_module_next_to_the_app_is_local_not_third_party(tmp_path, files, statement, call, module):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    app = sliced(
        f"""\
        import pandas as pd
        {statement}
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> pd.DataFrame:
            return pd.DataFrame({call}([]))
        """,
        app_dir=tmp_path,
    )
    assert app.local_modules == (module,)
    assert app.third_party_modules == {"pandas"}
    assert statement in app.components_code


def test_a_local_module_the_components_do_not_use_is_not_listed(tmp_path):
    (tmp_path / "helpers.py").write_text("X = 1\n")
    app = sliced(
        """\
        import helpers
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)
        print(helpers.X)

        @dataset.reader
        def reader() -> list:
            return []
        """,
        app_dir=tmp_path,
    )
    assert app.local_modules == ()
    assert "helpers" not in app.components_code


def test_a_component_that_uses_the_model_object_is_an_error():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> list:
            return [model.artifact]
        """)
    (error,) = diagnostics.errors
    assert error.position == Position(7, 13)
    assert error.message.startswith("'model' is the unionml model object")
    assert "unionml" in error.hint


def test_a_helper_that_uses_the_dataset_object_is_an_error_at_the_reference():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset(name="digits")
        model = Model(init=dict, dataset=dataset)

        def dataset_name() -> str:
            return dataset.reader

        @dataset.reader
        def reader() -> list:
            return [dataset_name()]
        """)
    (error,) = diagnostics.errors
    assert error.position == Position(6, 12)
    assert error.message.startswith("'dataset' is the unionml dataset object")
    assert "unionml" in error.hint


def test_decorators_that_register_components_do_not_count_as_uses_of_the_objects():
    app = sliced("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> list:
            return []

        @model.init
        def init(C: float = 1.0) -> dict:
            return {"C": C}
        """)
    assert "def init(C: float = 1.0) -> dict:" in app.components_code


def test_a_block_that_defines_a_helper_and_uses_the_model_is_an_error():
    app, diagnostics = read("""\
        import sys
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        if sys.argv:
            def helper():
                return []
            model.train()

        @dataset.reader
        def reader() -> list:
            return helper()
        """)
    assert [(d.position, d.message.split(",")[0]) for d in diagnostics] == [
        (Position(6, 1), "code the components need is defined in a block that also uses the unionml objects"),
        (Position(9, 5), "'model' is the unionml model object"),
    ]


def test_an_import_inside_a_with_block_is_an_error_at_the_block():
    # the generated project would run `open('x')` on every import (fuzz finding F8)
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        with open("x"):
            import json

        @dataset.reader
        def reader() -> dict:
            return json.loads("{}")
        """)
    assert [(d.position, d.message.split(",")[0]) for d in diagnostics.errors] == [
        (Position(5, 1), "code the components need is defined inside a `with` block"),
    ]


def test_an_import_inside_a_harmless_with_block_is_kept():
    app, diagnostics = read("""\
        import contextlib
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        with contextlib.suppress(ImportError):
            import json

        @dataset.reader
        def reader() -> dict:
            return json.loads("{}")
        """)
    assert not diagnostics.errors
    assert "with contextlib.suppress(ImportError):\n    import json\n" in app.components_code


def test_a_conditional_helper_without_unionml_is_kept_whole():
    app = sliced("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        try:
            import ujson as json
        except ImportError:
            import json

        @dataset.reader
        def reader() -> list:
            return json.loads("[]")
        """)
    assert "try:\n    import ujson as json\nexcept ImportError:\n    import json\n" in app.components_code


@pytest.mark.parametrize(
    "top_level",
    [
        'if __name__ == "__main__":\n    features = model.predict(features=[[1.0]])\n    data, total = 1, 2',
        "features = model.predict(features=[[1.0]])\ndata = model.train()\ntotal = 0",
        'features = print("SIDE EFFECT")\ndata = open("side_effect.txt", "w")\nfor total in range(3):\n    pass',
    ],
)
def test_names_a_component_binds_itself_are_not_the_module_level_ones(top_level):
    app = sliced(
        textwrap.dedent("""\
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> list:
            data = [1.0, 2.0]
            data = [x * 2 for x in data]
            total = 0
            for total in data:
                total = total + 1
            return data

        @model.trainer
        def trainer(estimator: dict, features: list, target: list) -> dict:
            features = [float(x) for x in features]
            return estimator
        """) + top_level + "\n",
        components=PREDICTOR_AND_EVALUATOR,
    )
    assert app.components_code.startswith("def reader() -> list:\n")
    for leaked in ("SIDE EFFECT", "side_effect", "model.", "__main__"):
        assert leaked not in app.components_code
    assert app.component_names == {"reader", "trainer", "predictor", "evaluator"}


# The unionml objects' attributes whose values the app states become those values; other uses are
# errors where a schedule needs the code, and leave an optional component out where none does.


def test_known_attributes_of_the_unionml_objects_become_their_values():
    app = sliced("""\
        import pandas as pd
        from unionml import Dataset, Model
        dataset = Dataset(name="digits", features=["a", "b"], targets=["y"], test_size=0.25)
        model = Model(name="clf", init=dict, dataset=dataset)

        def label() -> str:
            return f"{model.name}/{dataset.name}"

        @dataset.reader
        def reader() -> pd.DataFrame:
            frame = pd.DataFrame({"a": [1], "b": [2], "y": [0]}).rename_axis(label())
            assert all(column in frame for column in dataset._features)
            return frame[dataset._features + dataset._targets].head(len(dataset._features)) if dataset._shuffle else frame

        @dataset.feature_loader
        def feature_loader(rows: list) -> pd.DataFrame:
            return pd.DataFrame(rows)[dataset._features]
        """)
    code = app.components_code
    assert "return f\"{'clf'}/{'digits'}\"" in code
    assert "for column in ['a', 'b']" in code
    assert "frame[['a', 'b'] + ['y']].head(len(['a', 'b'])) if True else frame" in code
    assert "return pd.DataFrame(rows)[['a', 'b']]" in code
    assert "dataset" not in code.replace("Dataset", "") and "model." not in code
    assert app.left_out == frozenset()
    compile(code, "components.py", "exec")


@pytest.mark.parametrize(
    "use, changed_at_top_level",
    [
        ("dataset._features.append('c')", ""),  # the list itself would change (unionml shares it)
        ("helper(dataset._features)", ""),  # handed to code that could change it
        ("dataset.name", "dataset.name = 'other'"),
        ("dataset._targets", "del dataset._targets"),
        ("dataset.name", "setattr(dataset, 'name', 'other')"),
        ("dataset.reader", ""),  # not a value the app states
        ("dataset", ""),
        ('f"{dataset.name}"', ""),  # the name has a quote; f-strings before Python 3.12 cannot hold it
    ],
)
def test_other_uses_of_the_objects_in_needed_code_are_errors_that_name_what_is_known(use, changed_at_top_level):
    app, diagnostics = read(f"""\
        from unionml import Dataset, Model
        dataset = Dataset(name="digits'", features=["a"], targets=["y"])
        model = Model(init=dict, dataset=dataset)
        {changed_at_top_level}

        def helper(columns):
            return columns

        @dataset.reader
        def reader() -> list:
            return [{use}]
        """)
    (error,) = diagnostics.errors
    assert error.message.startswith("'dataset' is the unionml dataset object")
    assert "`dataset._features`" in error.hint and "`dataset.name`" in error.hint
    assert (error.position.line, error.position.column) == (11, 13 + use.index("dataset"))


def test_an_optional_component_that_uses_the_objects_is_left_out_with_a_warning():
    app, diagnostics = read("""\
        import pandas as pd
        from unionml import Dataset, Model
        dataset = Dataset(name="digits", targets=["y"])
        model = Model(init=dict, dataset=dataset)

        def columns(frame):
            return [c for c in frame if c in dataset.feature_names()]

        @dataset.reader
        def reader() -> pd.DataFrame:
            return pd.DataFrame({"a": [1], "y": [0]})

        @dataset.feature_loader
        def serve_features(rows: list) -> pd.DataFrame:
            frame = pd.DataFrame(rows)
            return frame[columns(frame)]
        """)
    assert not diagnostics.errors
    (warning,) = diagnostics.items
    assert warning.severity == "warning" and warning.position == Position(7, 38)
    assert warning.message == (
        "the dataset feature_loader 'serve_features' uses the unionml object 'dataset'; it is left out of the "
        "project, with the predict_from_features workflow that calls it (no schedule needs either)"
    )
    assert app.left_out == {("dataset", "feature_loader")}
    assert "serve_features" not in app.components_code and "def columns" not in app.components_code
    assert "def reader()" in app.components_code


# Property: a module-level statement that no component needs never reaches the generated project,
# whatever the components rebind. libcst links a read that comes before a function's own (second)
# binding of a name to the module's binding of that name; the slicer must not follow that link.

#: ways a function body binds NAME more than once (NAME is a local, or a parameter when marked)
REBINDINGS = {
    "twice": "NAME = 1\nNAME = NAME + 1",
    "augmented": "NAME = 0\nNAME += 1",
    "loop": "for NAME in range(2):\n    NAME = NAME * 2",
    "unpacking": "NAME, _other = 1, 2\nNAME = (NAME, _other)",
    "except": "try:\n    NAME = int('x')\nexcept ValueError as NAME:\n    NAME = str(NAME)",
    "walrus": "if (NAME := 1):\n    NAME = NAME + 1",
    "comprehension": "NAME = [NAME for NAME in range(3)]",
    "read_in_loop_first": "for _k in range(2):\n    if _k:\n        print(NAME)\n    NAME = _k",
    "nonlocal": "NAME = 0\ndef _bump():\n    nonlocal NAME\n    NAME = NAME + 1\n_bump()",
    "nested_function": "def _inner():\n    NAME = 1\n    NAME = NAME + 1\n    return NAME\nNAME = _inner()",
    "import": "import json as NAME\nNAME = NAME.dumps",
    "lambda": "NAME = 0\nNAME = (lambda NAME: NAME + 1)(NAME)",
    "delete": "NAME = 1\ndel NAME\nNAME = 2",
    "class_body": "class _Local:\n    NAME = 1\n    NAME = NAME + 1",
}
PARAMETER_REBINDINGS = {
    "parameter": "NAME = NAME",
    "parameter_call": "NAME = list(NAME)",
    "parameter_loop": "for _ in range(2):\n    NAME = NAME[:]",
}
#: module-level statements with a visible effect that bind NAME (the app would run them on import)
SIDE_EFFECTS = {
    "print": 'NAME = print("SIDE EFFECT")',
    "open": 'NAME = open("side_effect.txt", "w")',
    "train": "NAME = model.train(hyperparameters={})",
    "notebook_predict": 'NAME = model.predict(features=print("SIDE EFFECT"))',
    "main_block": 'if __name__ == "__main__":\n    NAME = model.predict(features=print("SIDE EFFECT"))',
    "loop": 'for NAME in range(2):\n    print("SIDE EFFECT", NAME)',
    "with": 'with open("side_effect.txt") as NAME:\n    print(NAME.read())',
    "import": "import side_effect_module as NAME",
    "def": 'def NAME():\n    print("SIDE EFFECT")\nNAME()',
}
PARAMETERS = ("estimator", "features", "target")
NAMES = (*PARAMETERS, "data", "x", "model_object", "metrics")


@st.composite
def rebinding_apps(draw) -> str:
    def body(parameters: tuple[str, ...]) -> tuple[str, set[str]]:
        lines, bound = [], set()
        for _ in range(draw(st.integers(1, 4))):
            name = draw(st.sampled_from([*NAMES, *parameters]))
            forms = {**REBINDINGS, **(PARAMETER_REBINDINGS if name in parameters else {})}
            lines.append(forms[draw(st.sampled_from(sorted(forms)))].replace("NAME", name))
            bound.add(name)
        return textwrap.indent("\n".join(lines), "    ") + "\n", bound

    helper, helper_names = body(("rows",))
    trainer, trainer_names = body(PARAMETERS)
    reader, reader_names = body(())
    statements = [
        SIDE_EFFECTS[draw(st.sampled_from(sorted(SIDE_EFFECTS)))].replace("NAME", name)
        for name in sorted(helper_names | trainer_names | reader_names)
    ]
    split = draw(st.integers(0, len(statements)))
    return (
        "import pandas as pd\nfrom unionml import Dataset, Model\n\n"
        'dataset = Dataset(name="d", targets=["y"])\nmodel = Model(name="m", init=dict, dataset=dataset)\n\n'
        + "\n".join(statements[:split])
        + "\n\ndef helper(rows):\n" + helper + "    return rows\n\n"
        + "@dataset.reader\ndef reader() -> pd.DataFrame:\n" + reader
        + '    return pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})\n\n'
        + "@model.trainer\ndef trainer(estimator: dict, features: pd.DataFrame, target: pd.DataFrame) -> dict:\n"
        + trainer + "    return helper(estimator)\n"
        + PREDICTOR_AND_EVALUATOR
        + "\n".join(statements[split:])
        + '\n\nmodel.schedule_training("daily", expression="@daily")\n'
    )  # fmt: skip


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(rebinding_apps())
def test_a_statement_no_component_needs_never_reaches_the_project_whatever_they_rebind(source):
    with tempfile.TemporaryDirectory() as tmp:
        app_path = Path(tmp) / "app.py"
        app_path.write_text(source)
        try:
            result = render_app(app_path, Path(tmp) / "out", Options(package="app"))
        except AppError as error:
            raise AssertionError(error.diagnostics.render(source)) from None
    assert not result.diagnostics.errors
    for path, text in result.files.items():
        text = text.decode() if isinstance(text, bytes) else text
        for leaked in ("SIDE EFFECT", "side_effect", "model.train(hyperparameters", "model.predict(", "__main__"):
            assert leaked not in text, (path, leaked)
        if path.endswith(".py"):
            compile(text, path, "exec")
    components = result.files["app/components.py"]
    for function in ("def helper(rows):", "def reader()", "def trainer(", "def predictor(", "def evaluator("):
        assert function in components


def test_a_left_out_feature_loader_takes_its_workflow_with_it(tmp_path):
    source = textwrap.dedent("""\
        import pandas as pd
        from unionml import Dataset, Model
        dataset = Dataset(name="d", targets=["y"])
        model = Model(name="m", init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> pd.DataFrame:
            return pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})

        @dataset.feature_loader
        def feature_loader(rows: list) -> pd.DataFrame:
            return dataset.get_features(rows)

        model.schedule_training("daily", expression="@daily")
        """) + PREDICTOR_AND_EVALUATOR.replace("@model.predictor", MODEL_COMPONENTS.split("\n\n@model.predictor")[0] + "\n\n@model.predictor")  # fmt: skip
    (tmp_path / "app.py").write_text(source)
    result = render_app(tmp_path / "app.py", tmp_path / "out", Options(package="app"))
    assert [d.severity for d in result.diagnostics] == ["warning"]
    workflows = result.files["app/workflows.py"]
    assert "predict_from_features" not in workflows and "feature_loader" not in workflows
    assert "def m_predict(" in workflows and "def m_train(" in workflows
    compile(workflows, "workflows.py", "exec")


def test_a_block_whose_helper_reads_a_known_attribute_is_kept():
    app = sliced("""\
        import contextlib
        from unionml import Dataset, Model
        dataset = Dataset(name="digits")
        model = Model(init=dict, dataset=dataset)

        with contextlib.suppress(ImportError):
            def label() -> str:
                return dataset.name

        @dataset.reader
        def reader() -> list:
            return [label()]
        """)
    assert (
        "with contextlib.suppress(ImportError):\n    def label() -> str:\n        return 'digits'\n"
        in app.components_code
    )


def test_a_saver_that_uses_the_objects_is_left_out_with_a_warning():
    app, diagnostics = read("""\
        import joblib
        from unionml import Dataset, Model
        dataset = Dataset()
        model = Model(init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> list:
            return []

        @model.saver
        def saver(estimator: dict, hyperparameters: dict, file: str) -> str:
            joblib.dump({"model": estimator, "trained_on": model.artifact}, file)
            return file
        """)
    assert not diagnostics.errors
    (warning,) = diagnostics.items
    assert warning.position == Position(12, 52)
    assert warning.message == (
        "the model saver 'saver' uses the unionml object 'model'; it is left out of the project (the generated "
        "project never saves a model: prediction schedules load model files)"
    )
    assert app.left_out == {("model", "saver")}
    assert "def saver" not in app.components_code and "joblib" not in app.components_code


# Free names the kept code reads that nothing binds: the generated project would raise NameError when a
# task runs (the app would too), so they are errors at the use. libcst's scopes decide what is bound:
# builtins, parameters (also *args/**kwargs/keyword-only and lambda ones), locals, comprehension and loop
# variables, names a function declares `global` and binds, module-level names, closures.

BOUND_EVERYWHERE = """\
    import math
    from unionml import Dataset, Model
    dataset = Dataset(name="d", targets=["y"])
    model = Model(name="m", init=dict, dataset=dataset)
    SCALE = 2.0

    def setup():
        global CACHE
        CACHE = {}

    def helper(values, *args, factor=1.0, **kwargs):
        total = sum(v * factor for v in values) + len(args) + len(kwargs)
        squares = [x * x for x in range(3)]
        for index in range(2):
            total += index
        try:
            pass
        except ValueError as error:
            print(error)
        with open(__file__) as handle:
            handle.close()
        inner = lambda a, *b, c=1, **d: a + c + SCALE
        def nested():
            return total + squares[0]
        setup()
        return inner(nested(), k=1) + math.pi + len(CACHE) + len(__name__)

    @dataset.reader
    def reader() -> list:
        return [helper([1.0])]
    """


def test_names_bound_in_every_way_python_allows_are_not_errors():
    sliced(BOUND_EVERYWHERE)


@pytest.mark.parametrize(
    "body, name",
    [
        ("return [scale(1.0)]", "scale"),
        ("return [x for x in range(3)] + [x]", "x"),  # a comprehension variable does not leak
        ("total = 1\n            return [totl]", "totl"),
        ("return [(lambda a: a + b)(1)]", "b"),
    ],
)
def test_a_name_nothing_binds_in_a_component_body_is_an_error_at_the_use(body, name):
    source = f"""\
        from unionml import Dataset, Model
        dataset = Dataset(name="d", targets=["y"])
        model = Model(name="m", init=dict, dataset=dataset)

        @dataset.reader
        def reader() -> list:
            {body}
        """
    app, diagnostics = read(source)
    (error,) = diagnostics.errors
    assert error.message == f"'{name}' is not defined: nothing in the app binds it (the project would raise NameError)"
    assert "define or import" in error.hint
    lines = textwrap.dedent(source).splitlines()
    line = lines[error.position.line - 1]
    assert line[error.position.column - 1 :].startswith(name)


def test_an_undefined_name_in_a_helper_the_components_call_is_an_error_and_unused_code_is_not_checked():
    app, diagnostics = read("""\
        from unionml import Dataset, Model
        dataset = Dataset(name="d", targets=["y"])
        model = Model(name="m", init=dict, dataset=dataset)

        def helper():
            return undefined_helper_name

        def unused():
            return also_undefined

        @dataset.reader
        def reader() -> list:
            return [helper()]

        if __name__ == "__main__":
            print(undefined_in_main)
        """)
    assert [(e.message.split("'")[1], e.position) for e in diagnostics.errors] == [
        ("undefined_helper_name", Position(6, 12))
    ]
