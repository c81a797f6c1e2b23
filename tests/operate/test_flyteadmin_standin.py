"""The generated example projects against the flyteadmin STAND-IN (tests/support/flyteadmin_standin.py),
through flytekit's real client over gRPC: `pyflyte register --version V` succeeds, the schedules are
ACTIVE as the apps said, activating a version deactivates the others, flyteadmin's launch-plan rules
refuse a bad plan at CreateLaunchPlan, and list calls follow flyteadmin's filter grammar and paging."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..helpers import EXAMPLES
from ..support.flyteadmin_standin import FlyteAdminStandin, scheduled_execution_name

IMAGE = "ghcr.io/your-org/your-app:latest"


def pyflyte_register(config: Path, project_dir: Path, package: str, version: str, flyte_project: str):
    pyflyte = Path(sys.executable).parent / "pyflyte"
    return subprocess.run(
        [str(pyflyte), "--config", str(config), "register", "--project", flyte_project, "--copy", "none",
         "--version", version, "--image", IMAGE, package],
        cwd=project_dir, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    root = tmp_path_factory.mktemp("standin")
    with FlyteAdminStandin(root / "blob", projects=("seed_guide",)) as server:
        server.config = server.write_config(root / "config.yaml")
        yield server


@pytest.fixture(scope="module")
def registered(standin, tmp_path_factory):
    """The seed guide's project (every schedule form of unionml's guide) registered at v1 with pyflyte.

    (digits' schedules are three of the seed guide's; tests/operate/test_cluster_commands.py deploys digits_batch.)
    """
    app_dir = tmp_path_factory.mktemp("seed_guide") / "seed_guide"  # the app too: commands verify the project
    shutil.copytree(EXAMPLES / "seed_guide", app_dir, ignore=shutil.ignore_patterns("flyte2", "__pycache__"))
    project_dir = app_dir / "flyte"
    standin.add_image(IMAGE, project_dir)
    return pyflyte_register(standin.config, project_dir, "seed_guide", "v1", "seed_guide")


@pytest.fixture(scope="module")
def remote(standin):
    from flytekit.configuration import Config
    from flytekit.remote import FlyteRemote

    return FlyteRemote(Config.auto(str(standin.config)), default_project="seed_guide", default_domain="development")


def _plans(remote, project: str, name: str = "", **kwargs) -> list:
    from flytekit.models.common import NamedEntityIdentifier

    plans, _ = remote.client.list_launch_plans_paginated(
        NamedEntityIdentifier(project, "development", name), limit=kwargs.pop("limit", 100), **kwargs
    )
    return plans


def _schedule_names(package: str) -> set[str]:
    import json

    manifest = json.loads((EXAMPLES / package / "flyte" / ".unionml-codegen.json").read_text())
    text = (EXAMPLES / package / "flyte" / package / "launch_plans.py").read_text()
    return {line.split('name="', 1)[1].split('"', 1)[0] for line in text.splitlines() if 'name="' in line} | set(
        s["name"] for s in manifest.get("schedules", [])
    )


def test_pyflyte_register_of_the_seed_guide_project_succeeds_and_activates_the_schedules_only(registered, remote):
    assert registered.returncode == 0, registered.stderr[-3000:]
    assert "Successfully registered 26 entities" in registered.stdout
    states = {plan.id.name: plan.closure.state for plan in _plans(remote, "seed_guide", filters=_eq("version", "v1"))}
    schedules = _schedule_names("seed_guide")
    assert len(schedules) == 7 and schedules < set(states)
    # every schedule says auto_activate=True (the app leaves activate_on_deploy at its default)
    assert {name for name, state in states.items() if state == 1} == schedules
    assert all(name.startswith("seed_guide.workflows.") for name, state in states.items() if state == 0)


def _identifier(name: str, version: str):
    from flytekit.models.core.identifier import Identifier, ResourceType

    return Identifier(ResourceType.LAUNCH_PLAN, "seed_guide", "development", name, version)


def _versions(remote, name: str) -> dict[str, int]:
    return {plan.id.version: plan.closure.state for plan in _plans(remote, "seed_guide", name)}


def test_activating_a_version_deactivates_the_other_versions(registered, remote):
    plan = remote.client.get_launch_plan(_identifier("daily_predictions", "v1"))
    remote.client.create_launch_plan(_identifier("daily_predictions", "v2"), plan.spec)
    assert _versions(remote, "daily_predictions") == {"v1": 1, "v2": 0}  # a new version is INACTIVE
    remote.client.update_launch_plan(_identifier("daily_predictions", "v2"), 1)
    assert _versions(remote, "daily_predictions") == {"v1": 0, "v2": 1}
    remote.client.update_launch_plan(_identifier("daily_predictions", "v2"), 0)
    assert _versions(remote, "daily_predictions") == {"v1": 0, "v2": 0}  # deactivating touches that version only


def _refusal(remote, name: str, version: str, spec) -> str:
    from flytekit.models.launch_plan import LaunchPlanSpec

    with pytest.raises(Exception) as raised:
        remote.client.create_launch_plan(_identifier(name, version), LaunchPlanSpec.from_flyte_idl(spec))
    return f"{raised.value} {raised.value.__cause__}"


def test_create_launch_plan_applies_flyteadmins_rules_and_refuses_a_changed_plan_at_one_version(registered, remote):
    fixed_rate = remote.client.get_launch_plan(_identifier("fixed_rate_training_schedule", "v1")).spec.to_flyte_idl()
    fixed_rate.entity_metadata.schedule.kickoff_time_input_arg = "labeled"  # a bool
    assert "INVALID_ARGUMENT" in (text := _refusal(remote, "fixed_rate_training_schedule", "v3", fixed_rate))
    assert "kickoff_time_input_arg 'labeled' must be a datetime input (simple type DATETIME), but it is BOOLEAN" in text
    fixed_rate.entity_metadata.schedule.kickoff_time_input_arg = "kickoff_time"  # Optional[datetime]: a union
    assert "kickoff_time_input_arg 'kickoff_time' must be a datetime input" in _refusal(
        remote, "fixed_rate_training_schedule", "v3", fixed_rate
    )
    spec = remote.client.get_launch_plan(_identifier("cron_daily_training", "v1")).spec.to_flyte_idl()
    spec.entity_metadata.schedule.kickoff_time_input_arg = "time"
    del spec.fixed_inputs.literals["hyperparameters"]  # the plan gives it no default: unbound
    text = _refusal(remote, "cron_daily_training", "v3", spec)
    assert (
        "required input 'hyperparameters' is unbound: a scheduled launch plan must fix it or give it a default" in text
    )
    spec.fixed_inputs.literals["hyperparameters"].scalar.none_type.SetInParent()
    text = _refusal(remote, "cron_daily_training", "v1", spec)  # same identifier, different structure
    assert "launch plan with different structure already exists" in text
    assert set(_versions(remote, "cron_daily_training")) == {"v1"}


def _eq(field, value):
    from flytekit.models import filters

    return [filters.Equal(field, value)]


def test_list_filters_sorting_and_pages_follow_flyteadmin(registered, remote):
    from flytekit.models import filters
    from flytekit.models.admin.common import Sort
    from flytekit.models.common import NamedEntityIdentifier

    names = ["non_standard_training_schedule", "cron_daily_training", "fixed_rate_training_schedule"]
    found = _plans(remote, "seed_guide", filters=[filters.ValueIn("name", names), filters.Equal("version", "v1")],
                   sort_by=Sort("name", Sort.Direction.ASCENDING))  # fmt: skip
    assert [p.id.name for p in found] == sorted(names)
    # a joined entity (launch plans of one workflow), `contains`, `ne`
    found = _plans(remote, "seed_guide", filters=[filters.Equal("workflow.name", "seed_guide.workflows.model_train"),
                                                  filters.Contains("name", ["training"]), filters.NotEqual("version", "v0")])  # fmt: skip
    assert sorted(p.id.name for p in found) == ["cron_daily_training", "non_standard_training_schedule"]
    # pages of two with the offset token, newest first (registration order: cron, non_standard, fixed_rate)
    pages, token = [], ""
    while True:
        page, token = remote.client.list_launch_plans_paginated(
            NamedEntityIdentifier("seed_guide", "development", ""), limit=2, token=token,
            filters=[filters.ValueIn("name", names)], sort_by=Sort("created_at", Sort.Direction.DESCENDING),
        )  # fmt: skip
        pages.append([p.id.name for p in page])
        if not token:
            break
    assert pages == [["fixed_rate_training_schedule", "non_standard_training_schedule"], ["cron_daily_training"]]
    # what flyteadmin refuses: unionml's "launchplan.version" (no such entity prefix: not a column), a bad function
    for bad in ("eq(launchplan.version,v1)", "like(name,x)", "eq(name)", "eq(workflow.nope,x)"):
        with pytest.raises(Exception) as raised:
            remote.client.list_launch_plans_paginated(
                NamedEntityIdentifier("seed_guide", "development", ""), limit=5, filters=[_Raw(bad)]
            )
        assert "INVALID_ARGUMENT" in repr(raised.value) + repr(raised.value.__cause__), bad


class _Raw:
    """A filter given as flyteadmin's text, as flytekit's client sends `Filter.to_flyte_idl()`."""

    def __init__(self, text: str):
        self.text = text

    def to_flyte_idl(self) -> str:
        return self.text


def test_a_scheduled_kickoff_is_one_deterministic_execution_and_an_inactive_schedule_does_not_fire(registered, standin):
    import grpc

    from ..support.flyteadmin_standin import StandinError

    at = dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc)
    name = standin.fire("cron_daily_training", at, project="seed_guide", run=False)
    assert name == scheduled_execution_name("seed_guide", "development", "cron_daily_training", "v1", at)
    assert len(name) == 20 and name.startswith("f")
    assert name != scheduled_execution_name("seed_guide", "development", "cron_daily_training", "v1",
                                            at + dt.timedelta(days=1))  # fmt: skip
    with pytest.raises(grpc.RpcError) as raised:  # the scheduler's retry of one kickoff: ALREADY_EXISTS
        standin.fire("cron_daily_training", at, project="seed_guide", run=False)
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS
    row = standin.execution(name, project="seed_guide")
    assert row.spec.metadata.mode == 1 and row.spec.metadata.scheduled_at.ToDatetime() == at.replace(tzinfo=None)
    assert row.inputs.literals["time"].scalar.primitive.datetime.ToDatetime() == at.replace(tzinfo=None)
    standin.update_launch_plan(_update("daily_predictions_with_model_object", "v1", 0))
    with pytest.raises(StandinError, match="has no ACTIVE version"):
        standin.fire("daily_predictions_with_model_object", at, project="seed_guide")


def _update(name: str, version: str, state: int):
    from flyteidl.admin import launch_plan_pb2
    from flyteidl.core import identifier_pb2

    ident = identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, project="seed_guide",
                                      domain="development", name=name, version=version)  # fmt: skip
    return launch_plan_pb2.LaunchPlanUpdateRequest(id=ident, state=state)


def test_a_fixed_rate_run_reads_its_kickoff_from_the_standin_over_grpc_and_trains_as_the_cron_plan(
    registered, standin, remote
):
    """kickoff.py asks flyteadmin (here the stand-in, at FLYTE_PLATFORM_URL as a pod is configured) for the
    execution's scheduled_at: the fixed-rate run, which gets no kickoff input, reads the data of its kickoff day
    and trains exactly as the cron plan given that kickoff as its input."""
    from flytekit.models import filters

    at = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)  # day 20: the reader's cutoff is 900 + 25 * 20 rows
    fixed = standin.fire("fixed_rate_training_schedule", at, project="seed_guide", run=False)
    cron = standin.fire("non_standard_training_schedule", at, project="seed_guide", run=False)
    standin.run_executions(fixed, cron, project="seed_guide")
    assert "no scheduled time" not in standin.runs[-1].stderr

    metrics = {}
    for name in (fixed, cron):
        execution = remote.fetch_execution(name=name)
        assert execution.closure.phase == 4, standin.execution(name, project="seed_guide").error  # SUCCEEDED
        metrics[name] = execution.outputs.get("metrics", as_type=dict[str, float])
    assert metrics[fixed] == metrics[cron] and set(metrics[fixed]) == {"train", "test"}
    assert "time" not in remote.fetch_execution(name=fixed).inputs.literals  # it had no kickoff input
    # it is the schedule's run: listed by launch plan name, newest first, with its scheduled time
    runs, _ = remote.client.list_executions_paginated("seed_guide", "development", limit=5,
                                                      filters=[filters.Equal("launch_plan.name", "fixed_rate_training_schedule")])  # fmt: skip
    assert [(r.id.name, r.spec.metadata.scheduled_at) for r in runs] == [(fixed, at.replace(tzinfo=None))]


def test_unionml_deploy_registers_what_pyflyte_register_registers(registered, standin):
    """The seed guide's project deployed at v5 with `unionml deploy` (other tests use v2 and v3): the same
    tasks, workflows and launch plans as pyflyte's v1, spec for spec (versions aside), the schedules activated."""
    from ..helpers import run_cli

    project_dir = standin.images[IMAGE]
    result = run_cli("deploy", str(project_dir), "--version", "v5", "--project", "seed_guide",
                     "--allow-placeholder-image", "--config", str(standin.config))  # fmt: skip
    assert result.returncode == 0, result.stderr

    marks = {}
    MARK = "unionml-codegen/package"

    def entities(version: str) -> dict:
        found = {}
        for kind, table in (
            ("task", standin.tasks),
            ("workflow", standin.workflows),
            ("launch plan", standin.launch_plans),
        ):
            for key, row in table.items():
                if key[0] == "seed_guide" and key[3] == version:
                    spec = type(row.spec)()
                    spec.CopyFrom(row.spec)
                    if kind == "launch plan":  # deploy marks every launch plan it registers (prune-schedules reads it)
                        values = spec.annotations.values
                        marks[(version, key[2])] = values.pop(MARK) if MARK in values else None
                    text = spec.SerializeToString(deterministic=True).replace(version.encode(), b"<V>")
                    found[(kind, key[2])] = text
        return found

    assert entities("v5") == entities("v1") and len(entities("v1")) == 26
    assert {mark for (version, _), mark in marks.items() if version == "v5"} == {"seed_guide"}
    assert {mark for (version, _), mark in marks.items() if version == "v1"} == {None}  # pyflyte's: unmarked
    states = standin.launch_plan_states("seed_guide")
    assert {
        name for (name, version), state in states.items() if version == "v5" and state == "ACTIVE"
    } == _schedule_names("seed_guide")
