"""Modules next to the app that the components import are copied into the project, and their own
third-party imports go into requirements.txt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from unionml_codegen.diagnostics import AppError
from unionml_codegen.options import Options
from unionml_codegen.generate import generate

from ..helpers import EXAMPLES, run_cli, run_python
from ..support.flyte_package import load_entities, package

FEATURES = b"import numpy as np\n\n\ndef scale(frame):\n    return frame / np.float64(16.0)\n"


def test_local_module_is_copied_and_its_requirements_listed(tmp_path):
    app_dir = tmp_path / "shop"
    app_dir.mkdir()
    source = (EXAMPLES / "digits" / "app.py").read_text()
    source = source.replace(
        "from unionml import Dataset, Model", "from unionml import Dataset, Model\n\nfrom features import scale"
    )
    source = source.replace("estimator.fit(features,", "estimator.fit(scale(features),")
    (app_dir / "app.py").write_text(source)
    (app_dir / "features.py").write_bytes(FEATURES)
    (app_dir / "unused.py").write_text("raise SystemExit('never imported')\n")

    generate(app_dir / "app.py", tmp_path / "out")

    out = tmp_path / "out"
    assert (out / "features.py").read_bytes() == FEATURES
    assert not (out / "unused.py").exists()
    assert "numpy" in (out / "requirements.txt").read_text().split()
    assert "from features import scale" in (out / "shop" / "components.py").read_text()
    result = run_python("import shop.launch_plans, shop.workflows; print(shop.workflows.components.scale)", cwd=out)
    assert "function scale" in result.stdout


def test_a_relatively_imported_module_is_copied_into_the_package(tmp_path):
    app_dir = tmp_path / "shop"
    app_dir.mkdir()
    source = (EXAMPLES / "digits" / "app.py").read_text()
    source = source.replace(
        "from unionml import Dataset, Model", "from unionml import Dataset, Model\n\nfrom .features import scale"
    )
    source = source.replace("estimator.fit(features,", "estimator.fit(scale(features),")
    (app_dir / "app.py").write_text(source)
    (app_dir / "features.py").write_bytes(FEATURES)

    generate(app_dir / "app.py", tmp_path / "out")

    out = tmp_path / "out"
    assert (out / "shop" / "features.py").read_bytes() == FEATURES
    assert not (out / "features.py").exists()
    run_python("import shop.workflows", cwd=out)


def _digits_variant(tmp_path, replacements: dict[str, str]) -> Path:
    app_dir = tmp_path / "shop"
    app_dir.mkdir(exist_ok=True)
    source = (EXAMPLES / "digits" / "app.py").read_text()
    for old, new in replacements.items():
        assert old in source
        source = source.replace(old, new)
    (app_dir / "app.py").write_text(source)
    return app_dir / "app.py"


def _requirements(out: Path) -> list[str]:
    lines = (out / "requirements.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def test_an_app_that_imports_flytekit_lists_it_once_with_the_supported_versions(tmp_path):
    app = _digits_variant(tmp_path, {
        "from unionml import Dataset, Model": "from flytekit import Resources\nfrom unionml import Dataset, Model",
        "@model.trainer(cache=True,": "@model.trainer(requests=Resources(cpu='1'), cache=True,",
    })  # fmt: skip
    generate(app, tmp_path / "out")
    flytekit = [line for line in _requirements(tmp_path / "out") if line.startswith("flytekit")]
    assert flytekit == ["flytekit>=1.16,<2"]


# the generated package's name


def test_a_package_named_after_a_standard_module_gets_a_suffix_and_packages(tmp_path):
    app_dir = tmp_path / "datetime"
    app_dir.mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", app_dir / "app.py")
    result = run_cli("generate", "app.py", "-o", "../out", cwd=app_dir)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.is_dir()) == ["datetime_app"]
    entities = load_entities(package(tmp_path / "out", "datetime_app", output=tmp_path / "p.tgz"))
    assert "cron_daily_training" in entities.launch_plans
    assert json.loads((tmp_path / "out" / ".unionml-codegen.json").read_text())["options"]["package"] == "datetime_app"


def test_a_package_named_after_a_module_the_app_imports_gets_a_suffix(tmp_path):
    app = _digits_variant(tmp_path, {
        "from unionml import Dataset, Model": "from unionml import Dataset, Model\n\nfrom shop import scale",
        "estimator.fit(features,": "estimator.fit(scale(features),",
    })  # fmt: skip
    (app.parent / "shop.py").write_bytes(FEATURES)
    generate(app, tmp_path / "out")
    assert (tmp_path / "out" / "shop_app" / "workflows.py").is_file()
    assert (tmp_path / "out" / "shop.py").read_bytes() == FEATURES
    run_python("import shop_app.workflows, shop_app.launch_plans", cwd=tmp_path / "out")


@pytest.mark.parametrize("name", ["my-app", "a/b", ".", "__pycache__", "class", "2024_model", "json", "flytekit"])
def test_a_package_option_that_cannot_name_a_package_is_a_usage_error(tmp_path, digits_app, name):
    result = run_cli("generate", str(digits_app), "-o", str(tmp_path / "out"), "--package", name)
    assert result.returncode == 2
    assert "Invalid value for '--package'" in result.stderr and repr(name) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_configured_package_that_shadows_a_module_the_app_imports_is_an_error(tmp_path):
    app = _digits_variant(tmp_path, {"import pandas as pd": "import pandas as pd\nimport requests"})
    with pytest.raises(AppError) as raised:
        generate(app, tmp_path / "out", Options(package="requests"))
    (error,) = raised.value.diagnostics.errors
    assert error.message == "the package name 'requests' would shadow the module requests that the app imports"
    assert "--package" in error.hint
    assert not (tmp_path / "out").exists()


def test_an_output_inside_a_local_package_the_project_copies_is_an_error(tmp_path):
    app = _digits_variant(tmp_path, {
        "from unionml import Dataset, Model": "from unionml import Dataset, Model\n\nfrom helpers.scaling import scale",
        "estimator.fit(features,": "estimator.fit(scale(features),",
    })  # fmt: skip
    (app.parent / "helpers").mkdir()
    (app.parent / "helpers" / "__init__.py").write_text("")
    (app.parent / "helpers" / "scaling.py").write_bytes(FEATURES)
    with pytest.raises(AppError) as raised:
        generate(app, app.parent / "helpers" / "flyte")
    (error,) = raised.value.diagnostics.errors
    assert "is inside the package 'helpers'" in error.message
    assert not (app.parent / "helpers" / "flyte").exists()
    generate(app, tmp_path / "flyte")  # beside it: fine
    assert sorted(p.name for p in (tmp_path / "flyte" / "helpers").iterdir()) == ["__init__.py", "scaling.py"]


# versions pinned by the app's own project


def _pinned_app(tmp_path, files: dict[str, str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    app = _digits_variant(tmp_path, {})
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return app


def test_requirements_carry_the_versions_the_apps_requirements_file_pins(tmp_path):
    app = _pinned_app(tmp_path, {
        "shop/requirements.txt": "# pinned\nscikit-learn==1.5.2  # the model\nPandas == 2.2.3\n-r other.txt\n"
                                 "flytekit==1.10.0\nunionml==0.2.1\npyarrow @ https://example.com/p.whl\n",
    })  # fmt: skip
    generate(app, tmp_path / "out")
    assert _requirements(tmp_path / "out") == ["flytekit>=1.16,<2", "Pandas==2.2.3", "pyarrow", "scikit-learn==1.5.2"]


def test_an_unpinned_app_lists_bare_names(tmp_path):
    app = _pinned_app(tmp_path, {"shop/requirements.txt": "scikit-learn\npandas>=2\n"})
    generate(app, tmp_path / "out")
    assert _requirements(tmp_path / "out") == ["flytekit>=1.16,<2", "pandas>=2", "pyarrow", "scikit-learn"]
    (app.parent / "requirements.txt").unlink()
    generate(app, tmp_path / "out")
    assert _requirements(tmp_path / "out") == ["flytekit>=1.16,<2", "pandas", "pyarrow", "scikit-learn"]


def test_pins_come_from_the_nearest_file_up_to_the_repository_root(tmp_path):
    app = _pinned_app(tmp_path / "repo" / "apps", {
        "../.git/HEAD": "ref: refs/heads/main\n",
        "../requirements.in": "pandas==1.0.0\npyarrow==17.0.0\n",
        "pyproject.toml": '[project]\nname = "shop"\ndependencies = ["pandas==2.2.3", "scikit-learn~=1.5.0"]\n',
    })  # fmt: skip
    (tmp_path / "requirements.txt").write_text("pyarrow==1.0.0\n")  # above the repository: not read
    generate(app, tmp_path / "out")
    assert _requirements(tmp_path / "out") == [
        "flytekit>=1.16,<2", "pandas==2.2.3", "pyarrow==17.0.0", "scikit-learn~=1.5.0"
    ]  # fmt: skip
