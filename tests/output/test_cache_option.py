"""Issue 22, items 3 and 4: `cache=True` without `cache_version` means the same on both targets, and the
cache follows the app's code. flytekit refuses such a task at import (as unionml 0.2.1 does), and the SDK's
`cache="auto"` hashes only the generated wrapper (`return components.reader(...)`), so a changed reader
would get the old code's cached result back. Both targets get the version of the code the project copies:
flyte1 as `cache_version=`, flyte2 as the `flyte.Cache` salt."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

from ..helpers import EXAMPLES, run_cli

RUN = """
import json, sys
from datetime import datetime, timezone
sys.path.insert(0, "flyte")
from {package}.launch_plans import cron_daily_training
outputs = cron_daily_training(time=datetime(2026, 11, 29, tzinfo=timezone.utc))
print(json.dumps(outputs.metrics))
"""


def _app(tmp_path, reader_body: str | None = None):
    work = tmp_path / "cached"
    work.mkdir(exist_ok=True)
    text = (EXAMPLES / "digits" / "app.py").read_text().replace("@dataset.reader\n", "@dataset.reader(cache=True)\n")
    if reader_body is not None:
        text = text.replace("load_digits(as_frame=True).frame.head(snapshot_size(time))", reader_body)
    (work / "app.py").write_text(text)
    return work


def _versions(work) -> tuple[str, str]:
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=work).returncode == 0
    assert run_cli("generate", "app.py", "-o", "flyte2", "--target", "flyte2", cwd=work).returncode == 0
    workflows = (work / "flyte" / "cached" / "workflows.py").read_text()
    tasks = (work / "flyte2" / "cached" / "tasks.py").read_text()
    [flyte1] = re.findall(r'cache=True,\s*cache_version="(code-[0-9a-f]{16})"', workflows)
    [flyte2] = re.findall(r'flyte\.Cache\(behavior="auto", salt="(code-[0-9a-f]{16})"\)', tasks)
    return flyte1, flyte2


def test_both_targets_version_the_cache_with_the_code_and_a_code_change_changes_it(tmp_path):
    first = _versions(_app(tmp_path))
    assert first[0] == first[1]  # the same meaning on both targets
    again = _versions(_app(tmp_path))
    assert again == first  # deterministic
    changed = _versions(_app(tmp_path, "load_digits(as_frame=True).frame.head(snapshot_size(time) - 400)"))
    assert changed[0] != first[0] and changed[1] != first[1]


def test_a_changed_reader_never_gets_the_old_code_s_cached_result(tmp_path):
    """Run, change the reader, regenerate, run again with flytekit's local cache on: new code, new result."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "FLYTE_LOCAL_CACHE_ENABLED": "true"}
    work = _app(tmp_path)
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=work).returncode == 0

    def metrics():
        proc = subprocess.run([sys.executable, "-c", RUN.format(package="cached")], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    before = metrics()
    assert metrics() == before  # the cache serves the same code's result
    _app(tmp_path, "load_digits(as_frame=True).frame.head(snapshot_size(time) - 400)")
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=work).returncode == 0
    after = metrics()
    assert after != before
    shutil.rmtree(home)
