"""`unionml deploy`, `activate-schedules`, `deactivate-schedules`, `prune-schedules`: the project's
entities on a Flyte cluster and which of its schedules fire.

deploy registers what `pyflyte register --copy none --version V PKG` registers (every task and
workflow of the package, a default launch plan per workflow, the schedules' launch plans), with the
code in the task image (the generated Dockerfile copies the project), then activates the schedules
the app said `activate_on_deploy=True` for: by the manifest, not by `auto_activate`, so that
`--no-schedule` activates none. Activating a version deactivates the schedule's other versions
(flyteadmin); a schedule not activated keeps whatever version was active before.

Activation converges. flyteadmin (launch_plan_manager.go enableLaunchPlan, v1.16.8) reads ONE ACTIVE
version of the name and deactivates it in a later write, with no lock between: two activations at once
can leave two ACTIVE versions, and a later activation deactivates only one of them. So each activation
here first deactivates the extra ACTIVE versions an earlier race left, activates, then reads the
versions back: if more than one is ACTIVE (another activation crossed this one), every participant
keeps the same one, the version registered last, and deactivates the others; a command whose version
lost says so and exits 1. Each schedule's line is printed as it is switched.

Partial failures: a command cut part way (flyteadmin unreachable, a refusal, a deadline) says what was
registered and switched before it stopped and what was not; every step is safe to repeat (an entity
registered again with the same content is ALREADY_EXISTS, activating the ACTIVE version is a no-op), so
rerunning the same command finishes it.

One job, deploy and the schedule switches: registration, activation and its read-back share the same
entities and reports.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import codes
from ..options import DEFAULT_IMAGE
from .common import dump_json, fail, progress, project_or_exit
from .project import OperateError, Project, visible
from .remote import (
    Cluster,
    _rpc_of,
    admin_errors,
    cluster_options,
    connect,
    launch_plan_versions,
    list_all,
    namespace,
    rpc_code,
)

ACTIVE, INACTIVE = 1, 0  # flyteidl admin.LaunchPlanState
UNCHANGED = " (already)"  # the end of a schedule's line when switching it changed nothing


@click.command()
@click.argument("out", required=False, type=click.Path(file_okay=False))
@click.option("--version", required=True, help="Version of every registered entity (e.g. the git sha of the image).")
@click.option("--no-schedule", is_flag=True, help="Register the schedules without activating any.")
@click.option(
    "--image", default=None, help="Task image holding the project (default: the image the project was generated for)."
)
@click.option("--allow-placeholder-image", is_flag=True,
              help=f"Register with the placeholder image {DEFAULT_IMAGE} (refused otherwise: no cluster can pull it).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True,
              help="Print what was registered and switched as one JSON object (the lines go to stderr).")  # fmt: skip
@cluster_options
def deploy(out, version, no_schedule, image, allow_placeholder_image, as_json, config, project, domain) -> None:
    """Register the generated project OUT on a Flyte cluster and activate its schedules.

    Like `pyflyte register --copy none --version V`: the code runs from the task image (build and push
    the project's Dockerfile first; the placeholder image a project is generated with by default is refused
    unless --allow-placeholder-image). Schedules whose app said `activate_on_deploy=True` are activated
    unless --no-schedule is given. Prints what was registered (entities, version, image, project/domain).
    Rerunning a deploy that failed part way finishes it.
    """
    generated = project_or_exit(out, flyte2=True)
    if generated.target == "flyte2":  # the flyte SDK deploys it, image and all (operate/flyte2.py)
        from . import flyte2

        return flyte2.deploy(generated, version, no_schedule, as_json, config, project, domain, image=image)
    image = image or generated.image
    if not image:
        fail(OperateError("the project records no task image", "pass --image IMAGE", codes.NO_TASK_IMAGE))
    if image == DEFAULT_IMAGE and not allow_placeholder_image:
        fail(OperateError(
            f"the task image is the placeholder {DEFAULT_IMAGE}, which no cluster can pull: every run would fail",
            "build and push the project's Dockerfile and give its image: `unionml generate --image IMAGE` (or image "
            "in [tool.unionml-codegen]), or `unionml deploy --image IMAGE`; --allow-placeholder-image registers it "
            "anyway",
            codes.PLACEHOLDER_IMAGE,
        ))  # fmt: skip
    wanted = [s.name for s in generated.schedules if s.activate_on_deploy and not no_schedule]
    left = [s.name for s in generated.schedules if s.name not in wanted]
    progress = Progress()
    try:
        cluster = connect(config, project, domain, "deploy", generated)
        entities = _load_entities(generated, cluster, version, image)
        with admin_errors(cluster):
            _register(cluster, entities, version, progress, generated.package)
    except Conflict as exc:
        fail(exc)
    except OperateError as exc:
        fail(progress.failed(exc, wanted, f"`unionml deploy` of version {version}"))
    counts, names = progress.counts, progress.names
    where = cluster.where or namespace(generated, project, domain)
    lines = [
        f"registered {generated.package} version {version} in {cluster.project}/{cluster.domain}: "
        f"{counts['task']} tasks, {counts['workflow']} workflows, {counts['launch_plan']} launch plans",
        f"  image         {image}",
        f"  where         {cluster.project}/{cluster.domain} ({where.describe()})",
        *(f"  {label:<13} {', '.join(names[kind])}" for kind, label in _LABELS if names[kind]),
    ]
    for line in lines:
        click.echo(visible(line), err=as_json)
    switched: list[dict] = []
    lost = _switch_all(cluster, [(name, version) for name in wanted], ACTIVE, progress,
                       f"`unionml deploy` of version {version}", report=switched, err=as_json)  # fmt: skip
    reason = ("--no-schedule" if no_schedule else "activate_on_deploy=False") if left else None
    if left:
        click.echo(f"not activated ({reason}): {', '.join(left)}", err=as_json)
    if as_json:
        dump_json({"package": generated.package, "version": version, "image": image, **where.json(),
                   "registered": {"tasks": names["task"], "workflows": names["workflow"],
                                  "launch_plans": names["launch_plan"]},
                   "schedules": switched, "not_activated": left, "not_activated_because": reason,
                   "ok": not lost})  # fmt: skip
    if lost:
        sys.exit(1)


_LABELS = (("task", "tasks"), ("workflow", "workflows"), ("launch_plan", "launch plans"))


class Progress:
    """What a command did before it stopped, for the message of a partial failure."""

    def __init__(self) -> None:
        self.counts = {"task": 0, "workflow": 0, "launch_plan": 0}
        self.names: dict[str, list[str]] = {"task": [], "workflow": [], "launch_plan": []}  # registered, sorted
        self.totals = dict(self.counts)
        self.switched: list[str] = []
        self.registering = True

    def failed(self, exc: OperateError, schedules: list[str], command: str) -> OperateError:
        done = [name for name in schedules if name in self.switched]
        todo = [name for name in schedules if name not in self.switched]
        parts = []
        if self.registering and sum(self.totals.values()):
            registered = sum(self.counts.values())
            parts.append(f"registered {registered} of {sum(self.totals.values())} entities "
                         f"({self.counts['task']}/{self.totals['task']} tasks, "
                         f"{self.counts['workflow']}/{self.totals['workflow']} workflows, "
                         f"{self.counts['launch_plan']}/{self.totals['launch_plan']} launch plans)")  # fmt: skip
        elif not self.registering and sum(self.totals.values()):
            parts.append("registered every entity")
        if schedules and (done or not self.registering or sum(self.totals.values())):
            parts.append(f"switched: {', '.join(done) or 'none'}; not switched: {', '.join(todo) or 'none'}")
        if not parts:
            return exc
        return OperateError(f"{exc.message} ({'; '.join(parts)})",
                            f"rerun {command} to finish it: what is done already is kept", exc.code)  # fmt: skip


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
            codes.PROJECT_CANNOT_LOAD,
        ) from None
    finally:
        sys.dont_write_bytecode = previous
    return entities


def _register(cluster: Cluster, entities: list, version: str, progress: Progress, package: str) -> None:
    """Register the entities in pyflyte's order, with a progress bar on a terminal (a plain line on stderr
    otherwise, common.progress)."""
    from flytekit.models import task as task_models
    from flytekit.models.admin import workflow as workflow_models
    from flytekit.models.core.identifier import Identifier

    counts = progress.counts

    def ident(kind: int, name: str) -> Identifier:
        return Identifier(kind, cluster.project, cluster.domain, name, version)

    def kind(entity) -> str:  # what an entity refers to is registered before it, as pyflyte does
        if isinstance(entity, task_models.TaskSpec):
            return "task"
        return "workflow" if isinstance(entity, workflow_models.WorkflowSpec) else "launch_plan"

    ordered = sorted(entities, key=lambda entity: ("task", "workflow", "launch_plan").index(kind(entity)))
    for entity in ordered:
        progress.totals[kind(entity)] += 1
    totals = progress.totals
    with _bar(f"registering {package} {version}", len(ordered),
              f"registering {len(ordered)} entities of {package} version {version} in {cluster.project}/"
              f"{cluster.domain}: {totals['task']} tasks, {totals['workflow']} workflows, "
              f"{totals['launch_plan']} launch plans") as step:  # fmt: skip
        for entity in ordered:
            name = _register_one(cluster, entity, kind(entity), ident, counts, package)
            if name is not None:
                progress.names[kind(entity)].append(name)
            step()
    for names in progress.names.values():
        names.sort()
    progress.registering = False


def _register_one(cluster: Cluster, entity, what: str, ident, counts: dict, package: str) -> str | None:
    from flytekit.models import launch_plan as launch_plan_models
    from flytekit.models.core.identifier import ResourceType

    if what == "task":
        target, create = ident(ResourceType.TASK, entity.template.id.name), cluster.client.create_task
    elif what == "workflow":
        target, create = ident(ResourceType.WORKFLOW, entity.template.id.name), cluster.client.create_workflow
    elif isinstance(entity, launch_plan_models.LaunchPlan):
        target, create = ident(ResourceType.LAUNCH_PLAN, entity.id.name), cluster.client.create_launch_plan
        entity = _marked(entity.spec, package)
    else:
        return None
    _create(cluster, what, target, entity, create)
    counts[what] += 1
    return target.name


_bar = progress  # common.progress (the name `progress` is deploy's Progress record in the functions here)


#: The annotation deploy writes on every launch plan it registers (the package's name): prune-schedules deactivates
#: only launch plans whose copy on flyteadmin carries it, never one registered by hand on the package's workflow.
MARK = "unionml-codegen/package"


def _marked(spec, package: str):
    """The launch plan spec with MARK among its annotations (flyteadmin stores the spec and returns it); nothing
    else of it changes."""
    import copy

    from flytekit.models.common import Annotations

    marked = copy.copy(spec)
    values = dict(spec.annotations.values or {}) if spec.annotations is not None else {}
    marked._annotations = Annotations({**values, MARK: package})
    return marked


class Conflict(OperateError):
    """An entity of this version is registered with other content: a rerun cannot fix that, a new version can."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message, hint, codes.REGISTRATION_CONFLICT)


