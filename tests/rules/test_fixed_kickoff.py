"""A kickoff time fixed through `launchplan_kwargs["fixed_inputs"]` is reported at the argument
(issue 13 item 9): flyteadmin refuses a launch plan whose kickoff input is fixed, and a fixed-rate
workflow reads the time from the execution, so fixing it would give every run one time."""

from __future__ import annotations

import pytest

from ..helpers import run_cli
from ..inline_apps import COMPONENTS, HEADER

READER = COMPONENTS.replace(
    "def reader(sample_frac: float = 1.0", "def reader(time: datetime, sample_frac: float = 1.0"
).replace("import pandas as pd", "import pandas as pd\nfrom datetime import datetime, timedelta")

CASES = {
    "cron": ('expression="@daily", reader_time_arg="time"', "time"),
    "fixed_rate": ('fixed_rate=timedelta(hours=1), reader_time_arg="time"', "time"),
    "fixed_rate_kickoff_time": ('fixed_rate=timedelta(hours=1), reader_time_arg="time"', "kickoff_time"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_kickoff_time_fixed_in_launchplan_kwargs_is_an_error_at_the_argument(tmp_path, case):
    timing, key = CASES[case]
    schedule = (
        f'model.schedule_training("nightly", {timing},\n'
        f'    launchplan_kwargs={{"fixed_inputs": {{"{key}": datetime(2026, 1, 1)}}}})\n'
    )
    app = HEADER + READER + schedule
    (tmp_path / "app.py").write_text(app)
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert not (tmp_path / "out").exists()
    line = len(app.splitlines())  # the launchplan_kwargs argument, at its value
    column = app.splitlines()[-1].index("{") + 1
    assert f"app.py:{line}:{column}: error: launchplan_kwargs['fixed_inputs'] fixes '{key}'" in result.stderr
    assert result.stderr.count("error:") == 1


def test_other_fixed_inputs_of_a_cron_schedule_with_a_kickoff_input_are_fine(tmp_path):
    app = (
        HEADER
        + READER
        + (
            'model.schedule_training("nightly", expression="@daily", reader_time_arg="time",\n'
            '    launchplan_kwargs={"fixed_inputs": {"sample_frac": 0.5}})\n'
        )
    )
    (tmp_path / "app.py").write_text(app)
    result = run_cli("generate", str(tmp_path / "app.py"), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
