"""The generated README's "Run a schedule locally" snippet runs as written, whatever kickoff input the
first launch plan has: a cron kickoff input, the `kickoff_time` of a fixed-rate plan, or none."""

from __future__ import annotations

import re

import pytest

from unionml_codegen.generate import generate

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