_KINDS = {"task": "task", "workflow": "workflow", "launch_plan": "launch plan"}


def _create(cluster: Cluster, what: str, ident, entity, create) -> None:
    """Register one entity. ALREADY_EXISTS is "already registered" only once the server's copy is read back and
    is ours: flyteadmin (v1.16.8 workflow_manager.go, launch_plan_manager.go) checks, then inserts, with nothing
    held between, so a create racing another registration of the same identifier gets ALREADY_EXISTS from the
    database whatever the other one held; and a proxy or a fault can answer ALREADY_EXISTS for nothing."""
    for attempt in (1, 2):
        try:
            create(ident, entity)
            return
        except Exception as exc:
            code = rpc_code(exc)
            if code == "INVALID_ARGUMENT" and "different structure" in str(getattr(_rpc_of(exc), "details", str)()):
                raise _conflict(cluster, what, ident) from None
            if code != "ALREADY_EXISTS":
                raise
        theirs = _registered(cluster, what, ident)
        if theirs is None:
            continue  # ALREADY_EXISTS, yet nothing is registered under that identifier: create it again
        if not _same(what, _ours(what, ident, entity), theirs):
            raise _conflict(cluster, what, ident)
        return  # registered before (an earlier run, or a create applied whose reply was lost): as pyflyte, kept
    raise OperateError(
        f"flyteadmin at {cluster.endpoint} answered ALREADY_EXISTS to Create{what.title().replace('_', '')} of "
        f"{_KINDS[what]} {ident.name} version {ident.version} twice but has no such {_KINDS[what]}",
        "rerun later; if it persists, check what sits between this machine and flyteadmin",
        codes.FLYTEADMIN_REFUSED,
    )


