"""The generated README's "Run a schedule locally" snippet runs as written, whatever kickoff input the
first launch plan has: a cron kickoff input, the `kickoff_time` of a fixed-rate plan, or none."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from unionml_codegen.generate import generate
from unionml_codegen.options import Options

from ..helpers import EXAMPLES, run_python

DIGITS = (EXAMPLES / "digits" / "app.py").read_text()
SCHEDULES = DIGITS[DIGITS.index("model.schedule_training(") : DIGITS.index('if __name__ == "__main__":')]

CASES = {
    "cron_kickoff": 'model.schedule_training("nightly", expression="0 0 * * *", reader_time_arg="time")\n',
    "fixed_rate_kickoff": (
        'model.schedule_training("hourly", fixed_rate=timedelta(hours=1), reader_time_arg="time")\n'
    ),
    "no_kickoff": 'model.schedule_training("pinned", expression="0 0 * * *", time=datetime(2026, 11, 29))\n',
}


def _snippet(readme: str) -> str:
    section = readme[readme.index("Run a schedule locally") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, section
    return match.group(1)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_readme_local_run_snippet_runs(tmp_path, case):
    app = tmp_path / "digits" / "app.py"
    app.parent.mkdir()
    app.write_text(DIGITS.replace(SCHEDULES, CASES[case] + "\n\n"))
    generate(app, tmp_path / "flyte")
    snippet = _snippet((tmp_path / "flyte" / "README.md").read_text())
    assert ("kickoff" in snippet or "time=" in snippet) == (case != "no_kickoff"), snippet
    result = run_python(snippet, cwd=tmp_path / "flyte")
    metrics = eval(result.stdout.strip().splitlines()[-1])  # the snippet prints the metrics dict
    assert sorted(metrics) == ["test", "train"] and 0.5 < metrics["test"] <= 1.0


def _operate_block(readme: str) -> str:
    section = readme[readme.index("deploy and operate it with `unionml`'s commands") :]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match, section
    return match.group(1)


def test_the_readme_operate_commands_run_as_written_against_the_flyteadmin_standin(tmp_path):
    """The README's "deploy and operate" block, line by line in the project's directory (a git checkout, as
    `$(git rev-parse --short HEAD)` needs), against the flyteadmin stand-in through flytekit's config file."""

    from ..helpers import UNIONML
    from ..support.flyteadmin_standin import FlyteAdminStandin

    image = "ghcr.io/acme/digits:1"
    shutil.copytree(EXAMPLES / "digits", tmp_path / "digits", ignore=shutil.ignore_patterns("flyte", "flyte2"))
    project = tmp_path / "digits" / "flyte"
    generate(tmp_path / "digits" / "app.py", project, Options(image=image))
    readme = (project / "README.md").read_text()
    block = _operate_block(readme)
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    assert [c.split()[1] for c in commands] == [
        "deploy", "schedules", "list-scheduled-training-runs", "deactivate-schedules",
    ], commands  # fmt: skip
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "app"], cwd=tmp_path, check=True)
    unionml = " ".join(UNIONML)
    with FlyteAdminStandin(tmp_path / "blob") as standin:
        standin.add_image(image, project)
        env = {**os.environ, "FLYTECTL_CONFIG": str(standin.write_config(tmp_path / "config.yaml"))}
        outputs = []
        for command in commands:
            done = subprocess.run(
                ["bash", "-c", unionml + command[len("unionml") :]],
                cwd=project, env=env, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            outputs.append(done.stdout)
        name = commands[2].split()[-1]
        states = standin.launch_plan_states()
    version = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tmp_path, text=True, capture_output=True)
    assert version.stdout.strip() and version.stdout.strip() in outputs[0], outputs[0]
    assert name in outputs[1], outputs[1]
    assert states[(name, version.stdout.strip())] == "INACTIVE", states  # deactivated by the last line
    assert "ACTIVE" in states.values(), states  # the others stay as deploy switched them
