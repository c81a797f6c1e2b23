"""The app's own modules, found as Python imports them (local_modules.py; issue 19, items 1 to 4).

- tests/apps/sketchbook: unionml-demo's pictionary layout: the app is `sketchbook/main.py` inside its
  own package, imports its siblings absolutely (`from sketchbook.dataset import ...`), the package's
  `__init__.py` re-exports the model (`from .main import model`), a sibling the components never
  import imports the app (a FastAPI-style `serving.py`), and a helper lives in `strokes/`, a
  namespace package (no `__init__.py`). It generates, packages with pyflyte, passes flyteadmin's
  rules, never imports unionml, and trains with exactly unionml 0.2.1's metrics.
- small variants of the digits example in tmp_path: namespace helpers beside a plain app, an
  `__init__` the components take names from, imports inside components, missing submodules.
"""

from __future__ import annotations

import ast
import json
import shutil
import textwrap
from pathlib import Path

import pytest

from unionml_codegen import codes
from unionml_codegen.diagnostics import AppError
from unionml_codegen.generate import generate
from unionml_codegen.read.local_modules import STUB

from ..helpers import EXAMPLES, REPO, read_tree, run_cli, run_python
from ..support.flyte_package import describe_launch_plan, flyteadmin_problems, load_entities, package

SKETCHBOOK = REPO / "tests" / "apps" / "sketchbook"

ORACLE = """
import json
from sketchbook.main import model
assert type(model).__module__ == "unionml.model"
_, metrics = model.train(hyperparameters={"n_estimators": 15, "random_state": 3}, count=300)
print(json.dumps(metrics))
"""

GENERATED = """
import json, sys
from sketchbook_main.launch_plans import nightly_sketch_training
outputs = nightly_sketch_training()
assert outputs.hyperparameters == {"n_estimators": 15, "random_state": 3}, outputs.hyperparameters
print(json.dumps({"metrics": outputs.metrics, "unionml": sorted(m for m in sys.modules if m.split(".")[0] == "unionml")}))
"""


