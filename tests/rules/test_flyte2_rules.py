"""The flyte2 target's own rules (docs/flyte2.md, rules/flyte2.py), on test_rules.py's small app: what
Flyte 2 has no place for is an error at the app's line; what it has is written into the trigger or
the task, and the SDK itself reads it back."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from unionml_codegen.diagnostics import AppError
from unionml_codegen.options import Options
from unionml_codegen.generate import render_app

from ..e2e.test_flyte2 import run_flyte2
from .test_rules import APP, BASE, CRON, schedule

FLYTE2 = Options(target="flyte2")


def generate(tmp_path: Path, schedules: str, app: str = APP, target: str = "flyte2"):
    path = tmp_path / "rules" / "app.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(app + textwrap.dedent(schedules))
    try:
        result = render_app(path, tmp_path / "out", Options(target=target))
    except AppError as exc:
        return None, [(d.severity, d.position.line - BASE, d.position.column, d.message) for d in exc.diagnostics]
    return result, [(d.severity, d.position.line - BASE, d.position.column, d.message) for d in result.diagnostics]


def test_fixed_rate_binds_the_trigger_time_with_no_warning(tmp_path):
    result, diagnostics = generate(tmp_path, schedule('"a"', "fixed_rate=timedelta(hours=2)", CRON))
    assert diagnostics == []  # flyte1 warns here and reads the time from the execution
    triggers = result.files["rules/triggers.py"]
    assert "automation=flyte.FixedRate(120)" in triggers and '"time": flyte.TriggerTime' in triggers
    assert "kickoff" not in result.files["rules/tasks.py"] and "rules/kickoff.py" not in result.files


def test_offset_is_dropped_with_a_warning_naming_flyte2(tmp_path):
    _, diagnostics = generate(tmp_path, schedule('"a"', 'expression="0 0 * * *"', 'offset="PT1H"', CRON))
    assert diagnostics == [("warning", 1, 61, "schedule 'a': Flyte 2's `flyte.Cron` has no offset, so the trigger "
                                              "leaves it out")]  # fmt: skip


ERRORS = [
    ("unsupported launchplan_kwargs",
     schedule('"a"', 'expression="@daily"', CRON,
              'launchplan_kwargs={"notifications": {"on_failure": ["a@b.c"]}, "service_account": "x"}'),
     (1, 93, "launchplan_kwargs 'notifications', 'service_account': a Flyte 2 trigger has no such setting")),
    ("max_parallelism 1", schedule('"a"', 'expression="@daily"', CRON, 'launchplan_kwargs={"max_parallelism": 1}'),
     (1, 93, "Flyte 2's max_action_concurrency must be at least 2")),
    ("fixed time input", schedule('"a"', "fixed_rate=timedelta(hours=1)", CRON,
                                  'launchplan_kwargs={"fixed_inputs": {"time": NOON}}'),
     (1, 103, "fixes 'time', the input this schedule's trigger binds to its fire time (flyte.TriggerTime)")),
    ("@every", schedule('"a"', 'expression="@every 1h"', CRON),
     (1, 41, "flytekit, and so unionml, does not accept `@every`; in Flyte 2 a rate is a `flyte.FixedRate`")),
]  # fmt: skip


@pytest.mark.parametrize("schedules, expected", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_what_a_trigger_cannot_carry_is_an_error_at_its_line(tmp_path, schedules, expected):
    result, diagnostics = generate(tmp_path, schedules)
    assert result is None
    errors = [d for d in diagnostics if d[0] == "error"]
    assert len(errors) == 1, diagnostics
    assert errors[0][1:3] == expected[:2], errors[0]
    assert expected[2] in errors[0][3]


@pytest.mark.parametrize(
    "options, message",
    [
        ('requests=Resources(cpu="2")', "`requests=` of the trainer: Flyte 2 gives resources to a TaskEnvironment"),
        ("pod_template_name='gpu'", "`pod_template_name=` of the trainer is a flytekit 1.x task option"),
        ('cache_version="1"', "`cache_version=` of the trainer without `cache=True`"),
        ("cache=CACHE", "`cache=CACHE` of the trainer: the flyte2 target needs True or False"),
    ],
)
def test_task_options_flyte2_has_no_place_for_are_errors(tmp_path, options, message):
    app = APP.replace("@model.trainer\n", f"CACHE = True\n\n\n@model.trainer({options})\n").replace(
        "import pandas as pd\n", "import pandas as pd\nfrom flytekit import Resources\n"
    )
    result, diagnostics = generate(tmp_path, schedule('"a"', 'expression="@daily"', CRON), app=app)
    assert result is None
    assert [d[3] for d in diagnostics if message in d[3]], diagnostics
    flyte1, _ = generate(tmp_path, schedule('"a"', 'expression="@daily"', CRON), app=app, target="flyte1")
    assert flyte1 is not None or "cache_version" in options or "CACHE" in options  # flyte1 takes the others


SERIALIZE = """
import asyncio, json
import flyte, flyte.types
from flyte._internal.runtime.convert import convert_upload_default_inputs
from flyte._internal.runtime.trigger_serde import to_task_trigger
from flyte._internal.runtime.types_serde import transform_native_to_typed_interface
from flyteidl2.task import task_definition_pb2
from rules import tasks