def _conflict(cluster: Cluster, what: str, ident) -> Conflict:
    kind = _KINDS[what]
    return Conflict(
        f"{kind} {ident.name} version {ident.version} is registered in {cluster.project}/{cluster.domain} with other "
        f"content than this project's {kind} (registered from other code, or by another deploy of the same version "
        "at the same time); nothing was activated",
        "deploy a new version (--version V); a version's entities cannot change once registered",
    )


def _registered(cluster: Cluster, what: str, ident):
    """The server's copy of an entity (flyteidl message), or None when it has none."""
    from flyteidl.admin import common_pb2
    from flytekit.clients.raw import RawSynchronousFlyteClient as Raw

    request = common_pb2.ObjectGetRequest(id=ident.to_flyte_idl())
    get = {"task": Raw.get_task, "workflow": Raw.get_workflow, "launch_plan": Raw.get_launch_plan}[what]
    try:
        found = get(cluster.client, request)
    except Exception as exc:
        if rpc_code(exc) == "NOT_FOUND":
            return None
        raise
    if what == "task":
        return found.closure.compiled_task.template
    if what == "workflow":
        return found.closure.compiled_workflow.primary.template
    return found.spec


def _ours(what: str, ident, entity):
    if what == "launch_plan":
        return entity.to_flyte_idl()
    template = entity.template.to_flyte_idl()
    template.id.CopyFrom(ident.to_flyte_idl())  # flyteadmin's setDefaults
    return template


