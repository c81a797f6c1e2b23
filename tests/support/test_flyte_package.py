"""Tests of tests/support/flyte_package.py against a real flytekit project packaged once per module."""

from __future__ import annotations

import datetime
import sys
import textwrap
import types
from pathlib import Path

import pytest
from flyteidl.core import types_pb2

from .flyte_package import (
    DefaultInput,
    Entities,
    Rate,
    describe_launch_plan,
    flyteadmin_problems,
    load_entities,
    package,
    robfig_parse_standard_error,
)

PKG = "schedapp"
UTC = datetime.timezone.utc

WF_SOURCE = """
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Optional

from flytekit import CronSchedule, FixedRate, LaunchPlan, task, workflow
from flytekit.types.file import FlyteFile


@task
def run(t: datetime, n: int, cfg: dict, labeled: bool) -> str:
    return f"{t} {n} {cfg} {labeled}"


@workflow
def main(t: datetime, n: int, cfg: dict, labeled: bool = True) -> str:
    return run(t=t, n=n, cfg=cfg, labeled=labeled)


@task
def kinds_task(d: date, o: Optional[datetime], s: str, k: int) -> str:
    return f"{d} {o} {s} {k}"


@workflow
def kinds(d: date, o: Optional[datetime], s: str, k: int = 1) -> str:
    return kinds_task(d=d, o=o, s=s, k=k)


@dataclass
class Point:
    x: int
    y: float


@task
def types_task(
    f: float, s: str, b: bool, dur: timedelta, when: datetime, xs: list[int], m: dict[str, int],
    g: dict, p: Point, opt: Optional[int], file: FlyteFile,
) -> str:
    return "ok"


@workflow
def typed(
    f: float, s: str, b: bool, dur: timedelta, when: datetime, xs: list[int], m: dict[str, int],
    g: dict, p: Point, opt: Optional[int], file: FlyteFile, extra: str = "hello",
) -> str:
    return types_task(f=f, s=s, b=b, dur=dur, when=when, xs=xs, m=m, g=g, p=p, opt=opt, file=file)


CFG = {"alpha": 1, "nested": {"beta": 2, "gamma": [3, 4]}, "ratio": 0.5, "name": "x"}

good = LaunchPlan.get_or_create(
    main, name="good",
    schedule=CronSchedule(schedule="*/5 * * * *", kickoff_time_input_arg="t"),
    fixed_inputs={"n": 3, "cfg": CFG},
)
at_daily = LaunchPlan.get_or_create(
    main, name="at_daily",
    schedule=CronSchedule(schedule="@daily", kickoff_time_input_arg="t"),
    fixed_inputs={"n": 1, "cfg": {}},
)
unbound = LaunchPlan.get_or_create(
    main, name="unbound",
    schedule=CronSchedule(schedule="0 * * * *", kickoff_time_input_arg="t"),
    fixed_inputs={"cfg": {}},
)
rate_kickoff = LaunchPlan.get_or_create(
    main, name="rate_kickoff",
    schedule=FixedRate(duration=timedelta(minutes=30), kickoff_time_input_arg="t"),
    fixed_inputs={"n": 1, "cfg": {}},
)
rate_hours = LaunchPlan.get_or_create(
    main, name="rate_hours",
    schedule=FixedRate(duration=timedelta(hours=3)),
    fixed_inputs={"t": datetime(2024, 1, 2, 3, 4, 5), "n": 1, "cfg": {}},
)
rate_days = LaunchPlan.get_or_create(
    main, name="rate_days",
    schedule=FixedRate(duration=timedelta(days=2)),
    fixed_inputs={"t": datetime(2024, 1, 1), "n": 1, "cfg": {}},
)
rate_zero = LaunchPlan.get_or_create(
    main, name="rate_zero",
    schedule=FixedRate(duration=timedelta(0)),
    fixed_inputs={"t": datetime(2024, 1, 1), "n": 1, "cfg": {}},
)
dow_seven = LaunchPlan.get_or_create(
    main, name="dow_seven",
    schedule=CronSchedule(schedule="0 0 * * 7", kickoff_time_input_arg="t"),
    fixed_inputs={"n": 1, "cfg": {}},
)
alias_daily = LaunchPlan.get_or_create(
    main, name="alias_daily",
    schedule=CronSchedule(schedule="daily", kickoff_time_input_arg="t"),
    fixed_inputs={"n": 1, "cfg": {}},
)
with_offset = LaunchPlan.get_or_create(
    main, name="with_offset",
    schedule=CronSchedule(schedule="@hourly", offset="PT5M", kickoff_time_input_arg="t"),
    fixed_inputs={"n": 1, "cfg": {}},
)
kickoff_fixed = LaunchPlan.get_or_create(
    main, name="kickoff_fixed",
    schedule=CronSchedule(schedule="@hourly", kickoff_time_input_arg="t"),
    fixed_inputs={"t": datetime(2024, 1, 1), "n": 1, "cfg": {}},
)
kickoff_missing = LaunchPlan.get_or_create(
    main, name="kickoff_missing",
    schedule=CronSchedule(schedule="@hourly", kickoff_time_input_arg="when"),
    fixed_inputs={"t": datetime(2024, 1, 1), "n": 1, "cfg": {}},
)
kick_date = LaunchPlan.get_or_create(
    kinds, name="kick_date",
    schedule=CronSchedule(schedule="0 6 * * MON-FRI", kickoff_time_input_arg="d"),
    fixed_inputs={"s": "x"},
)
kick_optional = LaunchPlan.get_or_create(
    kinds, name="kick_optional",
    schedule=CronSchedule(schedule="0 6 * * *", kickoff_time_input_arg="o"),
    fixed_inputs={"d": date(2024, 1, 1), "s": "x"},
)
kick_str = LaunchPlan.get_or_create(
    kinds, name="kick_str",
    schedule=CronSchedule(schedule="0 6 * * *", kickoff_time_input_arg="s"),
    fixed_inputs={"d": date(2024, 1, 1)},
)
all_types = LaunchPlan.get_or_create(
    typed, name="all_types",
    fixed_inputs={
        "f": 1.5, "s": "text", "b": False, "dur": timedelta(minutes=90),
        "when": datetime(2024, 5, 6, 7, 8, 9), "xs": [1, 2, 3], "m": {"a": 1, "b": 2},
        "g": {"k": [1, 2], "big": 2**40}, "p": Point(x=1, y=2.5), "opt": None,
        "file": FlyteFile("s3://bucket/path/data.csv"),
    },
    default_inputs={"extra": "world"},
)
"""


