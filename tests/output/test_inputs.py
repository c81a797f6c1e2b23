"""What the generator reads: only regular files of bounded size, and only inside the project when a
file (the app, pyproject.toml, a manifest) names them. Never a FIFO or a device (no hang), never a
file's content in a message, never a traceback: exit 2, OUT untouched.

The inputs are those of issue 13 (items 4, 5, 12, 13 and 14): `model_file="/proc/self/environ"`,
`../../etc/passwd`, absolute paths, links beside the app, `options.models` in a manifest, `models`
in pyproject, `"app": "/etc/shadow"` in a manifest, NUL characters, non-UTF-8 files, FIFOs, /dev/zero.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from unionml_codegen.input_files import project_root

from ..helpers import EXAMPLES, read_tree
from .test_write import invoke

SECRET = "s3cr3t-content-never-printed"


@pytest.fixture
def repo(tmp_path):
    """A repository (it has .git) with the digits_batch app and a secret file outside it."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text(SECRET + "\n")
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "batch").mkdir()
    shutil.copy(EXAMPLES / "digits_batch" / "app.py", root / "batch" / "app.py")
    shutil.copy(EXAMPLES / "digits_batch" / "model.joblib", root / "batch" / "model.joblib")
    return root


def with_model_file(repo: Path, value: str) -> None:
    app = repo / "batch" / "app.py"
    app.write_text(app.read_text().replace('model_file="model.joblib"', f"model_file={value!r}"))


def refused(result, *fragments: str) -> None:
    output = result.stdout + result.stderr
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    assert SECRET not in output
    for fragment in fragments:
        assert fragment in output, output


def model_file_line(repo: Path) -> int:
    return repo.joinpath("batch/app.py").read_text().splitlines().index('    model_file="model.joblib",') + 1


# item 4: model files the app names stay inside the project; any model file is a bounded regular file


@pytest.mark.parametrize(
    "value, problem",
    [
        ("/proc/self/environ", "is outside the app's project"),
        ("../../outside/secret.txt", "is outside the app's project"),
        ("ABSOLUTE", "is outside the app's project"),
        ("linked.joblib", "is outside the app's project"),
        ("model\0.joblib", "contains a NUL character"),
    ],
)
def test_a_model_file_outside_the_project_is_an_error_at_the_argument(repo, value, problem):
    line = model_file_line(repo)
    if value == "ABSOLUTE":
        value = str(repo.parent / "outside" / "secret.txt")
    (repo / "batch" / "linked.joblib").symlink_to("../../outside/secret.txt")
    with_model_file(repo, value)
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte")
    refused(result, f"app.py:{line}:16: error: ", problem)
    assert not (repo / "batch" / "flyte").exists()


def test_a_model_file_elsewhere_in_the_repository_and_a_link_inside_it_are_fine(repo):
    (repo / "models").mkdir()
    shutil.move(repo / "batch" / "model.joblib", repo / "models" / "model.joblib")
    (repo / "batch" / "model.joblib").symlink_to("../models/model.joblib")
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 0, result.stderr
    with_model_file(repo, "../models/model.joblib")
    assert invoke(repo / "batch", "generate", "app.py", "-o", "flyte").exit_code == 0


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "directory"])
def test_a_model_file_that_is_not_a_regular_file_is_an_error_not_a_hang(repo, kind):
    target = repo / "batch" / "special"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    else:
        target.symlink_to(kind)
        (repo / "dev").symlink_to("/dev")  # inside the project by its link, still a device
    with_model_file(repo, "special")
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte")
    problem = "is a directory" if kind == "directory" else None
    refused(result, problem or ("is not a regular file" if kind == "fifo" else "outside the app's project"))


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_a_bound_model_file_may_be_anywhere_but_must_be_a_regular_file(repo, tmp_path, kind):
    with_model_file(repo, "model.joblib")
    app = repo / "batch" / "app.py"
    app.write_text(app.read_text().replace('    model_file="model.joblib",\n', ""))
    anywhere = tmp_path / "elsewhere" / "model.joblib"
    anywhere.parent.mkdir()
    shutil.copy(EXAMPLES / "digits_batch" / "model.joblib", anywhere)
    bound = invoke(repo / "batch", "generate", "app.py", "-o", "flyte", "--model", f"daily_predictions={anywhere}")
    assert bound.exit_code == 0, bound.stderr  # the user's own choice on the command line
    special = tmp_path / "special"
    if kind == "fifo":
        os.mkfifo(special)
    else:
        special = Path(kind)
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte", "--model", f"daily_predictions={special}")
    refused(result, "--model daily_predictions=", "is not a regular file")


