"""Issue 21, item 4: `pip install` of unionml 0.2.1 and unionml-codegen in either order leaves `unionml generate`
(ours) and `unionml serve --help` (unionml's) both working, and `unionml-codegen` always works.

pip lets the package installed last own `bin/unionml`; when that is unionml, its script runs
`unionml.cli:app`, and the `.pth` file our wheel ships routes it to this program (src/unionml_codegen/route.py).
The wheel is built once from this checkout (`pip wheel --no-deps`, hatchling); each order gets a fresh venv
that sees .venv's site-packages for the dependencies (a .pth naming it, after the venv's own), and installs
unionml==0.2.1 from PyPI and the wheel with `--no-deps --ignore-installed`, in that order or the other."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from ..helpers import REPO

PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> dict[str, Path]:
    """Our wheel, built from the checkout, and unionml 0.2.1's, downloaded once."""
    root = tmp_path_factory.mktemp("install")
    _run([*PIP, "wheel", "--no-deps", "-q", "-w", str(root / "ours"), str(REPO)])
    _run([*PIP, "download", "--no-deps", "-q", "-d", str(root / "theirs"), "unionml==0.2.1"])
    [ours] = (root / "ours").glob("unionml_codegen-*.whl")
    [theirs] = (root / "theirs").glob("unionml-0.2.1-*.whl")
    return {"ours": ours, "theirs": theirs, "root": root}


def _venv(path: Path) -> Path:
    """A venv of this interpreter whose own site-packages come first, then .venv's (the dependencies)."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    python = path / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def test_the_wheel_ships_the_route_and_its_start_up_file(artifacts):
    names = zipfile.ZipFile(artifacts["ours"]).namelist()
    assert "unionml_codegen_route.pth" in names and "unionml_codegen/route.py" in names
    line = zipfile.ZipFile(artifacts["ours"]).read("unionml_codegen_route.pth").decode()
    assert line.startswith("import sys; ") and line.count("\n") == 1  # one line: site.py executes it


@pytest.mark.parametrize("order", [("theirs", "ours"), ("ours", "theirs")], ids=["unionml-first", "unionml-last"])
def test_either_install_order_leaves_both_programs_working(artifacts, order):
    root = artifacts["root"] / "-".join(order)
    python = _venv(root)
    for which in order:
        _run([*PIP, "--python", str(python), "install", "-q", "--no-deps", "--ignore-installed",
              str(artifacts[which])])  # fmt: skip
    bin_ = python.parent
    script = (bin_ / "unionml").read_text()
    owner = "unionml.cli" if order[-1] == "theirs" else "unionml_codegen.quick"
    assert f"from {owner} import" in script  # the package installed last owns bin/unionml
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{bin_}{os.pathsep}{env.get('PATH', '')}"

    def unionml(*args: str, program: str = "unionml", **extra) -> subprocess.CompletedProcess:
        return _run([str(bin_ / program), *args], cwd=root, env={**env, **extra})

    generate = unionml("generate", "--help", PYTHONPROFILEIMPORTTIME="1")
    assert "Generate a Flyte project from the UnionML app APP" in generate.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in generate.stderr.splitlines() if "|" in line}
    assert "unionml_codegen.cli" in imported
    assert not {"unionml.model", "flytekit"} & imported  # routed before unionml's own package is imported
    assert (
        str(root)
        in _run([str(python), "-c", "import unionml_codegen; print(unionml_codegen.__file__)"], env=env).stdout
    )  # fmt: skip (the wheel's copy, not the checkout's)
    serve = unionml("serve", "--help")
    assert "Serve an unionml model using uvicorn" in serve.stdout
    version = unionml("--version")
    assert version.stdout.startswith("unionml-codegen ") and "unionml 0.2.1" in version.stdout
    assert "Generate a Flyte project" in unionml("generate", "--help", program="unionml-codegen").stdout
    # any other process of the environment: the start-up file imports nothing
    other = _run([str(python), "-c", "import sys; print(sorted(m for m in sys.modules if 'unionml' in m))"], env=env)
    assert other.stdout.strip() == "[]"
