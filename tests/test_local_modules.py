"""Modules next to the app that the components import are copied into the project, and their own
third-party imports go into requirements.txt."""

from __future__ import annotations


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