@pytest.fixture(scope="module")
def entities(tmp_path_factory: pytest.TempPathFactory) -> Entities:
    root = tmp_path_factory.mktemp("project")
    pkg_dir = root / PKG
    pkg_dir.mkdir()
    (pkg_dir / "__init__.py").write_text("")
    (pkg_dir / "wf.py").write_text(textwrap.dedent(WF_SOURCE))
    tgz = package(root, PKG, output=tmp_path_factory.mktemp("out") / "pkg.tgz")
    return load_entities(tgz)


def info(entities: Entities, name: str):
    return describe_launch_plan(entities.launch_plans[name], entities.workflows)


def problems(entities: Entities, name: str) -> list[str]:
    return flyteadmin_problems(entities.launch_plans[name], entities.workflows)


# ----------------------------------------------------------------------------------------- loading


def test_load_entities_keys_by_entity_name(entities: Entities) -> None:
    assert set(entities.tasks) == {
        f"{PKG}.wf.run",
        f"{PKG}.wf.kinds_task",
        f"{PKG}.wf.types_task",
    }
    assert set(entities.workflows) == {
        f"{PKG}.wf.main",
        f"{PKG}.wf.kinds",
        f"{PKG}.wf.typed",
    }
    # one default launch plan per workflow, named like it, plus the named ones
    assert {
        f"{PKG}.wf.main",
        f"{PKG}.wf.kinds",
        f"{PKG}.wf.typed",
        "good",
        "all_types",
    } <= set(entities.launch_plans)
    assert len(entities.launch_plans) == 3 + 16
    assert entities.tasks[f"{PKG}.wf.run"].template.container.image == "ghcr.io/example/app:v1"


