"""Issue 22, item 5: a flyte2 project's README says what Flyte 2 does: trigger inputs are defaults a run may
override, how to switch a trigger off and on (with the task name the SDK gives it), the registry the image
needs to be pushed, and where `flyte deploy` runs from."""

from __future__ import annotations

import re

from ..helpers import EXAMPLES
from ..e2e.test_flyte2 import run_flyte2


def test_the_readme_switches_triggers_with_the_task_name_the_sdk_gives():
    readme = (EXAMPLES / "digits" / "flyte2" / "README.md").read_text()
    commands = re.findall(r"^flyte update trigger (\S+) (\S+) --(activate|deactivate)$", readme, re.M)
    assert {c[2] for c in commands} == {"activate", "deactivate"}
    trigger, task = commands[0][:2]
    named = run_flyte2(
        "import json\nfrom digits import tasks, triggers\n"
        f"print(json.dumps({{'task': tasks.{task.split('.', 1)[1]}.name, 'trigger': triggers.{trigger}.name}}))",
        cwd=EXAMPLES / "digits" / "flyte2",
    )
    assert named == {"task": task, "trigger": trigger}
    assert "defaults, which a run started by hand may override" in readme and "fixed in the trigger" not in readme
    assert 'registry="' in readme and "--root-dir" in readme
