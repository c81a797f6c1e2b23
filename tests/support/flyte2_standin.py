"""A stand-in for the Flyte 2 control plane, served over a real connection, for tests of code that
calls `flyte.remote.Run` and of `flyte deploy`.

There is no Flyte 2 backend on the test machines, so this is a STAND-IN: flyteidl2's generated
Connect server stubs (``RunService``, ``DataProxyService``, ``ClusterService``, ``ImageService``,
``TaskService`` WSGI applications) on the standard library's wsgiref, in a thread, plain HTTP on
localhost with a free port, state in memory. It runs inside the flyte 2.x SDK's interpreter
(``.venv-flyte2``), and the SDK's real client (``flyte.init(endpoint=..., insecure=True)`` or a config
file, then ``flyte.remote.Run`` or ``flyte deploy``) talks to it over Connect RPC exactly as to the
backend. It serves what ``Run.get``, ``Run.listall``, ``Run.outputs``/``typed_outputs`` and
``flyte deploy --copy-style none`` call, and nothing else:

* ``RunService/GetRunDetails``: the run's root action (``a0``) with its task spec (the task
  template's interface, so the client rebuilds native types), phase, times and, for a failed run,
  its error; an unknown run is NOT_FOUND.
* ``RunService/ListRuns``: the runs of the request's project and domain (both required), filtered
  by ``ListRequest.filters`` over the fields the SDK sends (``phase`` as the ActionPhase number,
  ``task_name``, ``task_version``) with ``EQUAL`` (exactly one value) or ``VALUE_IN``; sorted by
  ``sort_by`` (``created_at`` or ``updated_at``; the SDK's default is ``created_at`` ascending);
  at most ``limit`` (> 0) runs a page, with an offset token when more remain. Any other field,
  function, raw filter, sort key or request scope (trigger, task id) is INVALID_ARGUMENT: a filter
  the stand-in does not understand fails, never matches everything.
* ``DataProxyService/GetActionData``: the run's inputs and outputs as literals.
* ``ImageService/GetImage``: the images in ``images`` (name:tag -> fully qualified name), as built
  before, so ``flyte deploy`` with the remote image builder builds nothing; any other is NOT_FOUND.
* ``TaskService/DeployTask``: records the task spec and its triggers in ``tasks`` by (name,
  version); the same name and version again is ALREADY_EXISTS (which ``flyte deploy`` skips).
* ``ClusterService/SelectCluster``: for ``OPERATION_GET_ACTION_DATA`` and ``OPERATION_GET_IMAGE``
  no cluster endpoint (this server serves them); any other operation is UNIMPLEMENTED, so the SDK
  keeps trigger inputs inline (``OPERATION_UPLOAD_TRIGGER``, as with a backend without zero trust).
Every other method of these services, and every other service, is UNIMPLEMENTED, so an unexpected
call fails loudly.

The runs it holds come from real executions: ``run(task, ...)`` runs a task in the SDK's local mode
and records it, succeeded with its outputs turned into literals by the SDK's own conversion (a
scikit-learn model is pickled as the SDK pickles it, blobs under ``blob_root``), or failed with the
error it raised. Not reproduced: authentication, the run's child actions, logs, watches, creating
or aborting runs, code bundle uploads (deploy with ``--copy-style none``), image builds, trigger
state after deployment, and what the backend checks in a deployed task beyond its identifier.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import io
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import flyte
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyte._context import internal_ctx
from flyte._internal.runtime import convert
from flyte._internal.runtime.types_serde import transform_native_to_typed_interface
from flyte.models import RawDataPath
from flyteidl2.cluster import payload_pb2 as cluster_pb2
from flyteidl2.cluster.service_connect import ClusterServiceSync, ClusterServiceWSGIApplication
from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
from flyteidl2.core import tasks_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceSync, DataProxyServiceWSGIApplication
from flyteidl2.imagebuilder import definition_pb2 as image_definition_pb2
from flyteidl2.imagebuilder import payload_pb2 as image_payload_pb2
from flyteidl2.imagebuilder.service_connect import ImageServiceSync, ImageServiceWSGIApplication
from flyteidl2.task import common_pb2, task_definition_pb2, task_service_pb2
from flyteidl2.task.task_service_connect import TaskServiceSync, TaskServiceWSGIApplication
from flyteidl2.workflow import run_definition_pb2, run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceSync, RunServiceWSGIApplication
from google.protobuf import timestamp_pb2

ROOT_ACTION = "a0"  # the name of a run's root action in Flyte 2
FILTER_FIELDS = ("phase", "task_name", "task_version")
SORT_KEYS = ("created_at", "updated_at")


@dataclasses.dataclass
class RecordedRun:
    name: str
    task_name: str
    task_version: str
    phase: int  # phase_pb2.ActionPhase
    created_at: datetime.datetime
    updated_at: datetime.datetime
    interface: Any  # flyteidl2.core.interface_pb2.TypedInterface
    inputs: common_pb2.Inputs
    outputs: common_pb2.Outputs | None
    error: str = ""

    def column(self, field: str) -> str:
        """The value a filter on `field` compares with, as the SDK spells it (phase: its number)."""
        return {"phase": str(self.phase), "task_name": self.task_name, "task_version": self.task_version}[field]


def _ts(moment: datetime.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _invalid(message: str) -> ConnectError:
    return ConnectError(Code.INVALID_ARGUMENT, message)


class _RunService(RunServiceSync):
    """The RunService methods `Run.get` and `Run.listall` call; the protocol's defaults answer UNIMPLEMENTED."""

    def __init__(self, standin: "Flyte2Standin"):
        self.standin = standin

    def get_run_details(
        self, request: run_service_pb2.GetRunDetailsRequest, ctx
    ) -> run_service_pb2.GetRunDetailsResponse:
        run = self.standin.find(request.run_id)
        return run_service_pb2.GetRunDetailsResponse(details=self.standin.details_message(run))

    def list_runs(self, request: run_service_pb2.ListRunsRequest, ctx) -> run_service_pb2.ListRunsResponse:
        return self.standin.list_runs(request)