def test_a_model_file_larger_than_the_bound_is_an_error(repo, monkeypatch):
    from unionml_codegen.rules import model_sources

    monkeypatch.setattr(model_sources, "MAX_MODEL_BYTES", 1000)
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte")
    refused(result, "is larger than the limit of 1000 bytes")


def test_a_long_model_file_name_is_shortened_in_the_vendored_name(repo):
    long_name = "m" * 240 + ".joblib"
    shutil.move(repo / "batch" / "model.joblib", repo / "batch" / long_name)
    with_model_file(repo, long_name)
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 0, result.stderr
    [vendored] = os.listdir(repo / "batch" / "flyte" / "batch" / "models")
    assert len(vendored) == 17 + 100 and vendored.endswith("m.joblib")


# items 4 and 5: paths in pyproject.toml and in a manifest stay inside the project


def generated(repo: Path) -> Path:
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 0, result.stderr
    return repo / "batch" / "flyte"


def edit_manifest(out: Path, change) -> None:
    manifest = json.loads((out / ".unionml-codegen.json").read_text())
    change(manifest)
    (out / ".unionml-codegen.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "app, problem",
    [
        ("/etc/shadow", "app = '/etc/shadow' is outside the project"),
        ("../../../outside/secret.txt", "is outside the project"),
        ("../secret.txt", "is not a Python file (.py)"),
        ("../app.py\0", "app contains a NUL character"),
    ],
)
def test_a_tampered_manifest_app_is_refused_without_showing_the_file(repo, app, problem):
    out = generated(repo)
    shutil.copy(repo.parent / "outside" / "secret.txt", repo / "batch" / "secret.txt")
    edit_manifest(out, lambda m: m.update(app=app))
    before = read_tree(out)
    for args in ([], ["--check"], ["-o", "flyte"]):
        refused(invoke(repo / "batch", "generate", *args), problem)
    (repo / "pyproject.toml").write_text('[tool.unionml-codegen]\noutput = "batch/flyte"\n')
    refused(invoke(repo, "generate"), problem)  # as the pre-commit hook runs it, from the repository
    assert read_tree(out) == before


def test_a_manifest_model_outside_the_project_is_refused(repo):
    out = generated(repo)
    edit_manifest(out, lambda m: m["options"]["models"].update(daily_predictions="/proc/self/environ"))
    refused(invoke(repo / "batch", "generate"), "options.models.daily_predictions = '/proc/self/environ' is outside")


