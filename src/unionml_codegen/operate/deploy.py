"""`unionml deploy`: the project's entities on a Flyte cluster, and the schedules the app activates
(switched as `activate-schedules` switches them: operate/switch.py).

deploy registers what `pyflyte register --copy none --version V PKG` registers (every task and
workflow of the package, a default launch plan per workflow, the schedules' launch plans), with the
code in the task image (the generated Dockerfile copies the project), then activates the schedules
the app said `activate_on_deploy=True` for: by the manifest, not by `auto_activate`, so that
`--no-schedule` activates none. Activating a version deactivates the schedule's other versions
(flyteadmin); a schedule not activated keeps whatever version was active before.

Partial failures: a deploy cut part way (flyteadmin unreachable, a refusal, a deadline) says what was
registered and switched before it stopped and what was not; every step is safe to repeat (an entity
registered again with the same content is ALREADY_EXISTS, activating the ACTIVE version is a no-op), so
rerunning the same command finishes it.
"""

from __future__ import annotations

import sys

import click

from .. import codes
from ..options import DEFAULT_IMAGE
from .common import dump_json, fail, progress, project_or_exit
from .project import OperateError, Project, visible
from .remote import Cluster, _rpc_of, admin_errors, cluster_options, connect, namespace, rpc_code
from .switch import ACTIVE, MARK, Progress, switch_all


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
    lost = switch_all(cluster, [(name, version) for name in wanted], ACTIVE, progress,
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