class _ClusterService(ClusterServiceSync):
    """Routes the operations the stand-in serves to itself; any other is UNIMPLEMENTED, so the SDK
    keeps trigger inputs inline (OPERATION_UPLOAD_TRIGGER), as with a backend without zero trust."""

    SERVED = (
        cluster_pb2.SelectClusterRequest.OPERATION_GET_ACTION_DATA,
        cluster_pb2.SelectClusterRequest.OPERATION_GET_IMAGE,
    )

    def select_cluster(self, request: cluster_pb2.SelectClusterRequest, ctx) -> cluster_pb2.SelectClusterResponse:
        if request.operation not in self.SERVED:
            name = cluster_pb2.SelectClusterRequest.Operation.Name(request.operation)
            raise ConnectError(Code.UNIMPLEMENTED, f"the stand-in does not serve {name}")
        return cluster_pb2.SelectClusterResponse()  # no endpoint: the caller keeps this server


class _ImageService(ImageServiceSync):
    def __init__(self, standin: "Flyte2Standin"):
        self.standin = standin

    def get_image(self, request: image_payload_pb2.GetImageRequest, ctx) -> image_payload_pb2.GetImageResponse:
        self.standin._check_scope(request.organization, request.project_id.name, request.project_id.domain)
        fqin = self.standin.images.get(request.id.name)
        if fqin is None:
            raise ConnectError(Code.NOT_FOUND, f"image {request.id.name!r} not built")
        return image_payload_pb2.GetImageResponse(image=image_definition_pb2.Image(id=request.id, fqin=fqin))


class _TaskService(TaskServiceSync):
    def __init__(self, standin: "Flyte2Standin"):
        self.standin = standin

    def deploy_task(self, request: task_service_pb2.DeployTaskRequest, ctx) -> task_service_pb2.DeployTaskResponse:
        return self.standin.deploy_task(request)