def test_a_generated_project_behind_a_link_is_not_discovered(repo, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(repo / "batch", other / "batch")
    generated(repo)
    shutil.rmtree(repo / "batch" / "flyte")
    assert invoke(other / "batch", "generate", "app.py", "-o", "flyte").exit_code == 0
    (repo / "batch" / "flyte").symlink_to(other / "batch" / "flyte")
    refused(invoke(repo / "batch", "generate"), "flyte is a symbolic link; generated projects are looked for")


@pytest.mark.parametrize(
    "table, problem",
    [
        ('app = "/etc/passwd"\noutput = "flyte"', "app = '/etc/passwd' is outside the project"),
        ('app = "batch/app.py"\noutput = "../elsewhere"', "output = '../elsewhere' is outside the project"),
        (
            'app = "batch/app.py"\noutput = "flyte"\n[tool.unionml-codegen.models]\ndaily_predictions = "/dev/zero"',
            "models.daily_predictions = '/dev/zero' is outside the project",
        ),
        ('app = "batch/app.py\\u0000"\noutput = "flyte"', "app contains a NUL character"),
    ],
)
def test_pyproject_paths_outside_the_project_are_refused(repo, table, problem):
    (repo / "pyproject.toml").write_text(f"[tool.unionml-codegen]\n{table}\n")
    refused(invoke(repo, "generate"), problem)
    assert not (repo / "flyte").exists() and not (repo.parent / "elsewhere").exists()


@pytest.mark.parametrize("content", [b'[tool.unionml-codegen]\napp = "caf\xe9.py"\n', "fifo", "/dev/zero"])
def test_a_pyproject_that_is_not_utf8_or_not_a_regular_file_is_a_clear_error(repo, content):
    pyproject = repo / "pyproject.toml"
    if content == "fifo":
        os.mkfifo(pyproject)
        problem = "not a regular file"
    elif content == "/dev/zero":
        pyproject.symlink_to(content)
        problem = "not a regular file"
    else:
        pyproject.write_bytes(content)
        problem = "not valid UTF-8 (byte 0xe9)"
    result = invoke(repo, "generate", "--check")
    assert result.exit_code == 2 and problem in result.stderr and "Traceback" not in result.stderr, result.output


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero"])
def test_a_manifest_that_is_a_fifo_or_a_device_is_no_manifest_and_no_hang(repo, kind):
    out = repo / "batch" / "flyte"
    out.mkdir()
    if kind == "fifo":
        os.mkfifo(out / ".unionml-codegen.json")
    else:
        (out / ".unionml-codegen.json").symlink_to(kind)
    result = invoke(repo / "batch", "generate", "-o", "flyte", "--check")
    assert result.exit_code == 2 and "does not name one" in result.stderr, result.output


# item 5 and 12-14: the app itself


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "not-python", "directory"])
def test_an_app_that_is_not_a_regular_python_file_is_an_error_not_a_hang(repo, kind):
    app = repo / "batch" / "special.py"
    if kind == "fifo":
        os.mkfifo(app)
        problem = "is not a regular file"
    elif kind == "directory":
        app.mkdir()
        problem = "is a directory"  # refused by the command line's own argument check
    elif kind == "not-python":
        app = repo.parent / "outside" / "secret.txt"
        problem = "the app must be a Python file whose name ends in .py"
    else:
        app.symlink_to(kind)
        problem = "is not a regular file"
    result = invoke(repo / "batch", "generate", str(app), "-o", "flyte")
    refused(result, "" if kind == "directory" else "error: cannot read the app: ", problem)


def test_an_app_larger_than_the_bound_is_an_error(repo, monkeypatch):
    from unionml_codegen import generate

    monkeypatch.setattr(generate, "MAX_APP_BYTES", 1000)
    refused(
        invoke(repo / "batch", "generate", "app.py", "-o", "flyte"), "the app is larger than the limit of 1000 bytes"
    )


def test_a_latin1_app_with_a_coding_cookie_is_read_as_python_reads_it(repo):
    app = repo / "batch" / "app.py"
    text = "# -*- coding: latin-1 -*-\n# café\n" + app.read_text()
    app.write_bytes(text.encode("latin-1"))
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 0, result.stderr
    assert "app.py:70:21: warning: schedule 'hourly_predictions_with_latest_model'" in result.stderr


def test_an_app_that_does_not_decode_is_a_clear_error(repo):
    app = repo / "batch" / "app.py"
    app.write_bytes(b"# caf\xe9\n" + app.read_bytes())
    refused(
        invoke(repo / "batch", "generate", "app.py", "-o", "flyte"),
        "cannot read the app: the app is not valid utf-8 text: byte 0xe9 on line",
        "coding cookie declares (PEP 263)",
    )


def test_the_project_is_the_nearest_directory_with_git_or_pyproject_never_home_or_root(tmp_path, monkeypatch):
    (tmp_path / "home" / "proj" / "sub").mkdir(parents=True)
    (tmp_path / "home" / ".git").mkdir()  # a dotfiles repository in the home directory
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert project_root(tmp_path / "home" / "proj" / "sub") == tmp_path / "home" / "proj" / "sub"
    (tmp_path / "home" / "proj" / "pyproject.toml").write_text("")
    assert project_root(tmp_path / "home" / "proj" / "sub") == tmp_path / "home" / "proj"


# item 12 and 14: paths and names that used to give tracebacks or unclear messages


