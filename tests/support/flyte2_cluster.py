"""The Flyte 2 STAND-IN (flyte2_standin.py) grown into a cluster the operate commands act on, served from a
process of its own: `.venv-flyte2/bin/python tests/support/flyte2_cluster.py BLOB_ROOT PROJECT_DIR` prints one
JSON line (`{"endpoint": ...}`) and serves until its stdin closes; the images of PROJECT_DIR's environments are
known to its image service as built before, so a deploy builds nothing.

The rules are the open-source Flyte 2 backend's as its source shows them (flyteorg/flyte, `runs/`:
`service/task_service.go`, `service/trigger_service.go`, `repository/impl/task.go`, `repository/impl/trigger.go`,
`scheduler/core/schedule_time.go`), served over the SDK's real Connect transport, beyond what the base serves:

* ``TaskService/DeployTask`` upserts the task by (name, version): deploying a version again is no error and
  applies the request again. When the request has triggers, the task's other triggers are soft-deleted, and
  each trigger is upserted by (task name, trigger name): revision + 1, ``deployed_at`` now, ``active``, inputs,
  run spec and task version as sent, ``updated_at`` now only when ``active`` changed, ``triggered_at`` kept.
* ``TriggerService``: ``GetTriggerDetails`` (an unknown trigger is INTERNAL ``trigger not found: ...``, as the
  service answers: its repository's error does not wrap ``sql.ErrNoRows``), ``ListTriggers`` (by project or
  task name, active first then newest ``updated_at``, a token with every full page), ``UpdateTriggers`` (each
  trigger whose ``active`` differs is switched, revision + 1, ``updated_at`` now; one already so, or unknown, is
  skipped without an error). Other trigger methods are UNIMPLEMENTED.
* ``RunService/ListRuns`` scoped by ``trigger_name``: the runs that trigger started.
* ``DataProxyService/CreateUploadLocation`` and a PUT to the signed URL it gives: the code bundle, kept under
  BLOB_ROOT/uploads (a Content-MD5 that does not match the body is refused, as an object store does).

Control (plain JSON over HTTP, not part of any Flyte API), ``POST /_standin/OP``: ``state`` (tasks, triggers,
calls, uploads); ``copy_trigger`` (a deployed trigger under another name, active, with or without its
annotations: one an earlier deployment or a person left); ``fire`` (``trigger``, ``task``, ``at``, ``name``,
``overrides``): run the task of an ACTIVE trigger in the SDK's local mode with the trigger's deployed inputs
decoded by the SDK's type engine (``overrides`` replacing some, as a run may) and its kickoff input set to
``at`` (PROJECT_DIR's package supplies the code, as the bundle would), record it as a run the trigger started
(``metadata.trigger_name``, ``RUN_SOURCE_SCHEDULE_TRIGGER``) and set the trigger's ``triggered_at``.
Not reproduced: the scheduler itself (runs fire only when a test says; its catch-up of missed kickoffs),
run creation by the API, trigger revisions' history, deletion by the API, authentication.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import importlib
import json
import sys
import time
from pathlib import Path

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.cluster import payload_pb2 as cluster_pb2
from flyteidl2.cluster.service_connect import ClusterServiceWSGIApplication
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceWSGIApplication
from flyteidl2.task import task_service_pb2
from flyteidl2.trigger import trigger_definition_pb2, trigger_service_pb2
from flyteidl2.trigger.trigger_service_connect import TriggerServiceSync, TriggerServiceWSGIApplication
from flyteidl2.workflow import run_definition_pb2, run_service_pb2

sys.path.insert(0, str(Path(__file__).parent))
from flyte2_standin import Flyte2Standin, _ClusterService, _DataProxyService, _ts  # noqa: E402


class _Cluster(_ClusterService):
    SERVED = _ClusterService.SERVED + (cluster_pb2.SelectClusterRequest.OPERATION_CREATE_UPLOAD_LOCATION,)


class _DataProxy(_DataProxyService):
    def create_upload_location(self, request: dataproxy_service_pb2.CreateUploadLocationRequest, ctx):
        self.standin._check_scope(request.org, request.project, request.domain)
        key = f"{request.content_md5.hex()}/{request.filename}"
        return dataproxy_service_pb2.CreateUploadLocationResponse(
            signed_url=f"{self.standin.endpoint}/_upload/{key}",
            native_url=(self.standin.blob_root / "uploads" / key).as_uri(),
        )


class _TriggerService(TriggerServiceSync):
    def __init__(self, standin: "Flyte2Cluster"):
        self.standin = standin

    def get_trigger_details(self, request: trigger_service_pb2.GetTriggerDetailsRequest, ctx):
        return trigger_service_pb2.GetTriggerDetailsResponse(trigger=self.standin.trigger(request.name))

    def list_triggers(self, request: trigger_service_pb2.ListTriggersRequest, ctx):
        return self.standin.list_triggers(request)

    def update_triggers(self, request: trigger_service_pb2.UpdateTriggersRequest, ctx):
        """impl/trigger.go UpdateTriggers: each named trigger whose `active` differs is switched (revision + 1,
        updated_at now); one already so, or not found, is skipped without an error."""
        for name in request.names:
            self.standin._check_scope(name.org, name.project, name.domain)
            details = self.standin.triggers.get((name.task_name, name.name))
            if details is None or details.spec.active == request.active:
                continue
            details.spec.active = request.active
            details.id.revision += 1
            details.status.updated_at.CopyFrom(_ts(self.standin.now()))
        return trigger_service_pb2.UpdateTriggersResponse()


class Flyte2Cluster(Flyte2Standin):
    def __init__(self, blob_root: Path, project_dir: Path | None = None, **scope):
        super().__init__(blob_root, **scope)
        self.project_dir = project_dir
        self.triggers: dict[tuple[str, str], trigger_definition_pb2.TriggerDetails] = {}  # (task, name) ->
        self.deleted: dict[tuple[str, str], trigger_definition_pb2.TriggerDetails] = {}  # soft-deleted triggers
        self.started_by: dict[str, tuple[str, str]] = {}  # run name -> (task name, trigger name)
        self.uploads: dict[str, bytes] = {}
        self.clock = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
        for app in (ClusterServiceWSGIApplication(_Cluster()), DataProxyServiceWSGIApplication(_DataProxy(self)),
                    TriggerServiceWSGIApplication(_TriggerService(self))):  # fmt: skip
            self._apps[app.path] = app

    def now(self) -> datetime.datetime:
        self.clock += datetime.timedelta(seconds=1)  # every change at a time of its own, in order
        return self.clock

    # Serving the uploads and the control calls beside the Connect services

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_upload/") or path.startswith("/_standin/"):
            self.calls.append(f"{environ['REQUEST_METHOD']} {path.split('/')[1]}")
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            try:
                if path.startswith("/_upload/"):
                    answer = self._upload(path.removeprefix("/_upload/"), body, environ.get("HTTP_CONTENT_MD5", ""))
                else:
                    answer = self.control(path.removeprefix("/_standin/"), json.loads(body or b"{}"))
                status, data = "200 OK", json.dumps(answer).encode()
            except (KeyError, ValueError) as exc:
                status, data = "409 Conflict", json.dumps({"error": str(exc)}).encode()
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        return super().__call__(environ, start_response)

    def _upload(self, key: str, body: bytes, md5: str) -> dict:
        if md5 and base64.b64decode(md5) != hashlib.md5(body).digest():
            raise ValueError("Content-MD5 does not match the body")
        target = self.blob_root / "uploads" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        self.uploads[key] = body
        return {}

    def control(self, op: str, args: dict) -> dict:
        if op == "state":
            return self.state()
        if op == "fire":
            at = datetime.datetime.fromisoformat(args["at"])
            run = self.fire(args["task"], args["trigger"], at, args["name"], args.get("overrides", {}))
            return {
                "name": run.name,
                "phase": phase_pb2.ActionPhase.Name(run.phase).removeprefix("ACTION_PHASE_"),
                "error": run.error,
            }
        if op == "copy_trigger":  # as an earlier deployment (keep_annotations) or a hand-made trigger left it
            copied = trigger_definition_pb2.TriggerDetails()
            copied.CopyFrom(self.triggers[(args["task"], args["trigger"])])
            copied.id.name.name = args["name"]
            copied.spec.active = True
            if not args["keep_annotations"]:
                copied.spec.run_spec.ClearField("annotations")
            self.triggers[(args["task"], args["name"])] = copied
            return {}
        raise ValueError(f"no control operation {op!r}")

    def state(self) -> dict:
        return {
            "tasks": sorted([name, version] for name, version in self.tasks),
            "triggers": {name: {"task": task, "active": d.spec.active, "version": d.spec.task_version,
                                "revision": d.id.revision, "kickoff_input": d.automation_spec.schedule.kickoff_time_input_arg,
                                "inputs": sorted(literal.name for literal in d.spec.inputs.literals),
                                "deployed_at": d.status.deployed_at.ToDatetime(datetime.timezone.utc).isoformat()}
                         for (task, name), d in sorted(self.triggers.items())},
            "calls": self.calls,
            "uploads": sorted(self.uploads),
        }  # fmt: skip

    # Deployments with triggers

    def deploy_task(self, request: task_service_pb2.DeployTaskRequest) -> task_service_pb2.DeployTaskResponse:
        """The open-source backend's DeployTask (runs/service/task_service.go, runs/repository/impl/task.go
        CreateTask): the task upserted by (name, version), no ALREADY_EXISTS; when the request has triggers,
        the task's triggers it does not name are soft-deleted, and each trigger named is upserted
        (impl/trigger.go upsertTrigger): revision + 1, deployed_at now, active, task version, inputs and
        run spec as sent, updated_at now only when `active` changed."""
        task_id = request.task_id
        self._check_scope(task_id.org, task_id.project, task_id.domain)
        if not task_id.name or not task_id.version:
            raise ConnectError(Code.INVALID_ARGUMENT, "a task is deployed with a name and a version")
        self.tasks[(task_id.name, task_id.version)] = request
        if request.triggers:
            kept = {trigger.name for trigger in request.triggers}
            for task, name in list(self.triggers):
                if task == task_id.name and name not in kept:
                    self.deleted[(task, name)] = self.triggers.pop((task, name))
        for trigger in request.triggers:
            key = (task_id.name, trigger.name)
            previous = self.triggers.get(key)
            now = self.now()
            details = trigger_definition_pb2.TriggerDetails(
                id=identifier_pb2.TriggerIdentifier(
                    name=identifier_pb2.TriggerName(org=task_id.org, project=task_id.project, domain=task_id.domain,
                                                    name=trigger.name, task_name=task_id.name),
                    revision=previous.id.revision + 1 if previous is not None else 1,
                ),
                spec=trigger_definition_pb2.TriggerSpec(active=trigger.spec.active, run_spec=trigger.spec.run_spec,
                                                        task_version=task_id.version),
                automation_spec=trigger.automation_spec,
            )  # fmt: skip
            details.spec.inputs.CopyFrom(trigger.spec.inputs)
            details.status.deployed_at.CopyFrom(_ts(now))
            changed = previous is None or previous.spec.active != trigger.spec.active
            details.status.updated_at.CopyFrom(_ts(now) if changed else previous.status.updated_at)
            if previous is not None and previous.status.HasField("triggered_at"):
                details.status.triggered_at.CopyFrom(previous.status.triggered_at)
            self.triggers[key] = details
        return task_service_pb2.DeployTaskResponse()

    def trigger(self, name: identifier_pb2.TriggerName) -> trigger_definition_pb2.TriggerDetails:
        self._check_scope(name.org, name.project, name.domain)
        found = self.triggers.get((name.task_name, name.name))
        if found is None:  # the repository's error does not wrap sql.ErrNoRows, so the service answers Internal
            raise ConnectError(Code.INTERNAL, f"trigger not found: {name.project}/{name.domain}/{name.task_name}/"
                                              f"{name.name}")  # fmt: skip
        return found

    def list_triggers(
        self, request: trigger_service_pb2.ListTriggersRequest
    ) -> trigger_service_pb2.ListTriggersResponse:
        if request.HasField("task_id"):
            raise ConnectError(Code.INVALID_ARGUMENT, "the stand-in lists triggers by project or task name")
        scope = request.task_name if request.HasField("task_name") else request.project_id
        if request.HasField("task_name"):
            self._check_scope(scope.org, scope.project, scope.domain)
        else:
            self._check_scope(scope.organization, scope.name, scope.domain)
        chosen = [d for (task, _), d in self.triggers.items()
                  if not request.HasField("task_name") or task == request.task_name.name]  # fmt: skip
        # impl/trigger.go ListTriggers' default order
        chosen.sort(key=lambda d: (not d.spec.active, -d.status.updated_at.ToNanoseconds(), d.id.name.name))
        limit = request.request.limit or 100
        offset = int(request.request.token or 0)
        page = chosen[offset : offset + limit]
        return trigger_service_pb2.ListTriggersResponse(
            triggers=[trigger_definition_pb2.Trigger(id=d.id, status=d.status, active=d.spec.active,
                                                     automation_spec=d.automation_spec) for d in page],
            token=str(offset + limit) if len(page) == limit else "",  # a full page has a token, as the service's
        )  # fmt: skip

    # Runs a trigger started

    def fire(self, task_name: str, trigger_name: str, at: datetime.datetime, name: str, overrides: dict):
        details = self.triggers.get((task_name, trigger_name))
        if details is None:
            raise KeyError(f"no trigger {trigger_name!r} of task {task_name!r} is deployed")
        if not details.spec.active:
            raise ValueError(f"trigger {trigger_name!r} is not active: the scheduler does not fire it")
        task = self._task(task_name)
        inputs = asyncio.run(self._decode(task, details))
        inputs[details.automation_spec.schedule.kickoff_time_input_arg] = at
        inputs.update(overrides)  # a trigger's inputs are defaults a run may override
        started = time.monotonic()
        run = self.run(task, name=name, version=details.spec.task_version, created_at=at, **inputs)
        run.updated_at = at + datetime.timedelta(seconds=round(time.monotonic() - started, 3))
        self.started_by[name] = (task_name, trigger_name)
        details.status.triggered_at.CopyFrom(_ts(at))
        return run

    def _task_module(self):
        sys.path.insert(0, str(self.project_dir))
        try:
            package = json.loads((self.project_dir / ".unionml-codegen.json").read_text())["options"]["package"]
            return importlib.import_module(f"{package}.tasks")
        finally:
            sys.path.remove(str(self.project_dir))

    def _task(self, task_name: str):
        tasks = self._task_module()
        found = {task.name: task for env in (tasks.env, *tasks.env.depends_on) for task in env.tasks.values()}
        return found[task_name]

    @staticmethod
    async def _decode(task, details) -> dict:
        import flyte.types

        types = task.native_interface.get_input_types()
        return {literal.name: await flyte.types.TypeEngine.to_python_value(literal.value, types[literal.name])
                for literal in details.spec.inputs.literals}  # fmt: skip

    def _action(self, run):
        action = super()._action(run)
        if run.name in self.started_by:
            task_name, trigger_name = self.started_by[run.name]
            metadata = action["metadata"]
            metadata.trigger_name = trigger_name
            metadata.trigger_id.CopyFrom(self.triggers[(task_name, trigger_name)].id)
            metadata.source = run_definition_pb2.RUN_SOURCE_SCHEDULE_TRIGGER
        return action

    def list_runs(self, request: run_service_pb2.ListRunsRequest) -> run_service_pb2.ListRunsResponse:
        if not request.HasField("trigger_name"):
            return super().list_runs(request)
        name = request.trigger_name
        self._check_scope(name.org, name.project, name.domain)
        mine = {run for run, started in self.started_by.items() if started == (name.task_name, name.name)}
        kept = self.runs
        self.runs = {run_name: run for run_name, run in kept.items() if run_name in mine}
        try:
            scoped = run_service_pb2.ListRunsRequest(request=request.request)
            scoped.project_id.CopyFrom(identifier_pb2.ProjectIdentifier(organization=name.org, name=name.project,
                                                                        domain=name.domain))  # fmt: skip
            return super().list_runs(scoped)
        finally:
            self.runs = kept


def main(argv: list[str]) -> None:
    blob_root, project_dir = argv
    cluster = Flyte2Cluster(Path(blob_root), Path(project_dir).resolve())
    tasks = cluster._task_module()
    for env in (tasks.env, *tasks.env.depends_on):  # built before, so a deploy builds nothing
        name = env.image.uri.rsplit("/", 1)[-1]  # name:tag, as the SDK asks the image service for it
        cluster.images[name] = "registry.example/" + name
    with cluster:
        cluster.init()  # a fired task that looks up a model version calls this stand-in, as on a cluster
        print(json.dumps({"endpoint": cluster.endpoint}), flush=True)
        sys.stdin.read()  # serve until the test closes stdin


if __name__ == "__main__":
    main(sys.argv[1:])
