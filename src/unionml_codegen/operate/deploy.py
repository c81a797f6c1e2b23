"""`unionml deploy`, `activate-schedules`, `deactivate-schedules`, `prune-schedules`: the project's
entities on a Flyte cluster and which of its schedules fire.

deploy registers what `pyflyte register --copy none --version V PKG` registers (every task and
workflow of the package, a default launch plan per workflow, the schedules' launch plans), with the
code in the task image (the generated Dockerfile copies the project), then activates the schedules
the app said `activate_on_deploy=True` for: by the manifest, not by `auto_activate`, so that
`--no-schedule` activates none. Activating a version deactivates the schedule's other versions
(flyteadmin); a schedule not activated keeps whatever version was active before.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import fail, project_or_exit
from .project import OperateError, Project, visible
from .remote import Cluster, admin_errors, cluster_options, connect, launch_plan_versions, list_all

ACTIVE, INACTIVE = 1, 0  # flyteidl admin.LaunchPlanState


@click.command()
@click.argument("out", required=False, type=click.Path(file_okay=False))
@click.option("--version", required=True, help="Version of every registered entity (e.g. the git sha of the image).")
@click.option("--no-schedule", is_flag=True, help="Register the schedules without activating any.")
@click.option(
    "--image", default=None, help="Task image holding the project (default: the image the project was generated for)."
)
@cluster_options
def deploy(out, version, no_schedule, image, config, project, domain) -> None:
    """Register the generated project OUT on a Flyte cluster and activate its schedules.

    Like `pyflyte register --copy none --version V`: the code runs from the task image (build and push
    the project's Dockerfile first). Schedules whose app said `activate_on_deploy=True` are activated
    unless --no-schedule is given.
    """
    generated = project_or_exit(out)
    image = image or generated.image
    if not image:
        fail(OperateError("the project records no task image", "pass --image IMAGE"))
    try:
        cluster = connect(config, project, domain, "deploy")
        entities = _load_entities(generated, cluster, version, image)
        with admin_errors(cluster):
            counts = _register(cluster, entities, version)
            activated, left = _activate_on_deploy(cluster, generated, version, no_schedule)
    except OperateError as exc:
        fail(exc)
    click.echo(
        f"registered {generated.package} version {version} in {project}/{domain}: "
        f"{counts['task']} tasks, {counts['workflow']} workflows, {counts['launch_plan']} launch plans"
    )
    if activated:
        click.echo(f"activated: {', '.join(activated)}")
    if left:
        reason = "--no-schedule" if no_schedule else "activate_on_deploy=False"
        click.echo(f"not activated ({reason}): {', '.join(left)}")


def _load_entities(generated: Project, cluster: Cluster, version: str, image: str) -> list:
    """The package's control-plane entities, as `pyflyte register` serializes them."""
    from flytekit.configuration import ImageConfig, SerializationSettings
    from flytekit.core.context_manager import FlyteContextManager
    from flytekit.tools import module_loader
    from flytekit.tools.serialize_helpers import get_registrable_entities

    root = str(generated.directory.resolve())
    settings = SerializationSettings(
        project=cluster.project,
        domain=cluster.domain,
        version=version,
        image_config=ImageConfig.auto(img_name=image),
        source_root=root,
    )
    context = FlyteContextManager.current_context().with_serialization_settings(settings)
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # leave no __pycache__ in the generated project
    try:
        with FlyteContextManager.with_context(context) as ctx:
            with module_loader.add_sys_path(root):
                module_loader.just_load_modules(pkgs=[generated.package])
            entities = get_registrable_entities(ctx)
    except Exception as exc:
        raise OperateError(
            f"cannot load {generated.package} from {generated.directory}: {type(exc).__name__}: {exc}",
            "install the project's requirements (requirements.txt) in this environment",
        ) from None
    finally:
        sys.dont_write_bytecode = previous
    return entities


def _register(cluster: Cluster, entities: list, version: str) -> dict[str, int]:
    from flytekit.exceptions.user import FlyteEntityAlreadyExistsException
    from flytekit.models import launch_plan as launch_plan_models
    from flytekit.models import task as task_models
    from flytekit.models.admin import workflow as workflow_models
    from flytekit.models.core.identifier import Identifier, ResourceType

    counts = {"task": 0, "workflow": 0, "launch_plan": 0}

    def ident(kind: int, name: str) -> Identifier:
        return Identifier(kind, cluster.project, cluster.domain, name, version)

    def rank(entity) -> int:  # what an entity refers to is registered before it, as pyflyte does
        return (
            0
            if isinstance(entity, task_models.TaskSpec)
            else 1 if isinstance(entity, workflow_models.WorkflowSpec) else 2
        )

    for entity in sorted(entities, key=rank):
        try:
            if isinstance(entity, task_models.TaskSpec):
                counts["task"] += 1
                cluster.client.create_task(ident(ResourceType.TASK, entity.template.id.name), entity)
            elif isinstance(entity, workflow_models.WorkflowSpec):
                counts["workflow"] += 1
                cluster.client.create_workflow(ident(ResourceType.WORKFLOW, entity.template.id.name), entity)
            elif isinstance(entity, launch_plan_models.LaunchPlan):
                counts["launch_plan"] += 1
                cluster.client.create_launch_plan(ident(ResourceType.LAUNCH_PLAN, entity.id.name), entity.spec)
        except FlyteEntityAlreadyExistsException:
            pass  # the same entity at this version: registering again is a no-op, as with pyflyte
    return counts


def _activate_on_deploy(cluster: Cluster, generated: Project, version: str, no_schedule: bool):
    wanted = [s.name for s in generated.schedules if s.activate_on_deploy and not no_schedule]
    left = [s.name for s in generated.schedules if s.name not in wanted]
    for name in wanted:
        _set_state(cluster, name, version, ACTIVE)
    return wanted, left


def _set_state(cluster: Cluster, name: str, version: str, state: int) -> None:
    from flytekit.models.core.identifier import Identifier, ResourceType

    cluster.client.update_launch_plan(
        Identifier(ResourceType.LAUNCH_PLAN, cluster.project, cluster.domain, name, version), state
    )


# --------------------------------------------------------------------------------------------------
# activate-schedules / deactivate-schedules


def _out_and_names(words: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """`[OUT] [NAME]...`: a first word that is a directory is OUT; else the project is found (pyproject, manifest)."""
    if words and Path(words[0]).is_dir():
        return words[0], words[1:]
    return None, words


def _switch(words, version, config, project, domain, state: int, command: str) -> None:
    out, names = _out_and_names(words)
    generated = project_or_exit(out)
    try:
        schedules = generated.named(tuple(names))
        cluster = connect(config, project, domain, command)
        lines = []
        with admin_errors(cluster):
            for schedule in schedules:
                lines.append(_switch_one(cluster, schedule.name, version, state))
    except OperateError as exc:
        fail(exc)
    for line in lines:
        click.echo(visible(line))


def _switch_one(cluster: Cluster, name: str, version: str | None, state: int) -> str:
    versions = launch_plan_versions(cluster, name)
    if not versions:
        raise OperateError(
            f"schedule {name!r} is not deployed in {cluster.project}/{cluster.domain}",
            "run `unionml deploy OUT --version V` first (or pass the --project/--domain it was deployed to)",
        )
    if state == ACTIVE:
        target = version or versions[0].id.version  # the deployed (newest) version
        if target not in {plan.id.version for plan in versions}:
            raise OperateError(f"schedule {name!r} has no version {target!r} in {cluster.project}/{cluster.domain}")
        _set_state(cluster, name, target, ACTIVE)
        return f"{name}: ACTIVE at version {target}"
    active = [plan.id.version for plan in versions if plan.closure.state == ACTIVE]
    if version is not None:
        active = [v for v in active if v == version]
    for target in active:
        _set_state(cluster, name, target, INACTIVE)
    if not active:
        return f"{name}: already inactive"
    return f"{name}: INACTIVE (was active at version {', '.join(active)})"


@click.command("activate-schedules")
@click.argument("words", nargs=-1, metavar="[OUT] [NAME]...")
@click.option("--version", default=None, help="Version to activate (default: the newest deployed).")
@cluster_options
def activate_schedules(words, version, config, project, domain) -> None:
    """Activate the schedules NAME... of OUT (all by default) at the deployed (newest) version."""
    _switch(words, version, config, project, domain, ACTIVE, "activate-schedules")


@click.command("deactivate-schedules")
@click.argument("words", nargs=-1, metavar="[OUT] [NAME]...")
@click.option("--version", default=None, help="Deactivate only this version (default: whichever is active).")
@cluster_options
def deactivate_schedules(words, version, config, project, domain) -> None:
    """Deactivate the schedules NAME... of OUT (all by default), whichever version is active."""
    _switch(words, version, config, project, domain, INACTIVE, "deactivate-schedules")


# --------------------------------------------------------------------------------------------------
# prune-schedules


@click.command("prune-schedules")
@click.argument("out", required=False, type=click.Path(file_okay=False))
@click.option("--dry-run", is_flag=True, help="List them; deactivate nothing.")
@cluster_options
def prune_schedules(out, dry_run, config, project, domain) -> None:
    """Deactivate schedules an earlier deployment of OUT activated that OUT no longer has.

    Flyte keeps firing a launch plan after it leaves the code. A launch plan is this project's when
    it runs one of the package's workflows; it is pruned when it is ACTIVE, has a schedule, and is
    not one of the project's schedules now.
    """
    generated = project_or_exit(out)
    try:
        cluster = connect(config, project, domain, "prune-schedules")
        with admin_errors(cluster):
            stale = _stale(cluster, generated)
            if not dry_run:
                for plan in stale:
                    _set_state(cluster, plan.id.name, plan.id.version, INACTIVE)
    except OperateError as exc:
        fail(exc)
    if not stale:
        click.echo(
            f"nothing to prune: every active schedule of {generated.package} in {project}/{domain} is in the project"
        )
        return
    verb = "would deactivate" if dry_run else "deactivated"
    for plan in stale:
        click.echo(visible(f"{verb} {plan.id.name} (version {plan.id.version}, runs {plan.spec.workflow_id.name})"))


def _stale(cluster: Cluster, generated: Project) -> list:
    current = {schedule.name for schedule in generated.schedules}
    prefix = generated.package + "."
    active = list_all(cluster.client.list_active_launch_plans_paginated, project=cluster.project, domain=cluster.domain)
    return sorted(
        (plan for plan in active
         if plan.spec.workflow_id.name.startswith(prefix)
         and plan.spec.entity_metadata.schedule is not None
         and plan.id.name not in current),
        key=lambda plan: plan.id.name,
    )  # fmt: skip