@pytest.fixture(scope="module")
def sketchbook(tmp_path_factory) -> Path:
    """The sketchbook project copied (with a pyproject.toml at its root, as a real one has) and generated."""
    root = tmp_path_factory.mktemp("sketchbook") / "sketchbook"
    shutil.copytree(SKETCHBOOK, root, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text('[project]\nname = "sketchbook"\nversion = "0"\n')
    result = run_cli("generate", "sketchbook/main.py", "-o", "flyte", cwd=root)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr, result.stderr
    return root


def _requirements(out: Path) -> list[str]:
    return [line for line in (out / "requirements.txt").read_text().splitlines() if line and line[0] != "#"]


def test_an_app_inside_its_own_package_copies_the_siblings_it_imports_and_lists_no_local_module(sketchbook):
    out = sketchbook / "flyte"
    files = read_tree(out)
    copied = sorted(path for path in files if not path.startswith("sketchbook_main/") and "/" in path)
    assert copied == [
        "sketchbook/__init__.py",
        "sketchbook/dataset.py",
        "sketchbook/strokes.py",  # imported by dataset.py, not by the app
        "sketchbook/trainer.py",
        "strokes/scale.py",  # the namespace package, without an __init__.py, as in the app
    ]
    for path in ("sketchbook/dataset.py", "sketchbook/strokes.py", "sketchbook/trainer.py", "strokes/scale.py"):
        assert files[path] == (SKETCHBOOK / path).read_bytes()
    assert _requirements(out) == ["flytekit>=1.16,<2", "pandas", "pyarrow", "scikit-learn"]
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["sketchbook", "sketchbook_main", "strokes"]
    manifest = json.loads((out / ".unionml-codegen.json").read_text())
    assert manifest["options"]["package"] == "sketchbook_main"
    components = files["sketchbook_main/components.py"].decode()
    assert "from sketchbook.dataset import load_sketches" in components
    assert "from strokes.scale import SCALE" in components


def test_the_packages_init_that_re_exports_the_model_is_written_empty_and_the_app_never_copied(sketchbook):
    files = read_tree(sketchbook / "flyte")
    assert "sketchbook/main.py" not in files and "sketchbook/serving.py" not in files
    init = files["sketchbook/__init__.py"].decode()
    assert init == STUB.format(path="sketchbook/__init__.py", app="sketchbook.main")
    assert compile(init, "__init__.py", "exec").co_names == ()
    for path, data in files.items():
        if path.endswith(".py"):
            imported = {
                ("." * getattr(node, "level", 0)) + (getattr(node, "module", None) or alias.name)
                for node in ast.walk(ast.parse(data))
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names
            }
            assert not {"unionml", ".main", "sketchbook.main"} & imported, (path, imported)


def test_the_sketchbook_project_packages_passes_flyteadmins_rules_and_trains_as_unionml_without_it(
    sketchbook, tmp_path
):
    out = sketchbook / "flyte"
    entities = load_entities(package(out, "sketchbook_main", output=tmp_path / "sketchbook.tgz"))
    plan = entities.launch_plans["nightly_sketch_training"]
    assert describe_launch_plan(plan).schedule_kind
    assert flyteadmin_problems(plan, entities.workflows) == []
    generated = json.loads(run_python(GENERATED, cwd=out).stdout.strip().splitlines()[-1])
    assert generated["unionml"] == []  # the project never imports unionml, nor the app
    expected = json.loads(run_python(ORACLE, cwd=sketchbook).stdout.strip().splitlines()[-1])
    assert generated["metrics"] == expected  # exact floats


# the import root and namespace packages, in small variants of the digits example


def _digits(tmp_path: Path, where: str, replacements: dict[str, str], files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    source = (EXAMPLES / "digits" / "app.py").read_text()
    for old, new in replacements.items():
        assert old in source
        source = source.replace(old, new)
    app = tmp_path / where
    app.parent.mkdir(parents=True, exist_ok=True)
    app.write_text(source)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    return app


SCALED = {"estimator.fit(features,": "estimator.fit(features / ONE,"}


def test_a_namespace_package_beside_a_plain_app_is_copied_not_listed_as_a_requirement(tmp_path):
    imports = {"from unionml import Dataset, Model": "from helpers.mod import ONE\nfrom unionml import Dataset, Model"}
    app = _digits(tmp_path, "shop/app.py", {**imports, **SCALED}, {"shop/helpers/mod.py": "ONE = 1.0\n"})
    (tmp_path / "shop" / "helpers" / "notes.txt").write_text("not a module\n")
    generate(app, tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "helpers" / "mod.py").read_text() == "ONE = 1.0\n"
    assert not (out / "helpers" / "__init__.py").exists() and not (out / "helpers" / "notes.txt").exists()
    assert _requirements(out) == ["flytekit>=1.16,<2", "pandas", "pyarrow", "scikit-learn"]
    run_python("import shop.workflows, shop.launch_plans; print(shop.components.ONE)", cwd=out)


def test_a_directory_of_data_named_like_a_distribution_is_not_taken_for_a_module(tmp_path):
    imports = {"from unionml import Dataset, Model": "import requests\nfrom unionml import Dataset, Model"}
    uses = {"return data if labeled": "assert requests\n    return data if labeled"}
    app = _digits(tmp_path, "shop/app.py", {**imports, **uses}, {"shop/requests/rows.csv": "a,b\n"})
    generate(app, tmp_path / "out")
    assert "requests" in _requirements(tmp_path / "out")
    assert not (tmp_path / "out" / "requests").exists()


def test_an_app_in_a_package_without_a_project_marker_imports_from_the_package_chains_root(tmp_path):
    """No pyproject.toml nor .git: the import root is still the first directory without __init__.py."""
    imports = {"from unionml import Dataset, Model": "from shop.scaling import ONE\nfrom unionml import Dataset, Model"}
    app = _digits(tmp_path, "repo/shop/main.py", {**imports, **SCALED}, {
        "repo/shop/__init__.py": "", "repo/shop/scaling.py": "ONE = 1.0\n",
    })  # fmt: skip
    (tmp_path / "pyproject.toml").unlink()
    result = run_cli("generate", "shop/main.py", "-o", "flyte", cwd=tmp_path / "repo")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "repo" / "flyte"
    assert sorted(read_tree(out / "shop")) == ["__init__.py", "scaling.py"]
    assert (out / "shop_main" / "workflows.py").is_file()
    assert "shop" not in _requirements(out)
    run_python("import shop_main.workflows, shop_main.launch_plans", cwd=out)


# an __init__ the components take names from, and other modules that import the app


def test_names_taken_from_an_init_that_imports_the_app_are_an_error_at_the_import(tmp_path):
    imports = {"from unionml import Dataset, Model": "from shop import ONE\nfrom unionml import Dataset, Model"}
    app = _digits(tmp_path, "shop/main.py", {**imports, **SCALED}, {
        "shop/__init__.py": "from .main import model\n\nONE = 1.0\n",
    })  # fmt: skip
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    assert error.code == codes.LOCAL_MODULE_IMPORTS_APP.code
    assert (error.position.line, error.position.column) == (16, 1)  # the import
    assert error.message == (
        "`from shop import ONE` takes names from shop/__init__.py, which imports the app's own module "
        "'shop.main'; the generated project must not import the app, which builds the unionml objects"
    )
    assert not (tmp_path / "out").exists()


def test_a_module_the_components_need_that_imports_the_app_is_an_error(tmp_path):
    imports = {"from unionml import Dataset, Model": "from shop.scaling import ONE\nfrom unionml import Dataset, Model"}
    app = _digits(tmp_path, "shop/main.py", {**imports, **SCALED}, {
        "shop/__init__.py": "",
        "shop/scaling.py": "from shop.main import dataset\n\nONE = 1.0\n",
    })  # fmt: skip
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out")
    messages = [(d.code, d.message) for d in raised.value.diagnostics.errors]
    assert messages == [
        (
            codes.LOCAL_MODULE_IMPORTS_APP.code,
            "the module shop/scaling.py, which the components need, imports the app's own module 'shop.main'; "
            "the generated project must not import the app, which builds the unionml objects",
        )
    ]


def test_a_copied_module_that_imports_unionml_is_an_error(tmp_path):
    imports = {"from unionml import Dataset, Model": "from scaling import ONE\nfrom unionml import Dataset, Model"}
    app = _digits(tmp_path, "shop/app.py", {**imports, **SCALED}, {
        "shop/scaling.py": "from unionml import Dataset\n\nONE = 1.0\n",
    })  # fmt: skip
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    assert error.code == codes.UNIONML_IN_COMPONENTS.code and "scaling.py" in error.message


# imports inside the components (item 3)


def test_imports_inside_a_component_are_followed_like_module_level_ones(tmp_path):
    reader = {
        "    data = load_digits(as_frame=True).frame.head(snapshot_size(time))": (
            "    import helpers\n    import scipy.stats\n\n"
            "    data = load_digits(as_frame=True).frame.head(helpers.rows(snapshot_size(time)))\n"
            "    assert scipy.stats.norm.cdf(0.0) == 0.5"
        ),
    }
    app = _digits(tmp_path, "shop/app.py", reader, {"shop/helpers.py": "def rows(count):\n    return count - 1\n"})
    generate(app, tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "helpers.py").read_text() == "def rows(count):\n    return count - 1\n"
    assert _requirements(out) == ["flytekit>=1.16,<2", "pandas", "pyarrow", "scikit-learn", "scipy"]
    run = run_python(
        "from datetime import datetime\nfrom shop import workflows\n"
        "print(len(workflows.components.reader(time=datetime(2026, 11, 2))))",
        cwd=out,
    )
    assert run.stdout.split() == ["1049"]  # 1000 + 25 * 2 - 1: helpers.py ran in the project


def test_a_dynamic_import_of_a_constant_name_is_followed_and_any_other_is_a_warning(tmp_path):
    uses = {
        "from unionml import Dataset, Model": "import importlib\n\nfrom unionml import Dataset, Model",
        "    return data if labeled": (
            '    importlib.import_module("helpers")\n'
            '    __import__("scipy.stats")\n'
            '    importlib.import_module(f"sklearn.{time.year}")\n'
            "    return data if labeled"
        ),
    }
    app = _digits(tmp_path, "shop/app.py", uses, {"shop/helpers.py": "ONE = 1\n"})
    result = generate(app, tmp_path / "out")
    assert (tmp_path / "out" / "helpers.py").is_file()
    assert "scipy" in _requirements(tmp_path / "out")
    (warning,) = [d for d in result.diagnostics.items if d.code != codes.FIXED_RATE_KICKOFF.code]
    assert warning.code == codes.DYNAMIC_IMPORT.code and warning.severity == "warning"
    assert (warning.position.line, warning.position.column) == (37, 5)
    assert "importlib.import_module(f'sklearn.{time.year}')" in warning.message


def test_unionml_imported_inside_a_component_is_an_error(tmp_path):
    uses = {"    return data if labeled": "    import unionml\n\n    return data if labeled"}
    app = _digits(tmp_path, "shop/app.py", uses, {})
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    assert error.code == codes.UNIONML_IN_COMPONENTS.code and (error.position.line, error.position.column) == (33, 5)


# a submodule that does not exist (item 4)


@pytest.mark.parametrize(
    "statement, where, line",
    [
        ("from mypkg.types import Row", "module", 16),
        ("import mypkg.types", "module", 16),
        ("from mypkg import types", "module", 16),
        ("from mypkg.types import Row", "function", 32),
    ],
)
def test_a_name_imported_from_a_local_submodule_that_does_not_exist_is_an_error_at_the_import(
    tmp_path, statement, where, line
):
    if where == "module":
        uses = {"from unionml import Dataset, Model": f"{statement}\nfrom unionml import Dataset, Model"}
        uses["    return data if labeled"] = (
            "    assert " + ("Row" if "Row" in statement else "mypkg.types" if "import mypkg" in statement else "types")
        ) + "\n    return data if labeled"
    else:
        uses = {"    data = load_digits(": f"    {statement}\n\n    assert Row\n    data = load_digits("}
    app = _digits(tmp_path, "shop/app.py", uses, {"shop/mypkg/__init__.py": "", "shop/mypkg/rows.py": "Row = dict\n"})
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    assert error.code == codes.MISSING_LOCAL_MODULE.code
    assert error.position.line == line
    assert error.message.endswith(
        "the app's own package 'mypkg' has no module 'types': there is no mypkg/types.py nor mypkg/types/"
    )
    assert not (tmp_path / "out").exists()


def test_a_missing_submodule_in_a_copied_module_is_an_error_naming_that_module(tmp_path):
    imports = {"from unionml import Dataset, Model": "from mypkg.rows import Row\nfrom unionml import Dataset, Model"}
    uses = {"    return data if labeled": "    assert Row\n    return data if labeled"}
    app = _digits(tmp_path, "shop/app.py", {**imports, **uses}, {
        "shop/mypkg/__init__.py": "", "shop/mypkg/rows.py": "from mypkg.types import Cell\n\nRow = dict\n",
    })  # fmt: skip
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out")
    (error,) = raised.value.diagnostics.errors
    assert error.code == codes.MISSING_LOCAL_MODULE.code
    assert error.message.startswith("`from mypkg.types import Cell` (in mypkg/rows.py): ")