def _same(what: str, ours, theirs) -> bool:
    """Whether the server's copy holds what we register, compared as flyteadmin's digests compare them
    (util/digests.go): the task template, the workflow template, the launch plan spec; the description (the
    docstring) is stored apart and is not compared. A compiled workflow has the compiler's start and end nodes
    and its own upstream lists: only the nodes we sent, their targets, inputs and metadata are compared."""
    if what != "workflow":
        return ours.SerializeToString(deterministic=True) == theirs.SerializeToString(deterministic=True)

    def shape(template) -> dict:
        nodes = {}
        for node in template.nodes:
            if node.id in ("start-node", "end-node"):
                continue
            copy = type(node)()
            copy.CopyFrom(node)
            del copy.upstream_node_ids[:]
            nodes[node.id] = copy.SerializeToString(deterministic=True)
        parts = {name: getattr(template, name).SerializeToString(deterministic=True)
                 for name in ("id", "interface", "metadata", "metadata_defaults", "failure_node")}  # fmt: skip
        parts["outputs"] = [binding.SerializeToString(deterministic=True) for binding in template.outputs]
        return {"nodes": nodes, **parts}

    return shape(ours) == shape(theirs)


def _switch_all(cluster: Cluster, targets: list[tuple[str, str | None]], state: int, progress: Progress,
                command: str, changes: list[bool] | None = None, report: list[dict] | None = None,
                err: bool = False) -> list[str]:  # fmt: skip
    """Switch each (name, version), printing each schedule's line as it happens (on stderr with `err`); the names
    whose version lost a race (another activation won). `changes` gets, per schedule, whether its state changed;
    `report`, a record per schedule for --json. A failure part way is a one-line error naming what was switched."""
    lost = []
    try:
        with admin_errors(cluster):
            for name, version in targets:
                if state == ACTIVE:
                    line, won = _activate(cluster, name, version)
                else:
                    line, won = _deactivate(cluster, name, version), True
                progress.switched.append(name)
                if changes is not None:
                    changes.append(not line.endswith(UNCHANGED))
                click.echo(visible(line), err=err)
                if report is not None:
                    report.append({"name": name, "state": "ACTIVE" if state == ACTIVE else "INACTIVE",
                                   "version": version, "changed": not line.endswith(UNCHANGED), "won": won,
                                   "message": line})  # fmt: skip
                if not won:
                    lost.append(name)
    except OperateError as exc:
        fail(progress.failed(exc, [name for name, _ in targets], command))
    return lost


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


