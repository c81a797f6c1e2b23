"""Modules next to the app that the components import are copied into the project, and their own
third-party imports go into requirements.txt."""

from __future__ import annotations

from pathlib import Path

from unionml_codegen.generate import generate

from .conftest import EXAMPLES, run_python

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