def test_default_launch_plan_is_unscheduled(entities: Entities) -> None:
    lp = info(entities, f"{PKG}.wf.main")
    assert lp.workflow == f"{PKG}.wf.main"
    assert lp.schedule_kind is None and lp.rate is None and lp.cron_expression is None
    assert lp.fixed_inputs == {}
    assert lp.default_inputs == {
        "t": DefaultInput(True, None),
        "n": DefaultInput(True, None),
        "cfg": DefaultInput(True, None),
        "labeled": DefaultInput(False, True),
    }
    # flyteadmin's schedule rules do not apply to an unscheduled plan
    assert problems(entities, f"{PKG}.wf.main") == []


# ----------------------------------------------------------------------------------------- valid plans


def test_valid_cron_plan(entities: Entities) -> None:
    lp = info(entities, "good")
    assert lp.name == "good"
    assert lp.workflow == f"{PKG}.wf.main"
    assert lp.schedule_kind == "cron"
    assert lp.cron_expression == "*/5 * * * *"
    assert lp.cron_offset is None
    assert lp.rate is None
    assert lp.kickoff_time_input_arg == "t"
    assert lp.fixed_inputs == {
        "n": 3,
        "cfg": {
            "alpha": 1,
            "nested": {"beta": 2, "gamma": [3, 4]},
            "ratio": 0.5,
            "name": "x",
        },
    }
    assert type(lp.fixed_inputs["n"]) is int
    assert type(lp.fixed_inputs["cfg"]["alpha"]) is int  # msgpack keeps ints (a generic Struct would not)
    assert type(lp.fixed_inputs["cfg"]["nested"]["beta"]) is int
    assert lp.default_inputs == {
        "t": DefaultInput(True, None),
        "labeled": DefaultInput(False, True),
    }
    assert lp.workflow_inputs == ("cfg", "labeled", "n", "t")
    assert problems(entities, "good") == []


def test_dict_input_is_msgpack_binary(entities: Entities) -> None:
    lit = entities.launch_plans["good"].spec.fixed_inputs.literals["cfg"]
    assert lit.scalar.WhichOneof("value") == "binary"
    assert lit.scalar.binary.tag == "msgpack"


def test_descriptor_cron_plan_is_valid(entities: Entities) -> None:
    assert info(entities, "at_daily").cron_expression == "@daily"
    assert problems(entities, "at_daily") == []


@pytest.mark.parametrize(
    ("name", "rate", "start"),
    [
        (
            "rate_hours",
            Rate(3, "HOUR"),
            datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        ),
        ("rate_days", Rate(2, "DAY"), datetime.datetime(2024, 1, 1, tzinfo=UTC)),
    ],
)
def test_fixed_rate_decodes(entities: Entities, name: str, rate: Rate, start: datetime.datetime) -> None:
    lp = info(entities, name)
    assert lp.schedule_kind == "fixed_rate"
    assert lp.rate == rate
    assert lp.rate == (rate.value, rate.unit)
    assert lp.cron_expression is None and lp.kickoff_time_input_arg is None
    assert lp.fixed_inputs["t"] == start
    assert problems(entities, name) == []


def test_fixed_rate_minutes_decodes(entities: Entities) -> None:
    assert info(entities, "rate_kickoff").rate == Rate(30, "MINUTE")