async def main():
    task = tasks.model_train
    [trigger] = task.triggers
    wire = await to_task_trigger(trigger, task.name, transform_native_to_typed_interface(task.native_interface).inputs,
                                 await convert_upload_default_inputs(task.native_interface))
    message = task_definition_pb2.TaskTrigger.FromString(wire.SerializeToString())
    spec = message.spec
    labeled = [l for l in spec.inputs.literals if l.name == "labeled"][0]
    cache = tasks.model_train_task.cache
    return {"name": message.name, "active": spec.active, "labels": dict(spec.run_spec.labels.values),
            "annotations": dict(spec.run_spec.annotations.values), "overwrite_cache": spec.run_spec.overwrite_cache,
            "max_action_concurrency": spec.run_spec.max_action_concurrency,
            "labeled": await flyte.types.TypeEngine.to_python_value(labeled.value, bool),
            "cron": message.automation_spec.schedule.cron.expression,
            "cache": [cache.behavior, cache.version_override], "retries": tasks.model_train_task.retries.count,
            "reader_cache": tasks.dataset_reader.cache.behavior}

print(json.dumps(asyncio.run(main())))
"""


def test_trigger_settings_and_task_options_reach_the_sdk(tmp_path):
    kwargs = ('launchplan_kwargs={"labels": {"team": "ml"}, "annotations": {"owner": "ana"}, "max_parallelism": 4, '
              '"overwrite_cache": True, "fixed_inputs": {"labeled": False}}')  # fmt: skip
    app = APP.replace("@model.trainer\n", '@model.trainer(cache=True, cache_version="2", retries=3)\n')
    app = app.replace("@dataset.reader\n", "@dataset.reader(cache=True)\n")
    result, diagnostics = generate(
        tmp_path, schedule('"nightly"', 'expression="0 2 * * *"', CRON, kwargs, "activate_on_deploy=False"), app=app
    )
    assert diagnostics == []
    out = tmp_path / "project"
    for path, content in result.files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(content.encode() if isinstance(content, str) else content)
    assert run_flyte2(SERIALIZE, cwd=out) == {
        "name": "nightly", "active": False, "labels": {"team": "ml"}, "annotations": {"owner": "ana"},
        "overwrite_cache": True, "max_action_concurrency": 4, "labeled": False, "cron": "0 2 * * *",
        "cache": ["override", "2"], "retries": 3, "reader_cache": "auto",
    }  # fmt: skip


UNION_APP = APP.replace("from typing import List, Optional", "from typing import List, Optional, Union").replace(
    "stamp: str, labeled: bool = True)",
    "stamp: str, labeled: bool = True, ids: Union[List[int], List[str]] = [1], tags: Optional[List[str]] = None)",
)

DECODE = """
import asyncio, json
import flyte.types
from flyte._internal.runtime.convert import convert_upload_default_inputs
from flyte._internal.runtime.trigger_serde import to_task_trigger
from flyte._internal.runtime.types_serde import transform_native_to_typed_interface
from rules import tasks

async def main():
    task = tasks.model_train
    [trigger] = task.triggers
    wire = await to_task_trigger(trigger, task.name, transform_native_to_typed_interface(task.native_interface).inputs,
                                 await convert_upload_default_inputs(task.native_interface))
    types = task.native_interface.get_input_types()
    return {l.name: await flyte.types.TypeEngine.to_python_value(l.value, types[l.name])
            for l in wire.spec.inputs.literals if l.name in ("ids", "tags")}

print(json.dumps(asyncio.run(main())))
"""


@pytest.mark.parametrize(
    "given, column, where",
    [("ids=[]", 79, "the reader's ids is [] (a list)"),
     ('launchplan_kwargs={"fixed_inputs": {"ids": []}}', 93,
      "launchplan_kwargs['fixed_inputs']['ids'] is [] (a list)")],
)  # fmt: skip
def test_a_union_value_several_members_take_is_an_error_at_the_schedule(tmp_path, given, column, where):
    result, diagnostics = generate(tmp_path, schedule('"a"', 'expression="@daily"', CRON, given), app=UNION_APP)
    assert result is None
    [error] = [d for d in diagnostics if d[0] == "error"]
    assert error[1:3] == (1, column), error
    assert error[3].startswith(f"{where}, which more than one member of `Union[List[int], List[str]]` takes "
                               "(`List[int]`, `List[str]`)"), error  # fmt: skip
    flyte1, _ = generate(tmp_path, schedule('"a"', 'expression="@daily"', CRON, given), app=UNION_APP, target="flyte1")
    assert flyte1 is not None  # flytekit writes it (its union transformer picks the first match)


def test_union_values_one_member_takes_reach_the_task_as_declared(tmp_path):
    result, diagnostics = generate(
        tmp_path, schedule('"a"', 'expression="@daily"', CRON, "ids=[1, 2]", 'tags=["t"]'), app=UNION_APP
    )
    assert diagnostics == []
    triggers = result.files["rules/triggers.py"]
    assert '"ids": trigger_inputs.Typed(Union[List[int], List[str]], [1, 2])' in triggers
    assert '"tags": trigger_inputs.Typed(Optional[List[str]], ["t"])' in triggers
    out = tmp_path / "project"
    for path, content in result.files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(content.encode() if isinstance(content, str) else content)
    assert run_flyte2(DECODE, cwd=out) == {"ids": [1, 2], "tags": ["t"]}