class _DataProxyService(DataProxyServiceSync):
    def __init__(self, standin: "Flyte2Standin"):
        self.standin = standin

    def get_action_data(self, request: dataproxy_service_pb2.GetActionDataRequest, ctx):
        if request.action_id.name != ROOT_ACTION:
            raise ConnectError(
                Code.NOT_FOUND, f"action {request.action_id.name!r}: the stand-in records root actions only"
            )
        run = self.standin.find(request.action_id.run)
        response = dataproxy_service_pb2.GetActionDataResponse()
        response.inputs.CopyFrom(run.inputs)
        if run.outputs is not None:
            response.outputs.CopyFrom(run.outputs)
        return response


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # keep the test's stdout for its JSON line
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Flyte2Standin:
    """The Flyte 2 control plane's run and data APIs, in memory. Use as a context manager."""

    def __init__(self, blob_root: Path, project: str = "flytesnacks", domain: str = "development", org: str = ""):
        self.blob_root = Path(blob_root)
        self.project, self.domain, self.org = project, domain, org
        self.runs: dict[str, RecordedRun] = {}
        self.calls: list[str] = []  # the RPC paths served, in order
        self.images: dict[str, str] = {}  # image name:tag -> fully qualified name, as built before
        self.tasks: dict[tuple[str, str], task_service_pb2.DeployTaskRequest] = {}  # (name, version) -> deployed
        self._apps = {
            app.path: app
            for app in (RunServiceWSGIApplication(_RunService(self)), ClusterServiceWSGIApplication(_ClusterService()),
                        DataProxyServiceWSGIApplication(_DataProxyService(self)),
                        ImageServiceWSGIApplication(_ImageService(self)), TaskServiceWSGIApplication(_TaskService(self)))
        }  # fmt: skip
        self._server: WSGIServer | None = None

    # Serving

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        self.calls.append(path)
        app = self._apps.get(path.rsplit("/", 1)[0])
        if app is None:
            body = b'{"code":"unimplemented","message":"the Flyte 2 stand-in does not serve %s"}' % path.encode()
            start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        # wsgiref hands over the raw socket: bound the body by Content-Length, as a production server
        # does, so the Connect application's draining of it ends (a keep-alive connection has no EOF)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length))
        return app(environ, start_response)

    def start(self) -> "Flyte2Standin":
        self._server = make_server("127.0.0.1", 0, self, server_class=_ThreadingServer, handler_class=_QuietHandler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "Flyte2Standin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start the stand-in first"
        return f"http://localhost:{self._server.server_port}"  # no org in the host: the SDK derives none

    def init(self) -> None:
        """Point the SDK at this stand-in, in its project and domain."""
        flyte.init(endpoint=self.endpoint, insecure=True, project=self.project, domain=self.domain)

    # Recording real executions

    def run(self, task, *, name: str, version: str, created_at: datetime.datetime, **inputs) -> RecordedRun:
        """Run `task` in the SDK's local mode with `inputs` and record it as run `name` of task
        version `version`: succeeded with its outputs, or failed with the error it raised."""
        if name in self.runs:
            raise ValueError(f"run {name!r} is already recorded")
        try:
            outputs = flyte.with_runcontext(mode="local").run(task, **inputs).outputs()
        except Exception as error:  # the task's failure is the run's: recorded, not raised
            outputs, failure = None, f"{type(error).__name__}: {error}"
        else:
            failure = ""
        interface = task.native_interface
        inputs_pb, outputs_pb = asyncio.run(self._literals(interface, inputs, outputs))
        run = RecordedRun(
            name=name, task_name=task.name, task_version=version,
            phase=phase_pb2.ACTION_PHASE_FAILED if failure else phase_pb2.ACTION_PHASE_SUCCEEDED,
            created_at=created_at, updated_at=created_at, interface=transform_native_to_typed_interface(interface),
            inputs=inputs_pb, outputs=outputs_pb, error=failure,
        )  # fmt: skip
        self.runs[name] = run
        return run

    async def _literals(self, interface, inputs: dict, outputs) -> tuple[common_pb2.Inputs, common_pb2.Outputs | None]:
        """The SDK's own conversion of a run's inputs and outputs, blobs under `blob_root`."""
        self.blob_root.mkdir(parents=True, exist_ok=True)
        with internal_ctx().new_raw_data_path(
            raw_data_path=RawDataPath.from_local_folder(local_folder=str(self.blob_root))
        ):
            inputs_pb = (await convert.convert_from_native_to_inputs(interface, **inputs)).proto_inputs
            if outputs is None:
                return inputs_pb, None
            return inputs_pb, (await convert.convert_from_native_to_outputs(outputs, interface)).proto_outputs

    # Deployments

    def deploy_task(self, request: task_service_pb2.DeployTaskRequest) -> task_service_pb2.DeployTaskResponse:
        task_id = request.task_id
        self._check_scope(task_id.org, task_id.project, task_id.domain)
        if not task_id.name or not task_id.version:
            raise _invalid("a task is deployed with a name and a version")
        key = (task_id.name, task_id.version)
        if key in self.tasks:
            raise ConnectError(Code.ALREADY_EXISTS, f"task {task_id.name} version {task_id.version} exists")
        self.tasks[key] = request
        return task_service_pb2.DeployTaskResponse()

    # Answers

    def find(self, run_id: identifier_pb2.RunIdentifier) -> RecordedRun:
        self._check_scope(run_id.org, run_id.project, run_id.domain)
        if run_id.name not in self.runs:
            raise ConnectError(Code.NOT_FOUND, f"run {run_id.name!r} not found in {run_id.project}/{run_id.domain}")
        return self.runs[run_id.name]

    def _check_scope(self, org: str, project: str, domain: str) -> None:
        if not project or not domain:
            raise _invalid("project and domain are required")
        if (org, project, domain) != (self.org, self.project, self.domain):
            raise ConnectError(Code.NOT_FOUND, f"no project {org}/{project}/{domain} in the stand-in")

    def _action(self, run: RecordedRun) -> dict[str, Any]:
        status = run_definition_pb2.ActionStatus(phase=run.phase, start_time=_ts(run.created_at),
                                                 end_time=_ts(run.updated_at), attempts=1)  # fmt: skip
        task_id = task_definition_pb2.TaskIdentifier(org=self.org, project=self.project, domain=self.domain,
                                                     name=run.task_name, version=run.task_version)  # fmt: skip
        return {
            "id": identifier_pb2.ActionIdentifier(
                run=identifier_pb2.RunIdentifier(org=self.org, project=self.project, domain=self.domain, name=run.name),
                name=ROOT_ACTION,
            ),
            "metadata": run_definition_pb2.ActionMetadata(
                task=run_definition_pb2.TaskActionMetadata(id=task_id, short_name=run.task_name.rsplit(".", 1)[-1])
            ),
            "status": status,
        }

    def run_message(self, run: RecordedRun) -> run_definition_pb2.Run:
        return run_definition_pb2.Run(action=run_definition_pb2.Action(**self._action(run)))

    def details_message(self, run: RecordedRun) -> run_definition_pb2.RunDetails:
        action = run_definition_pb2.ActionDetails(
            **self._action(run),
            task=task_definition_pb2.TaskSpec(task_template=tasks_pb2.TaskTemplate(interface=run.interface)),
        )
        if run.error:
            action.error_info.message = run.error
            action.error_info.kind = run_definition_pb2.ErrorInfo.KIND_USER
        return run_definition_pb2.RunDetails(action=action)

    def list_runs(self, request: run_service_pb2.ListRunsRequest) -> run_service_pb2.ListRunsResponse:
        for scope in ("trigger_name", "task_name", "task_id"):
            if request.HasField(scope):
                raise _invalid(f"the stand-in does not list runs by {scope}")
        self._check_scope(request.project_id.organization, request.project_id.name, request.project_id.domain)
        page = request.request
        if page.raw_filters or page.sort_by_fields:
            raise _invalid("the stand-in understands ListRequest.filters and sort_by only")
        if page.limit <= 0:
            raise _invalid("limit must be greater than 0")
        runs = [run for run in self.runs.values() if all(self._matches(run, f) for f in page.filters)]
        key = page.sort_by.key or "created_at"
        if key not in SORT_KEYS:
            raise _invalid(f"cannot sort runs by {key!r}")
        runs.sort(
            key=lambda run: (getattr(run, key), run.name), reverse=page.sort_by.direction == list_pb2.Sort.DESCENDING
        )
        offset = int(page.token or 0)
        chosen = runs[offset : offset + page.limit]
        more = offset + page.limit < len(runs)
        return run_service_pb2.ListRunsResponse(runs=[self.run_message(run) for run in chosen],
                                                token=str(offset + page.limit) if more else "")  # fmt: skip

    @staticmethod
    def _matches(run: RecordedRun, condition: list_pb2.Filter) -> bool:
        if condition.field not in FILTER_FIELDS:
            raise _invalid(f"the stand-in cannot filter runs on {condition.field!r}")
        value = run.column(condition.field)
        if condition.function == list_pb2.Filter.EQUAL:
            if len(condition.values) != 1:
                raise _invalid(f"EQUAL on {condition.field} takes one value, not {list(condition.values)}")
            return value == condition.values[0]
        if condition.function == list_pb2.Filter.VALUE_IN:
            return value in condition.values
        raise _invalid(f"the stand-in does not filter with {list_pb2.Filter.Function.Name(condition.function)}")