def test_all_literal_kinds_decode(entities: Entities) -> None:
    lp = info(entities, "all_types")
    assert lp.schedule_kind is None
    assert lp.fixed_inputs == {
        "f": 1.5,
        "s": "text",
        "b": False,
        "dur": datetime.timedelta(minutes=90),
        "when": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        "xs": [1, 2, 3],
        "m": {"a": 1, "b": 2},
        "g": {"k": [1, 2], "big": 2**40},
        "p": {"x": 1, "y": 2.5},
        "opt": None,
        "file": "s3://bucket/path/data.csv",
    }
    assert lp.default_inputs == {"extra": DefaultInput(False, "world")}
    assert problems(entities, "all_types") == []


# ----------------------------------------------------------------------------------------- problems


def test_unbound_required_input(entities: Entities) -> None:
    found = problems(entities, "unbound")
    assert len(found) == 1, found
    assert "'n'" in found[0] and "unbound" in found[0]


def test_fixed_rate_with_kickoff_arg(entities: Entities) -> None:
    found = problems(entities, "rate_kickoff")
    assert len(found) == 1, found
    assert "fixed-rate" in found[0] and "'t'" in found[0]


def test_zero_fixed_rate(entities: Entities) -> None:
    assert info(entities, "rate_zero").rate == Rate(0, "DAY")
    found = problems(entities, "rate_zero")
    assert len(found) == 1 and "> 0" in found[0], found


@pytest.mark.parametrize("name", ["dow_seven", "alias_daily"])
def test_cron_accepted_by_flytekit_refused_by_flyteadmin(entities: Entities, name: str) -> None:
    lp = info(entities, name)
    found = problems(entities, name)
    assert found, f"{lp.cron_expression!r} should be refused"
    assert all(lp.cron_expression in p for p in found)
    assert any("robfig" in p for p in found)


def test_cron_offset_is_reported(entities: Entities) -> None:
    lp = info(entities, "with_offset")
    assert lp.cron_offset == "PT5M"
    found = problems(entities, "with_offset")
    assert len(found) == 1 and "offset" in found[0], found


def test_kickoff_arg_must_be_free(entities: Entities) -> None:
    found = problems(entities, "kickoff_fixed")
    assert len(found) == 1 and "'t'" in found[0] and "fixed" in found[0], found


def test_kickoff_arg_must_exist(entities: Entities) -> None:
    found = problems(entities, "kickoff_missing")
    assert len(found) == 1 and "'when'" in found[0], found


@pytest.mark.parametrize(("name", "arg"), [("kick_optional", "'o'"), ("kick_str", "'s'")])
def test_kickoff_arg_must_be_datetime(entities: Entities, name: str, arg: str) -> None:
    found = problems(entities, name)
    assert len(found) == 1, found
    assert arg in found[0] and "datetime" in found[0]


def test_kickoff_arg_typed_date_is_accepted(entities: Entities) -> None:
    # flytekit serializes datetime.date as simple DATETIME (the same literal type as datetime), so
    # flyteadmin cannot tell the two apart and registers the plan; at run time flytekit turns the
    # kickoff datetime into a date. Nothing in the protobufs could flag it.
    d_type = entities.workflows[f"{PKG}.wf.kinds"].template.interface.inputs.variables["d"].type
    assert d_type.WhichOneof("type") == "simple" and d_type.simple == types_pb2.DATETIME
    assert problems(entities, "kick_date") == []


def test_fixed_input_not_in_workflow(entities: Entities) -> None:
    lp = type(entities.launch_plans["good"])()
    lp.CopyFrom(entities.launch_plans["good"])
    lp.spec.fixed_inputs.literals["nope"].scalar.primitive.integer = 1
    found = flyteadmin_problems(lp, entities.workflows)
    assert found == ["fixed input 'nope' is not an input of workflow 'schedapp.wf.main'"]