def _switch(words, names_given, every, yes, version, config, project, domain, state: int, command: str) -> None:
    out, names = _out_and_names(words)
    names = tuple(names) + tuple(name for name in names_given if name not in names)  # --name: unionml's form
    generated = project_or_exit(out, flyte2=True)
    verb = "activate" if state == ACTIVE else "deactivate"
    try:
        if names and every:
            raise OperateError(f"--all and schedule names ({', '.join(names)}) given together",
                               "name the schedules, or pass --all for every one", codes.INVALID_COMMAND_LINE)  # fmt: skip
        schedules = generated.named(tuple(names))
        if not names:
            where = namespace(generated, project, domain)
            _confirm_all(generated, verb, every, yes, version, where.project, where.domain, command)
        if generated.target == "flyte2":  # each schedule's trigger, through the flyte SDK (operate/flyte2.py)
            from . import flyte2

            return flyte2.switch(generated, schedules, state == ACTIVE, version, config, project, domain,
                                 " ".join(["unionml", command, *words]))  # fmt: skip
        cluster = connect(config, project, domain, command, generated)
    except OperateError as exc:
        fail(exc)
    progress = Progress()
    shown = " ".join(["unionml", command, *words] + [f"--name {n}" for n in names_given]
                     + (["--all"] if every else []) + ([f"--version {version}"] if version else []))  # fmt: skip
    changes: list[bool] = []
    lost = _switch_all(cluster, [(schedule.name, version) for schedule in schedules], state, progress, f"`{shown}`",
                       changes)  # fmt: skip
    if len(schedules) > 1:
        changed = [s.name for s, change in zip(schedules, changes) if change]
        state_name = "ACTIVE" if state == ACTIVE else "INACTIVE"
        click.echo(visible(f"{verb}d {len(changed)} of {len(schedules)} schedules in {cluster.project}/{cluster.domain}"
                           + (f" ({', '.join(changed)})" if changed else "")
                           + (f"; {len(schedules) - len(changed)} {state_name} already" if len(changed) < len(schedules) else "")))  # fmt: skip
    if lost:
        sys.exit(1)


def _confirm_all(generated: Project, verb: str, every: bool, yes: bool, version, project, domain, command) -> None:
    """Acting on every schedule needs --all; and on a terminal, a yes to the question (--yes answers it); with no
    terminal to ask, --yes. Raises OperateError (CONFIRMATION_REQUIRED) otherwise."""
    count = len(generated.schedules)
    what = f"every schedule of {generated.directory} ({count})"
    again = f"`unionml {command} {generated.directory} NAME...`"
    if not every:
        raise OperateError(f"name the schedules to {verb}, or pass --all for {what}",
                           f"{again}, or `--all` (and --yes where no terminal can confirm)",
                           codes.CONFIRMATION_REQUIRED)  # fmt: skip
    if yes:
        return
    at = f" at version {version}" if version else (" at its newest version" if verb == "activate" else "")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise OperateError(f"--all would {verb} {what} in {project}/{domain}{at}, and there is no terminal to confirm it",
                           f"add --yes to {verb} them all, or name them: {again}", codes.CONFIRMATION_REQUIRED)  # fmt: skip
    names = ", ".join(schedule.name for schedule in generated.schedules)
    if not click.confirm(visible(f"{verb} {count} schedules in {project}/{domain}{at} ({names})?"), default=False,
                         err=True):  # fmt: skip
        raise OperateError(f"not confirmed: nothing was {verb}d", f"{again} switches only the ones named",
                           codes.CONFIRMATION_REQUIRED)  # fmt: skip