def test_an_app_path_with_bytes_that_are_not_utf8_is_a_clear_error(tmp_path):
    directory = os.path.join(os.fsencode(tmp_path), b"caf\xe9")
    os.mkdir(directory)
    shutil.copy(EXAMPLES / "digits" / "app.py", os.path.join(directory, b"app.py"))
    app = os.fsdecode(os.path.join(directory, b"app.py"))
    result = invoke(tmp_path, "generate", app, "-o", "out")
    refused(result, "has bytes that are not UTF-8", "rename the directory or the app")
    assert not (tmp_path / "out").exists()
    inside_it = invoke(tmp_path, "generate", app, "-o", os.fsdecode(os.path.join(directory, b"flyte")))
    assert inside_it.exit_code == 0, inside_it.stderr  # the path relative to the output is plain "../app.py"


@pytest.mark.parametrize(
    "out, what",
    [
        ("/", "the root of the file system"),
        ("HOME", "the home directory"),
        (".", "a directory that holds the app"),
        ("..", "a directory that holds the app"),  # the repository root
    ],
)
def test_an_output_directory_that_holds_far_more_than_the_project_is_refused(repo, monkeypatch, out, what):
    monkeypatch.setenv("HOME", str(repo.parent))
    if out == "HOME":
        out = str(repo.parent)
    for flags in (["--check"], []):
        result = invoke(repo / "batch", "generate", "app.py", "-o", out, *flags)
        refused(result, "error: the output directory ", f" is {what}; the generated project needs a directory")
    assert sorted(os.listdir(repo / "batch")) == ["app.py", "model.joblib"]
    (repo / "pyproject.toml").write_text('[tool.unionml-codegen]\napp = "batch/app.py"\noutput = "."\n')
    refused(invoke(repo, "generate", "--check"), "is a directory that holds the app")


# item 4: local modules beside the app are copied only if they are bounded regular files in the project

HELPERS = b"def scale(frame):\n    return frame / 16.0\n"


def app_importing(repo: Path, statement: str) -> Path:
    app = repo / "batch" / "app.py"
    source = app.read_text().replace("import pandas as pd\n", f"import pandas as pd\n{statement}\n", 1)
    app.write_text(source.replace("estimator.fit(features,", "estimator.fit(scale(features),"))
    assert "scale(features)" in app.read_text() and statement in app.read_text()
    return app


def test_a_local_module_linked_to_a_file_outside_the_project_is_not_copied(repo):
    app_importing(repo, "from helpers import scale")
    (repo.parent / "outside" / "helpers.py").write_bytes(HELPERS + f"# {SECRET}\n".encode())
    (repo / "batch" / "helpers.py").symlink_to(repo.parent / "outside" / "helpers.py")
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte")
    refused(result, "the local module file 'helpers.py' is outside the app's project")
    assert not (repo / "batch" / "flyte").exists()


@pytest.mark.parametrize("kind", ["link-out", "fifo"])
def test_a_local_package_holding_a_link_out_or_a_fifo_is_an_error_not_a_copy_or_a_hang(repo, kind):
    app_importing(repo, "from helpers.maths import scale")
    package = repo / "batch" / "helpers"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "maths.py").write_bytes(HELPERS)
    if kind == "fifo":
        os.mkfifo(package / "data.txt")
        problem = "the local module file 'helpers/data.txt' is not a regular file"
    else:
        (package / "data.txt").symlink_to("/proc/self/environ")
        problem = "the local module file 'helpers/data.txt' is outside the app's project"
    refused(invoke(repo / "batch", "generate", "app.py", "-o", "flyte"), problem)
    (package / "data.txt").unlink()
    (package / "data.txt").write_text("fine\n")
    result = invoke(repo / "batch", "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 0, result.stderr
    assert (repo / "batch" / "flyte" / "helpers" / "data.txt").read_text() == "fine\n"


def test_a_manifest_model_entry_that_is_a_fifo_in_the_project_is_an_error_not_a_hang(repo):
    out = generated(repo)
    os.mkfifo(repo / "batch" / "model.fifo")
    edit_manifest(out, lambda m: m["options"]["models"].update(daily_predictions="../model.fifo"))
    refused(invoke(repo / "batch", "generate"), "daily_predictions='model.fifo' is not a regular file")