def test_deprecated_cron_expression_field(entities: Entities) -> None:
    lp = type(entities.launch_plans["good"])()
    lp.CopyFrom(entities.launch_plans["good"])
    lp.spec.entity_metadata.schedule.cron_expression = "*/5 * * * *"  # replaces cron_schedule (oneof)
    assert describe_launch_plan(lp, entities).cron_expression == "*/5 * * * *"
    found = flyteadmin_problems(lp, entities)
    assert len(found) == 1 and "cron_expression" in found[0], found


def test_missing_workflow(entities: Entities) -> None:
    found = flyteadmin_problems(entities.launch_plans["good"], {})
    assert len(found) == 1 and "not in the package" in found[0]


def _with_cron(entities: Entities, text: str):
    lp = type(entities.launch_plans["good"])()
    lp.CopyFrom(entities.launch_plans["good"])
    lp.spec.entity_metadata.schedule.cron_schedule.schedule = text
    return lp


def test_codegen_parse_cron_is_consulted_when_importable(entities: Entities, monkeypatch) -> None:
    class CronError(ValueError):
        pass

    def parse_cron(text: str):
        if "JAN" in text:
            raise CronError("no month names, please")
        return types.SimpleNamespace(expression=text.upper())

    fake = types.ModuleType("unionml_codegen.cron")
    fake.CronError = CronError
    fake.parse_cron = parse_cron
    monkeypatch.setitem(sys.modules, "unionml_codegen.cron", fake)

    assert flyteadmin_problems(_with_cron(entities, "0 6 * * MON"), entities) == []
    (found,) = flyteadmin_problems(_with_cron(entities, "0 6 * * mon"), entities)
    assert "not canonical" in found and "'0 6 * * MON'" in found
    (found,) = flyteadmin_problems(_with_cron(entities, "0 6 * JAN *"), entities)
    assert "no month names, please" in found
    # the robfig check still runs alongside
    found = flyteadmin_problems(_with_cron(entities, "0 0 * * 7"), entities)
    assert len(found) == 1 and "robfig" in found[0]


# ----------------------------------------------------------------------------------------- cron parser


@pytest.mark.parametrize(
    "spec",
    [
        "*/5 * * * *",
        "0 0 * * 0",
        "0 0 * * 6",
        "0 0 * * SUN",
        "0 0 * * sun",
        "0 6 * JAN,feb MON-FRI",
        "0 0 ? * *",
        "0-59/15 0,12 1-31 1-12 0-6",
        "5/10 * * * *",
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
        "@every 1h30m",
        "@every 1.5h",
        "@every 90s",
        "CRON_TZ=UTC 0 0 * * *",
        "TZ=Europe/Paris 0 0 * * *",
    ],
)
def test_robfig_accepts(spec: str) -> None:
    assert robfig_parse_standard_error(spec) is None


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "0 0 * * 7",
        "0 0 * * SUN-7",
        "daily",
        "hours",
        "@DAILY",
        "@daily ",
        "@every 1d",
        "@every",
        "0 0 0 * * *",
        "0 0 * * * 2024",
        "* * * *",
        "60 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "0 0 L * *",
        "0 0 * * 1#2",
        "0 0 * * MON-SUN",
        "*/0 * * * *",
        "1-2-3 * * * *",
        "1/2/3 * * * *",
        "TZ=Nowhere/City 0 0 * * *",
    ],
)
def test_robfig_refuses(spec: str) -> None:
    assert robfig_parse_standard_error(spec) is not None


# ----------------------------------------------------------------------------------------- packaging errors


def test_package_failure_raises_with_output(tmp_path: Path) -> None:
    pkg_dir = tmp_path / "broken"
    pkg_dir.mkdir()
    (pkg_dir / "__init__.py").write_text("")
    (pkg_dir / "wf.py").write_text("raise RuntimeError('boom at import')\n")
    with pytest.raises(AssertionError, match="boom at import"):
        package(tmp_path, "broken", output=tmp_path / "out.tgz")