def _versions(cluster: Cluster, name: str) -> list:
    versions = launch_plan_versions(cluster, name)  # newest registered first
    if not versions:
        raise OperateError(
            f"schedule {name!r} is not deployed in {cluster.project}/{cluster.domain}",
            "run `unionml deploy OUT --version V` first (or pass the --project/--domain it was deployed to)",
            codes.NOT_ON_CLUSTER,
        )
    return versions


def _activate(cluster: Cluster, name: str, version: str | None) -> tuple[str, bool]:
    """Activate name@version (default: the newest registered) so that exactly one version ends ACTIVE.
    Returns the schedule's line and whether `version` is the one ACTIVE."""
    plans = _versions(cluster, name)
    target = version or plans[0].id.version
    if target not in {plan.id.version for plan in plans}:
        raise OperateError(
            f"schedule {name!r} has no version {target!r} in {cluster.project}/{cluster.domain}",
            f"deployed: {', '.join(plan.id.version for plan in plans)}",
            codes.NOT_ON_CLUSTER,
        )
    active = [plan.id.version for plan in plans if plan.closure.state == ACTIVE]
    if active == [target]:
        return f"{name}: ACTIVE at version {target}{UNCHANGED}", True  # flyteadmin would change nothing either
    others = [v for v in active if v != target]
    # an earlier race left several ACTIVE: flyteadmin deactivates only one per activation, so clear the rest
    # first (keeping one, or none when the target is ACTIVE already, so the schedule never stops firing)
    extra = others if target in active else others[1:]
    cleared = []
    for other in extra:
        _set_state(cluster, name, other, INACTIVE)
        cleared.append(other)
    _set_state(cluster, name, target, ACTIVE)
    active = [plan.id.version for plan in _versions(cluster, name) if plan.closure.state == ACTIVE]
    if len(active) > 1:  # another activation crossed this one: all keep the version registered last
        for other in active[1:]:
            _set_state(cluster, name, other, INACTIVE)
            cleared.append(other)
        active = active[:1]
    also = f" (deactivated {', '.join(sorted(set(cleared)))}: ACTIVE too)" if cleared and active == [target] else ""
    if active == [target]:
        return f"{name}: ACTIVE at version {target}{also}", True
    if active:
        return (f"{name}: version {active[0]} is ACTIVE, not {target}: another activation of {name} ran at the "
                f"same time and was registered later; rerun to make {target} ACTIVE"), False  # fmt: skip
    return (f"{name}: no version is ACTIVE: another command deactivated {target} at the same time; rerun to make "
            f"{target} ACTIVE"), False  # fmt: skip


def _deactivate(cluster: Cluster, name: str, version: str | None) -> str:
    versions = _versions(cluster, name)
    active = [plan.id.version for plan in versions if plan.closure.state == ACTIVE]
    if version is not None:
        active = [v for v in active if v == version]
    for target in active:
        _set_state(cluster, name, target, INACTIVE)
    if not active:
        return f"{name}: INACTIVE{UNCHANGED}"
    return f"{name}: INACTIVE (was active at version {', '.join(active)})"


def _selection(command):
    """NAME... or --all (every schedule, confirmed on a terminal or by --yes); --name as unionml 0.2.1 takes it."""
    command = click.option("--name", "names_given", multiple=True, metavar="NAME",
                           help="A schedule to switch, as unionml's --name takes it (may be repeated).")(command)  # fmt: skip
    command = click.option("--yes", "-y", "yes", is_flag=True,
                           help="With --all: do not ask (needed where no terminal can answer).")(command)  # fmt: skip
    return click.option("--all", "every", is_flag=True, help="Every schedule of OUT (asks first, unless --yes).")(
        command
    )


@click.command("activate-schedules")
@click.argument("words", nargs=-1, metavar="[OUT] [NAME]...")
@_selection
@click.option("--version", default=None, help="Version to activate (default: the newest deployed).")
@cluster_options
def activate_schedules(words, every, yes, names_given, version, config, project, domain) -> None:
    """Activate the schedules NAME... of OUT (or --all) at the deployed (newest) version.

    Each schedule's line says its state; `(already)` marks one that was so before. With several, a last
    line counts what changed."""
    _switch(words, names_given, every, yes, version, config, project, domain, ACTIVE, "activate-schedules")


@click.command("deactivate-schedules")
@click.argument("words", nargs=-1, metavar="[OUT] [NAME]...")
@_selection
@click.option("--version", default=None, help="Deactivate only this version (default: whichever is active).")
@cluster_options
def deactivate_schedules(words, every, yes, names_given, version, config, project, domain) -> None:
    """Deactivate the schedules NAME... of OUT (or --all), whichever version is active.

    Each schedule's line says its state; `(already)` marks one that was so before. With several, a last
    line counts what changed."""
    _switch(words, names_given, every, yes, version, config, project, domain, INACTIVE, "deactivate-schedules")


# --------------------------------------------------------------------------------------------------
# prune-schedules


@click.command("prune-schedules")
@click.argument("out", required=False, type=click.Path(file_okay=False))
@click.option("--dry-run", is_flag=True, help="List them; deactivate nothing.")
@cluster_options
def prune_schedules(out, dry_run, config, project, domain) -> None:
    """Deactivate schedules an earlier deployment of OUT activated that OUT no longer has.

    Flyte keeps firing a launch plan after it leaves the code. A launch plan is this project's when
    `unionml deploy` registered it (its annotation unionml-codegen/package names the package) and it runs
    one of the package's workflows; it is pruned when it is ACTIVE, has a schedule, and is not one of the
    project's schedules now. A launch plan registered any other way is left alone.
    """
    generated = project_or_exit(out, flyte2=True)
    if generated.target == "flyte2":  # the triggers, through the flyte SDK (operate/flyte2.py)
        from . import flyte2

        return flyte2.prune(generated, dry_run, config, project, domain)
    try:
        cluster = connect(config, project, domain, "prune-schedules", generated)
        with admin_errors(cluster):
            stale = _stale(cluster, generated)
    except OperateError as exc:
        fail(exc)
    if not stale:
        click.echo(
            f"nothing to prune: every active schedule of {generated.package} in {cluster.project}/{cluster.domain} is in "
            "the project"
        )
        return
    verb = "would deactivate" if dry_run else "deactivated"
    done: list[str] = []
    try:
        with admin_errors(cluster):
            for plan in stale:
                if not dry_run:
                    _set_state(cluster, plan.id.name, plan.id.version, INACTIVE)
                done.append(plan.id.name)
                click.echo(
                    visible(f"{verb} {plan.id.name} (version {plan.id.version}, runs {plan.spec.workflow_id.name})")
                )
    except OperateError as exc:
        todo = [plan.id.name for plan in stale if plan.id.name not in done]
        fail(OperateError(f"{exc.message} (deactivated: {', '.join(done) or 'none'}; not deactivated: {', '.join(todo)})",
                          "rerun `unionml prune-schedules` to finish it", exc.code))  # fmt: skip


def _stale(cluster: Cluster, generated: Project) -> list:
    """The ACTIVE scheduled launch plans deploy registered for this package (MARK on the server's copy, and
    running one of its workflows) that are not among its schedules now."""
    from flytekit.models.admin.common import Sort

    current = {schedule.name for schedule in generated.schedules}
    prefix = generated.package + "."
    active = list_all(cluster.client.list_active_launch_plans_paginated, project=cluster.project,
                      domain=cluster.domain, sort_by=Sort("created_at", Sort.Direction.ASCENDING))  # fmt: skip
    return sorted(
        (plan for plan in active
         if plan.spec.workflow_id.name.startswith(prefix)
         and (plan.spec.annotations.values or {}).get(MARK) == generated.package
         and plan.spec.entity_metadata.schedule is not None
         and plan.id.name not in current),
        key=lambda plan: plan.id.name,
    )  # fmt: skip
