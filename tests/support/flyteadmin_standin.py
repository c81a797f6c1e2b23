"""A stand-in for flyteadmin, served over a real gRPC channel, for tests of cluster-facing code.

There is no Flyte cluster on the test machines and flyteadmin cannot be built here, so this is a
STAND-IN: flyteidl's generated ``AdminService`` servicer on grpcio, insecure, on 127.0.0.1 with a
free port, its state in memory. flytekit's real client (``pyflyte register``, ``FlyteRemote``) talks
to it exactly as to flyteadmin. What it reproduces, from the flyteadmin source at tag v1.16.8 of
flyteorg/flyte (read for facts, nothing copied):

* Registration (``CreateTask`` / ``CreateWorkflow`` / ``CreateLaunchPlan``): an identical entity
  again is ALREADY_EXISTS, a different one under the same identifier INVALID_ARGUMENT, "identical"
  meaning the same digest of the compiled entity (util/digests.go: the docstring is not in it); a
  workflow or launch plan is checked, then inserted with nothing held between, so a racing create of
  the same identifier gets ALREADY_EXISTS whatever its spec (``serialize_registration`` turns that
  off, ``registration_gap`` forces it); a launch plan
  must name a registered workflow and pass flyteadmin's launch-plan rules
  (launch_plan_validator.go, checked by ``flyte_package.flyteadmin_problems``, first problem wins);
  new launch plans are INACTIVE.
* ``UpdateLaunchPlan``: activating a version reads one ACTIVE version of the name and later, with no
  lock between, sets it INACTIVE and the new one ACTIVE (launch_plan_manager.go enableLaunchPlan), so
  concurrent activations can leave two ACTIVE versions (``serialize_activation`` turns that off,
  ``activation_gap`` forces it); deactivating touches only that version.
* Faults: every call passes through ``faults`` (faults.py), which a test arms to fail, delay, hang
  or lose the reply of the Nth call.
* Lists (``ListTasks`` / ``ListWorkflows`` / ``ListLaunchPlans`` / ``ListActiveLaunchPlans`` /
  ``ListExecutions``): project and domain required, limit > 0, the filter grammar of
  pkg/manager/impl/util/filters.go (``func(field,value)`` joined by ``+``; ``eq ne gt gte lt lte
  contains not_like value_in value_not_in``; ``;`` separates repeated values; ``launch_plan.`` /
  ``workflow.`` / ``task.`` prefixes join those entities where flyteadmin allows it; unknown columns,
  entities and functions are INVALID_ARGUMENT), ``sort_by`` on a column, no order without one (no
  default ORDER BY: rows shuffled per call, ``ordered_lists`` turns that off), and the offset token
  (a next token only when a page is full).
* ``CreateExecution``: inputs = launch plan fixed inputs + defaults + request inputs (a fixed input
  cannot be overridden, a required one must be given, an unknown one is refused), a random name
  unless one is given, ALREADY_EXISTS for a name in use; the execution is QUEUED. A launch plan's
  concurrency policy is applied first (checkLaunchPlanConcurrency: QUEUED or RUNNING executions of the
  name, any version; SKIP at `max` is ALREADY_EXISTS ``concurrency limit (N) reached ...``).
* ``UpdateExecution`` archives an execution; ``ListExecutions`` leaves archived ones out unless the
  filters name ``state`` (addStateFilter), and cuts error messages to 100 bytes (TrimErrorMessage;
  ``GetExecution`` gives them whole): ``list_archived_executions`` / ``full_list_errors`` turn that off.
* ``restart(down_for)``: a flyteadmin restart (connections cut, refused, then the same state served).
* The native scheduler (flyteadmin/scheduler/executor/executor_impl.go): ``fire(schedule, at)``
  creates the execution it would (name ``f`` + the first 19 hex digits of the UUID made from the
  FNV-64 hash of ``project:domain:name:version:unix``; the kickoff-time input only for cron
  schedules; ``metadata.mode = SCHEDULED`` and ``metadata.scheduled_at`` for all; only the ACTIVE
  version fires), then runs it.
* Running an execution stands in for propeller: ``standin_propeller.py`` runs the workflow's task
  nodes in a fresh interpreter, in the code directory registered for the task image with
  ``add_image``, each through flytekit's ``pyflyte-execute`` entrypoint with the task's container
  arguments and the ``FLYTE_INTERNAL_EXECUTION_*`` environment of a cluster plus
  ``FLYTE_PLATFORM_URL`` pointing here, so tasks that call flyteadmin reach this stand-in. Outputs
  are written by flytekit's type engine under a local ``file://`` blob prefix.

Not reproduced: authentication, projects' admin API, node/task execution events, signals,
data proxy uploads (register with ``--copy none``), sub-workflows, branches, dynamic and map tasks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent import futures
from pathlib import Path
from typing import Any, Callable, Iterable

import grpc
from flyteidl.admin import (
    common_pb2,
    execution_pb2,
    launch_plan_pb2,
    node_execution_pb2,
    schedule_pb2,
    task_pb2,
    workflow_pb2,
)
from flyteidl.core import compiler_pb2, execution_pb2 as core_execution_pb2, identifier_pb2, interface_pb2, literals_pb2
from flyteidl.service import admin_pb2_grpc
from google.protobuf import timestamp_pb2

from .faults import FaultInjector
from .flyte_package import flyteadmin_problems

__all__ = ["FlyteAdminStandin", "StandinError", "forget_package", "scheduled_execution_name"]

PROPELLER = Path(__file__).with_name("standin_propeller.py")
Key = tuple  # (project, domain, name, version)

# Column names of flyteadmin's tables (pkg/repositories/models, gorm's snake-case names).
_BASE = {"id", "created_at", "updated_at", "deleted_at"}
COLUMNS = {
    "execution": _BASE
    | {"execution_project", "execution_domain", "execution_name", "launch_plan_id", "workflow_id", "task_id",
       "phase", "closure", "spec", "started_at", "execution_created_at", "execution_updated_at", "duration",
       "abort_cause", "mode", "source_execution_id", "parent_node_execution_id", "cluster", "inputs_uri",
       "user_inputs_uri", "error_kind", "error_code", "user", "state", "launch_entity"},  # fmt: skip
    "launch_plan": _BASE
    | {"project", "domain", "name", "version", "spec", "workflow_id", "closure", "state", "digest",
       "schedule_type", "launch_condition_type"},  # fmt: skip
    "workflow": _BASE
    | {"project", "domain", "name", "version", "typed_interface", "remote_closure_identifier", "digest",
       "short_description"},  # fmt: skip
    "task": _BASE
    | {"project", "domain", "name", "version", "closure", "digest", "type", "short_description"},
    "node_execution": _BASE
    | {"execution_project", "execution_domain", "execution_name", "node_id", "phase", "input_uri", "closure",
       "started_at", "node_execution_created_at", "node_execution_updated_at", "duration", "node_execution_metadata",
       "parent_id", "parent_task_execution_id", "error_kind", "error_code", "cache_status",
       "dynamic_workflow_remote_closure_reference", "internal_data"},  # fmt: skip
}
# Which entities a list of each primary entity may filter on (util/filters.go allowedJoinEntities).
JOINS = {
    "execution": {"execution", "launch_plan", "workflow", "task"},
    "launch_plan": {"launch_plan", "workflow"},
    "workflow": {"workflow"},
    "task": {"task"},
    "node_execution": {"node_execution", "execution"},
}
_PREFIXES = {"task": "task", "workflow": "workflow", "launch_plan": "launch_plan", "execution": "execution"}
_FILTER = re.compile(r"(.+)\((.+),\s?(.+)\)")  # flyteadmin's filterRegex, searched like Go's FindStringSubmatch
_FUNCTIONS = {"contains", "not_like", "gt", "gte", "lt", "lte", "eq", "ne", "value_in", "value_not_in"}
_INT_COLUMNS = {"id", "state", "mode", "launch_plan_id", "workflow_id", "task_id", "source_execution_id",
                "parent_node_execution_id"}  # fmt: skip
_TIME_COLUMNS = {"created_at", "updated_at", "deleted_at", "started_at", "execution_created_at", "execution_updated_at",
                 "node_execution_created_at", "node_execution_updated_at"}  # fmt: skip


class StandinError(Exception):
    """A stand-in call that flyteadmin would answer with a gRPC error (or a misuse by a test)."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code


def _error(code: grpc.StatusCode, message: str) -> StandinError:
    return StandinError(code, message)


def _ts(moment: datetime.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(datetime.timezone.utc).replace(tzinfo=None))
    return stamp


def _key(ident) -> Key:
    return (ident.project, ident.domain, ident.name, ident.version)


def _fnv64(data: bytes) -> int:
    """Go's hash/fnv New64 (FNV-1, not FNV-1a)."""
    value = 0xCBF29CE484222325
    for byte in data:
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        value ^= byte
    return value


def scheduled_execution_name(project: str, domain: str, name: str, version: str, at: datetime.datetime) -> str:
    """The execution name flyteadmin's native scheduler gives a kickoff (scheduler/identifier)."""
    digest = _fnv64(f"{project}:{domain}:{name}:{version}:{int(at.timestamp())}".encode())
    raw = digest.to_bytes(8, "little") + bytes(8)
    return "f" + str(uuid.UUID(bytes=raw)).replace("-", "")[:19]


def forget_package(package: str) -> None:
    """Forget a generated package a test imported in this process (a cluster command run in-process imports it):
    its modules, and the tasks, workflows and launch plans flytekit recorded process-wide when they were declared
    (FlyteEntities, which `deploy` registers from, and LaunchPlan's name cache), so that a later test loading
    another copy of the package registers that copy only."""
    from flytekit.core.context_manager import FlyteEntities
    from flytekit.core.launch_plan import LaunchPlan

    def ours(entity) -> bool:
        workflow = getattr(entity, "workflow", None)
        name = getattr(workflow, "name", None) or getattr(entity, "name", "")
        return name == package or name.startswith(package + ".")

    FlyteEntities.entities[:] = [entity for entity in FlyteEntities.entities if not ours(entity)]
    for name in [name for name, plan in LaunchPlan.CACHE.items() if ours(plan)]:
        del LaunchPlan.CACHE[name]
    for name in [name for name in sys.modules if name == package or name.startswith(package + ".")]:
        del sys.modules[name]


@dataclasses.dataclass
class _Row:
    id: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


@dataclasses.dataclass
class _TaskRow(_Row):
    spec: task_pb2.TaskSpec
    digest: bytes = b""


@dataclasses.dataclass
class _WorkflowRow(_Row):
    spec: workflow_pb2.WorkflowSpec
    digest: bytes = b""


@dataclasses.dataclass
class _LaunchPlanRow(_Row):
    ident: identifier_pb2.Identifier
    spec: launch_plan_pb2.LaunchPlanSpec
    state: int  # launch_plan_pb2.INACTIVE / ACTIVE
    digest: bytes = b""


@dataclasses.dataclass
class _ExecutionRow(_Row):
    ident: identifier_pb2.WorkflowExecutionIdentifier
    spec: execution_pb2.ExecutionSpec
    launch_plan: Key
    workflow: Key
    inputs: literals_pb2.LiteralMap
    user_inputs: literals_pb2.LiteralMap
    phase: int = core_execution_pb2.WorkflowExecution.QUEUED
    started_at: datetime.datetime | None = None
    duration: datetime.timedelta = datetime.timedelta(0)
    outputs: literals_pb2.LiteralMap | None = None
    outputs_uri: str = ""
    inputs_uri: str = ""
    error: str | None = None
    state: int = execution_pb2.EXECUTION_ACTIVE  # EXECUTION_ARCHIVED once UpdateExecution archived it
    nodes: list["_NodeRow"] = dataclasses.field(default_factory=list)  # the top-level node executions


@dataclasses.dataclass
class _NodeRow(_Row):
    """A node execution as flytepropeller reports it (standin_propeller.py's nodes.json): phase and error."""

    ident: identifier_pb2.NodeExecutionIdentifier
    phase: int  # core_execution_pb2.NodeExecution.Phase
    error: str | None = None


class FlyteAdminStandin:
    """In-memory flyteadmin state plus the gRPC server that serves it. Use as a context manager."""

    def __init__(self, blob_root: Path, projects: Iterable[str] = ("flytesnacks",),
                 domains: Iterable[str] = ("development", "staging", "production")):  # fmt: skip
        self.blob_root = Path(blob_root)
        self.blob_root.mkdir(parents=True, exist_ok=True)
        self.projects = set(projects)
        self.domains = set(domains)
        self.images: dict[str, Path] = {}
        self.tasks: dict[Key, _TaskRow] = {}
        self.workflows: dict[Key, _WorkflowRow] = {}
        self.launch_plans: dict[Key, _LaunchPlanRow] = {}
        self.executions: dict[tuple[str, str, str], _ExecutionRow] = {}
        self.runs: list[subprocess.CompletedProcess] = []  # the propeller runs, for debugging failed tests
        self._lock = threading.RLock()
        self._ids = 0
        self._last = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
        self._server: grpc.Server | None = None
        self.port: int | None = None
        self.faults = FaultInjector()  # every call passes through it; a test arms faults (faults.py)
        # Activation as flyteadmin does it: read the ACTIVE version (Limit 1), write later, nothing held
        # between. `serialize_activation = True` holds one lock over the read and the write (a kinder server);
        # `activation_gap`, when set, is called between the read and the write (a test forces a race with it).
        self.serialize_activation = False
        self.activation_gap: Callable[[Key], None] | None = None
        self._activation_lock = threading.Lock()
        # Registration as flyteadmin does it: check, then insert later (see create_workflow).
        self.serialize_registration = False
        self.registration_gap: Callable[[tuple], None] | None = None
        self._registration_lock = threading.Lock()
        # Lists without sort_by come back in no particular order, as from flyteadmin (see list_rows).
        self.ordered_lists = False
        self._unsorted_lists = 0
        # Executions as flyteadmin lists them (execution_manager.go ListExecutions, transformers/execution.go):
        # archived ones left out unless the filters name `state`, error messages cut to 100 bytes.
        # `list_archived_executions` / `full_list_errors = True` turn that off (a kinder server).
        self.list_archived_executions = False
        self.full_list_errors = False

    # ----------------------------------------------------------------------------------------------
    # Serving

    def start(self, port: int = 0) -> "FlyteAdminStandin":
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), interceptors=[self.faults])
        admin_pb2_grpc.add_AdminServiceServicer_to_server(_Servicer(self), self._server)
        self.port = self._server.add_insecure_port(f"127.0.0.1:{port}")
        self._server.start()
        return self

    def restart(self, down_for: float) -> threading.Thread:
        """A flyteadmin restart: stop serving now (calls in flight are cut, new connections refused) and serve the
        same state on the same port again `down_for` seconds later, from a background thread (returned)."""
        port = self.port
        self.stop()

        def back() -> None:
            time.sleep(down_for)
            self.start(port)

        thread = threading.Thread(target=back, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        if self._server is not None:
            self.faults.release()  # calls held by a `hang` fault end
            self._server.stop(grace=None).wait()
            self._server = None

    def __enter__(self) -> "FlyteAdminStandin":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def write_config(self, path: Path) -> Path:
        """A flytekit/flytectl config file pointing at the stand-in, as a user would write one."""
        path = Path(path)
        path.write_text(f"admin:\n  endpoint: dns:///{self.endpoint}\n  insecure: true\n")
        return path

    def env(self) -> dict[str, str]:
        """flytekit's environment configuration for the stand-in (what a cluster sets in pods)."""
        return {"FLYTE_PLATFORM_URL": self.endpoint, "FLYTE_PLATFORM_INSECURE": "True"}

    def add_image(self, image: str, code_dir: Path) -> None:
        """Tasks whose container image is ``image`` run with ``code_dir`` as their code (the image's /root)."""
        self.images[image] = Path(code_dir).resolve()

    # ----------------------------------------------------------------------------------------------
    # Inspection helpers for tests (no gRPC)

    def launch_plan_states(
        self, project: str = "flytesnacks", domain: str = "development"
    ) -> dict[tuple[str, str], str]:
        """{(name, version): "ACTIVE" | "INACTIVE"} of every launch plan in project/domain."""
        with self._lock:
            return {
                (key[2], key[3]): launch_plan_pb2.LaunchPlanState.Name(row.state)
                for key, row in self.launch_plans.items()
                if key[:2] == (project, domain)
            }

    def active(self, project: str = "flytesnacks", domain: str = "development") -> dict[str, str]:
        """{launch plan name: its ACTIVE version}."""
        return {name: version for (name, version), state in self.launch_plan_states(project, domain).items()
                if state == "ACTIVE"}  # fmt: skip

    def execution(self, name: str, project: str = "flytesnacks", domain: str = "development") -> _ExecutionRow:
        return self.executions[(project, domain, name)]

    # ----------------------------------------------------------------------------------------------
    # The native scheduler and propeller

    def fire(self, schedule: str, at: datetime.datetime, *, project: str = "flytesnacks",
             domain: str = "development", run: bool = True) -> str:  # fmt: skip
        """Create the execution flyteadmin's native scheduler creates for ``schedule`` at kickoff ``at``
        (over gRPC, as the scheduler does), then run it. Returns the execution name."""
        if at.tzinfo is None:
            raise ValueError("a kickoff time must be timezone-aware")
        with self._lock:
            versions = [key for key, row in self.launch_plans.items()
                        if key[:3] == (project, domain, schedule) and row.state == launch_plan_pb2.ACTIVE]  # fmt: skip
            if not versions:
                raise StandinError(grpc.StatusCode.FAILED_PRECONDITION,
                                   f"schedule {schedule!r} has no ACTIVE version in {project}/{domain}: "
                                   "the native scheduler does not fire it")  # fmt: skip
            [key] = versions
            row = self.launch_plans[key]
        schedule_spec = row.spec.entity_metadata.schedule
        which = schedule_spec.WhichOneof("ScheduleExpression")
        if which is None:
            raise StandinError(grpc.StatusCode.FAILED_PRECONDITION, f"launch plan {schedule!r} has no schedule")
        inputs = literals_pb2.LiteralMap()
        if which in ("cron_schedule", "cron_expression") and schedule_spec.kickoff_time_input_arg:
            inputs.literals[schedule_spec.kickoff_time_input_arg].scalar.primitive.datetime.CopyFrom(_ts(at))
        request = execution_pb2.ExecutionCreateRequest(
            project=project,
            domain=domain,
            name=scheduled_execution_name(*key, at),
            spec=execution_pb2.ExecutionSpec(
                launch_plan=identifier_pb2.Identifier(resource_type=identifier_pb2.LAUNCH_PLAN, project=key[0],
                                                      domain=key[1], name=key[2], version=key[3]),  # fmt: skip
                metadata=execution_pb2.ExecutionMetadata(mode=execution_pb2.ExecutionMetadata.SCHEDULED,
                                                         scheduled_at=_ts(at)),  # fmt: skip
            ),
            inputs=inputs,
        )
        with grpc.insecure_channel(self.endpoint) as channel:
            admin_pb2_grpc.AdminServiceStub(channel).CreateExecution(request)
        if run:
            self.run_execution(request.name, project=project, domain=domain)
        return request.name

    def run_queued(self) -> list[str]:
        """Run every QUEUED execution, oldest first, in one propeller process. Returns their names."""
        with self._lock:
            queued = sorted((row for row in self.executions.values()
                             if row.phase == core_execution_pb2.WorkflowExecution.QUEUED), key=lambda r: r.id)  # fmt: skip
        self._run([(row.ident.project, row.ident.domain, row.ident.name) for row in queued])
        return [row.ident.name for row in queued]

    def run_execution(self, name: str, *, project: str = "flytesnacks", domain: str = "development") -> _ExecutionRow:
        """Run a QUEUED execution as propeller would (see standin_propeller.py) and record its result."""
        self._run([(project, domain, name)])
        return self.executions[(project, domain, name)]

    def run_executions(self, *names: str, project: str = "flytesnacks", domain: str = "development") -> None:
        """Run QUEUED executions, in the order given, in one propeller process (cheaper than one each)."""
        self._run([(project, domain, name) for name in names])

    def _run(self, keys: list[tuple[str, str, str]]) -> None:
        jobs: dict[Path, list[tuple[_ExecutionRow, Path]]] = {}
        for key in keys:
            with self._lock:
                row = self.executions[key]
                if row.phase != core_execution_pb2.WorkflowExecution.QUEUED:
                    raise ValueError(f"execution {key} is not QUEUED")
                workflow = self.workflows[row.workflow].spec
                tasks = self._workflow_tasks(workflow.template)
            images = {task.spec.template.container.image for task in tasks}
            code_dirs = {self.images.get(image) for image in images}
            if None in code_dirs or len(code_dirs) != 1:
                self._finish(row, None, f"no code for task image(s) {sorted(images)}: call add_image first")
                continue
            job = Path(tempfile.mkdtemp(prefix=f"standin-{row.ident.name}-", dir=self.blob_root))
            (job / "tasks").mkdir()
            (job / "workflow.pb").write_bytes(workflow.template.SerializeToString())
            for index, task in enumerate(tasks):
                (job / "tasks" / f"{index}.pb").write_bytes(task.spec.template.SerializeToString())
            (job / "inputs.pb").write_bytes(row.inputs.SerializeToString())
            lp, wf = row.launch_plan, row.workflow
            env = {
                "FLYTE_INTERNAL_EXECUTION_PROJECT": row.ident.project,
                "FLYTE_INTERNAL_EXECUTION_DOMAIN": row.ident.domain,
                "FLYTE_INTERNAL_EXECUTION_ID": row.ident.name,
                "FLYTE_INTERNAL_EXECUTION_WORKFLOW": f"{wf[0]}:{wf[1]}:{wf[2]}",
                "FLYTE_INTERNAL_EXECUTION_LAUNCHPLAN": f"{lp[0]}:{lp[1]}:{lp[2]}",
            }
            (job / "env.json").write_text(json.dumps(env))
            jobs.setdefault(next(iter(code_dirs)), []).append((row, job))
        for code_dir, batch in jobs.items():
            env = {
                **os.environ,
                **self.env(),
                "PYTHONPATH": str(code_dir),
                "PYTHONDONTWRITEBYTECODE": "1",
                "STANDIN_BLOB_PREFIX": str(self.blob_root),
            }
            env.pop("FLYTECTL_CONFIG", None)  # a pod is configured by FLYTE_PLATFORM_URL
            self._propel(code_dir, env, batch)

    def _propel(self, code_dir: Path, env: dict[str, str], batch: list[tuple[_ExecutionRow, Path]]) -> None:
        """One propeller process for the batch; each execution is recorded as soon as it ends, so a later one
        sees it in flyteadmin (a prediction of the "latest" model after a training run)."""
        with tempfile.TemporaryFile("w+") as stderr:
            process = subprocess.Popen([sys.executable, str(PROPELLER)], cwd=code_dir, env=env, text=True,
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr)  # fmt: skip
            stdout: list[str] = []
            try:
                for row, job in batch:
                    with self._lock:
                        row.phase = core_execution_pb2.WorkflowExecution.RUNNING
                        row.started_at = row.updated_at = self._now()
                    process.stdin.write(f"{job}\n")
                    process.stdin.flush()
                    for line in process.stdout:
                        if line.strip() == f"STANDIN-DONE {job}":
                            break
                        stdout.append(line)
                    self._record(row, job, process)
                process.stdin.close()
                process.wait(timeout=600)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
                stderr.seek(0)
                self.runs.append(
                    subprocess.CompletedProcess(process.args, process.returncode, "".join(stdout), stderr.read())
                )

    def _record(self, row: _ExecutionRow, job: Path, process) -> None:
        self._record_nodes(row, job)
        if (job / "outputs.pb").is_file():
            outputs = literals_pb2.LiteralMap.FromString((job / "outputs.pb").read_bytes())
            self._finish(row, outputs, None, uri=(job / "outputs.pb").as_uri())
        elif (job / "error.txt").is_file():
            self._finish(row, None, (job / "error.txt").read_text())
        else:
            self._finish(row, None, f"the propeller process ended (exit {process.poll()}) before finishing the run")

    def _record_nodes(self, row: _ExecutionRow, job: Path) -> None:
        """The run's node executions; a node still RUNNING when the run ended failed with the run."""
        reported = json.loads((job / "nodes.json").read_text()) if (job / "nodes.json").is_file() else []
        phases = core_execution_pb2.NodeExecution
        with self._lock:
            for node in reported:
                ident = identifier_pb2.NodeExecutionIdentifier(node_id=node["node_id"], execution_id=row.ident)
                phase = phases.Phase.Value(node["phase"])
                if phase == phases.RUNNING:
                    phase = phases.FAILED
                row.nodes.append(_NodeRow(id=self._next_id(), created_at=row.started_at or self._now(),
                                          updated_at=self._now(), ident=ident, phase=phase, error=node["error"]))  # fmt: skip

    def node_execution_message(self, node: _NodeRow) -> node_execution_pb2.NodeExecution:
        closure = node_execution_pb2.NodeExecutionClosure(phase=node.phase, created_at=_ts(node.created_at),
                                                          updated_at=_ts(node.updated_at))  # fmt: skip
        closure.started_at.CopyFrom(_ts(node.created_at))
        if node.error is not None:
            closure.error.code = "USER:Standin"
            closure.error.message = node.error
            closure.error.kind = core_execution_pb2.ExecutionError.USER
        return node_execution_pb2.NodeExecution(id=node.ident, closure=closure)

    def _finish(self, row: _ExecutionRow, outputs, error: str | None, uri: str = "") -> _ExecutionRow:
        with self._lock:
            now = self._now()
            row.duration = now - (row.started_at or now)
            row.updated_at = now
            row.outputs, row.outputs_uri, row.error = outputs, uri, error
            row.phase = (core_execution_pb2.WorkflowExecution.SUCCEEDED if error is None
                         else core_execution_pb2.WorkflowExecution.FAILED)  # fmt: skip
        return row

    def _workflow_tasks(self, template) -> list[_TaskRow]:
        found = []
        for node in template.nodes:
            if node.WhichOneof("target") == "task_node":
                found.append(self.tasks[_key(node.task_node.reference_id)])
        return found

    # ----------------------------------------------------------------------------------------------
    # State

    def _now(self) -> datetime.datetime:
        """The stand-in's clock: wall time, strictly increasing so that created_at orders rows."""
        now = datetime.datetime.now(datetime.timezone.utc)
        if now <= self._last:
            now = self._last + datetime.timedelta(microseconds=1)
        self._last = now
        return now

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _check_namespace(self, project: str, domain: str) -> None:
        if project not in self.projects or domain not in self.domains:
            raise _error(grpc.StatusCode.INVALID_ARGUMENT,
                         f"failed to validate that project [{project}] and domain [{domain}] are registered")  # fmt: skip

    def _check_identifier(self, ident, kind: str) -> None:
        for field in ("project", "domain", "name", "version"):
            if not getattr(ident, field):
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"missing {field}")
        self._check_namespace(ident.project, ident.domain)

    # Registration as flyteadmin v1.16.8 does it (task_manager.go, workflow_manager.go, launch_plan_manager.go,
    # util/digests.go). "Identical" means the same digest of the compiled entity: the task template, the compiled
    # workflow closure (primary template and its tasks), the launch plan (id, spec, expected outputs); the
    # description (the docstring) is stored apart and is not in the digest, so a docstring-only change under the
    # same version is ALREADY_EXISTS, not a conflict. A task is inserted first and compared on a unique-key clash;
    # a workflow or launch plan is looked up, compared, and inserted later with nothing held between: a racing
    # create of the same id gets the database's ALREADY_EXISTS whatever its spec. `serialize_registration = True`
    # holds one lock over the check and the insert (a kinder server); `registration_gap`, when set, is called
    # between them (a test forces a race with it).

    @staticmethod
    def _digest(message) -> bytes:
        return hashlib.sha256(message.SerializeToString(deterministic=True)).digest()

    def task_digest(self, template) -> bytes:
        return self._digest(compiler_pb2.CompiledTask(template=template))

    def workflow_digest(self, template) -> bytes:
        return self._digest(self._compiled_workflow(template))

    def launch_plan_digest(self, ident, spec) -> bytes:
        workflow = self.workflows[_key(spec.workflow_id)].spec.template
        closure = launch_plan_pb2.LaunchPlanClosure(expected_outputs=workflow.interface.outputs)
        return self._digest(launch_plan_pb2.LaunchPlan(id=ident, spec=spec, closure=closure))

    @staticmethod
    def _unique_violation(kind: str, key: Key) -> StandinError:
        return _error(grpc.StatusCode.ALREADY_EXISTS,
                      f"value with matching already exists (duplicate key value violates unique constraint "
                      f"\"{kind}_pkey\" {key})")  # fmt: skip

    def _registering(self):
        return self._registration_lock if self.serialize_registration else contextlib.nullcontext()

    def create_task(self, request: task_pb2.TaskCreateRequest) -> None:
        self._check_identifier(request.id, "task")
        spec = task_pb2.TaskSpec()
        spec.CopyFrom(request.spec)
        spec.template.id.CopyFrom(request.id)  # setDefaults
        digest = self.task_digest(spec.template)
        with self._lock:
            key = _key(request.id)
            existing = self.tasks.get(key)
            if existing is not None:  # the insert's unique-key clash, then the digests compared
                if existing.digest == digest:
                    raise _error(grpc.StatusCode.ALREADY_EXISTS, "task with identical structure already exists")
                raise _error(grpc.StatusCode.INVALID_ARGUMENT,
                             f"{key[2]} task with different structure already exists. "
                             "(Please register a new version of the task):")  # fmt: skip
            now = self._now()
            self.tasks[key] = _TaskRow(self._next_id(), now, now, spec, digest)

    def create_workflow(self, request: workflow_pb2.WorkflowCreateRequest) -> None:
        self._check_identifier(request.id, "workflow")
        key = _key(request.id)
        spec = workflow_pb2.WorkflowSpec()
        spec.CopyFrom(request.spec)
        spec.template.id.CopyFrom(request.id)  # setDefaults
        with self._registering():
            with self._lock:
                for node in request.spec.template.nodes:
                    if node.WhichOneof("target") == "task_node":
                        ref = node.task_node.reference_id
                        if _key(ref) not in self.tasks:
                            raise _error(grpc.StatusCode.INVALID_ARGUMENT,
                                         f"failed to compile workflow: task {ref.name} version {ref.version} is not registered")  # fmt: skip
                digest = self.workflow_digest(spec.template)
                existing = self.workflows.get(key)
                if existing is not None:
                    if existing.digest == digest:
                        raise _error(grpc.StatusCode.ALREADY_EXISTS, "workflow with identical structure already exists")
                    raise _error(grpc.StatusCode.INVALID_ARGUMENT,
                                 f"{key[2]} workflow with different structure already exists. "
                                 "(Please register a new version of the workflow):")  # fmt: skip
            if self.registration_gap is not None:
                self.registration_gap(("workflow",) + key)
            with self._lock:  # WorkflowRepo().Create: the primary key decides
                if key in self.workflows:
                    raise self._unique_violation("workflows", key)
                now = self._now()
                self.workflows[key] = _WorkflowRow(self._next_id(), now, now, spec, digest)

    def create_launch_plan(self, request: launch_plan_pb2.LaunchPlanCreateRequest) -> None:
        self._check_identifier(request.id, "launch plan")
        key = _key(request.id)
        spec = launch_plan_pb2.LaunchPlanSpec()
        spec.CopyFrom(request.spec)
        ident = identifier_pb2.Identifier()
        ident.CopyFrom(request.id)
        ident.resource_type = identifier_pb2.LAUNCH_PLAN
        with self._registering():
            with self._lock:
                wf_key = _key(request.spec.workflow_id)
                workflow = self.workflows.get(wf_key)
                if workflow is None:
                    raise _error(grpc.StatusCode.NOT_FOUND, f"missing entity of type WORKFLOW with identifier {wf_key}")
                plan = launch_plan_pb2.LaunchPlan(id=request.id, spec=request.spec)
                problems = flyteadmin_problems(
                    plan, {request.spec.workflow_id.name: workflow.spec}, registration_only=True
                )
                if problems:
                    raise _error(grpc.StatusCode.INVALID_ARGUMENT, problems[0])
                digest = self.launch_plan_digest(ident, spec)
                existing = self.launch_plans.get(key)
                if existing is not None:
                    if existing.digest == digest:
                        raise _error(
                            grpc.StatusCode.ALREADY_EXISTS, "launch plan with identical structure already exists"
                        )
                    raise _error(grpc.StatusCode.INVALID_ARGUMENT,
                                 f"{key[2]} launch plan with different structure already exists. "
                                 "(Please register a new version of the launch plan):")  # fmt: skip
            if self.registration_gap is not None:
                self.registration_gap(("launch_plan",) + key)
            with self._lock:  # LaunchPlanRepo().Create: the primary key decides
                if key in self.launch_plans:
                    raise self._unique_violation("launch_plans", key)
                now = self._now()
                self.launch_plans[key] = _LaunchPlanRow(self._next_id(), now, now, ident, spec,
                                                        launch_plan_pb2.INACTIVE, digest)  # fmt: skip

    def update_launch_plan(self, request: launch_plan_pb2.LaunchPlanUpdateRequest) -> None:
        """flyteadmin's UpdateLaunchPlan (launch_plan_manager.go enableLaunchPlan/disableLaunchPlan, v1.16.8):
        activating reads ONE ACTIVE version of the name (a List with Limit 1 and no ORDER BY: possibly the
        version being activated itself), then in a later transaction sets that one INACTIVE and the requested
        one ACTIVE. Nothing locks the name between the read and the write, so two activations at once can leave
        two ACTIVE versions, and a later activation then deactivates only one of them."""
        if request.state != launch_plan_pb2.ACTIVE:
            with self._lock:
                row = self._launch_plan_row(request.id)
                row.state, row.updated_at = request.state, self._now()
            return
        if self.serialize_activation:
            with self._activation_lock:
                self._activate(request)
        else:
            self._activate(request)

    def _launch_plan_row(self, ident) -> _LaunchPlanRow:
        key = _key(ident)
        row = self.launch_plans.get(key)
        if row is None:
            raise _error(grpc.StatusCode.NOT_FOUND, f"missing entity of type LAUNCH_PLAN with identifier {key}")
        return row

    def _activate(self, request: launch_plan_pb2.LaunchPlanUpdateRequest) -> None:
        key = _key(request.id)
        with self._lock:
            row = self._launch_plan_row(request.id)
            formerly = next((other for other_key, other in self.launch_plans.items()
                             if other_key[:3] == key[:3] and other.state == launch_plan_pb2.ACTIVE), None)  # fmt: skip
        if self.activation_gap is not None:
            self.activation_gap(key)
        with self._lock:  # SetActive: one transaction, with what was read before
            now = self._now()
            if formerly is not None:
                formerly.state, formerly.updated_at = launch_plan_pb2.INACTIVE, now
            row.state, row.updated_at = launch_plan_pb2.ACTIVE, now

    def create_execution(
        self, request: execution_pb2.ExecutionCreateRequest
    ) -> identifier_pb2.WorkflowExecutionIdentifier:
        self._check_namespace(request.project, request.domain)
        lp_id = request.spec.launch_plan
        if lp_id.resource_type != identifier_pb2.LAUNCH_PLAN:
            raise _error(grpc.StatusCode.INVALID_ARGUMENT, "the stand-in runs launch plans only")
        with self._lock:
            plan = self.launch_plans.get(_key(lp_id))
            if plan is None:
                raise _error(
                    grpc.StatusCode.NOT_FOUND, f"missing entity of type LAUNCH_PLAN with identifier {_key(lp_id)}"
                )
            workflow = self.workflows[_key(plan.spec.workflow_id)]
            inputs = self._execution_inputs(plan, workflow, request.inputs)
            self._check_concurrency(request.project, request.domain, plan)
            name = request.name or ("a" + uuid.uuid4().hex[:19])
            ident = identifier_pb2.WorkflowExecutionIdentifier(
                project=request.project, domain=request.domain, name=name
            )
            if (request.project, request.domain, name) in self.executions:
                raise _error(grpc.StatusCode.ALREADY_EXISTS, f"execution {name} already exists")
            spec = execution_pb2.ExecutionSpec()
            spec.CopyFrom(request.spec)
            if not spec.HasField("metadata"):
                spec.metadata.mode = execution_pb2.ExecutionMetadata.MANUAL
            now = self._now()
            self.executions[(request.project, request.domain, name)] = _ExecutionRow(
                self._next_id(), now, now, ident, spec, _key(lp_id), _key(plan.spec.workflow_id), inputs,
                request.inputs,
            )  # fmt: skip
            return ident

    def _check_concurrency(self, project: str, domain: str, plan: _LaunchPlanRow) -> None:
        """flyteadmin's checkLaunchPlanConcurrency (v1.16.8), before the execution is created: with a concurrency
        policy, the QUEUED or RUNNING executions of every version of the launch plan's name in the project and
        domain are counted, and at `max` or more a SKIP policy is ALREADY_EXISTS (the name of the execution is
        not in use: reading it back is NOT_FOUND), an unspecified behavior lets it through."""
        if not plan.spec.HasField("concurrency_policy"):
            return
        policy = plan.spec.concurrency_policy
        active = (core_execution_pb2.WorkflowExecution.QUEUED, core_execution_pb2.WorkflowExecution.RUNNING)
        count = sum(1 for key, row in self.executions.items()
                    if key[:2] == (project, domain) and row.launch_plan[2] == plan.ident.name and row.phase in active)  # fmt: skip
        if count < policy.max:
            return
        if policy.behavior == launch_plan_pb2.CONCURRENCY_LIMIT_BEHAVIOR_SKIP:
            raise _error(grpc.StatusCode.ALREADY_EXISTS, f"concurrency limit ({policy.max}) reached for launch plan "
                                                         f"{plan.ident.name}; skipping execution")  # fmt: skip
        if policy.behavior != launch_plan_pb2.CONCURRENCY_LIMIT_BEHAVIOR_UNSPECIFIED:
            raise _error(grpc.StatusCode.UNKNOWN, f"unsupported concurrency-limit behavior: {policy.behavior}")

    def update_execution(self, request: execution_pb2.ExecutionUpdateRequest) -> None:
        """UpdateExecution: archive (EXECUTION_ARCHIVED) or restore an execution."""
        key = (request.id.project, request.id.domain, request.id.name)
        with self._lock:
            row = self.executions.get(key)
            if row is None:
                raise _error(grpc.StatusCode.NOT_FOUND, f"missing entity of type execution with identifier {key}")
            row.state, row.updated_at = request.state, self._now()

    def _execution_inputs(self, plan: _LaunchPlanRow, workflow: _WorkflowRow,
                          given: literals_pb2.LiteralMap) -> literals_pb2.LiteralMap:  # fmt: skip
        variables = workflow.spec.template.interface.inputs.variables
        fixed = plan.spec.fixed_inputs.literals
        defaults = plan.spec.default_inputs.parameters
        inputs = literals_pb2.LiteralMap()
        for name in given.literals:
            if name in fixed:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"fixed inputs cannot be specified: {name}")
            if name not in defaults and name not in variables:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"invalid input {name}")
        for name in variables:
            if name in given.literals:
                inputs.literals[name].CopyFrom(given.literals[name])
            elif name in fixed:
                inputs.literals[name].CopyFrom(fixed[name])
            elif name in defaults and defaults[name].HasField("default"):
                inputs.literals[name].CopyFrom(defaults[name].default)
            else:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"invalid input {name}: a required input was not given")
        return inputs

    # ----------------------------------------------------------------------------------------------
    # Rendering rows as flyteadmin's messages

    def task_message(self, row: _TaskRow) -> task_pb2.Task:
        closure = task_pb2.TaskClosure(created_at=_ts(row.created_at))
        closure.compiled_task.template.CopyFrom(row.spec.template)
        return task_pb2.Task(
            id=row.spec.template.id, closure=closure, short_description=row.spec.description.short_description
        )

    def _compiled_workflow(self, template) -> compiler_pb2.CompiledWorkflowClosure:
        compiled = compiler_pb2.CompiledWorkflowClosure()
        compiled.primary.template.CopyFrom(template)
        for node in template.nodes:
            for upstream in node.upstream_node_ids:
                compiled.primary.connections.downstream[upstream].ids.append(node.id)
                compiled.primary.connections.upstream[node.id].ids.append(upstream)
        for task in self._workflow_tasks(template):
            compiled.tasks.add().template.CopyFrom(task.spec.template)
        return compiled

    def workflow_message(self, row: _WorkflowRow) -> workflow_pb2.Workflow:
        compiled = self._compiled_workflow(row.spec.template)
        closure = workflow_pb2.WorkflowClosure(compiled_workflow=compiled, created_at=_ts(row.created_at))
        return workflow_pb2.Workflow(id=row.spec.template.id, closure=closure,
                                     short_description=row.spec.description.short_description)  # fmt: skip

    def launch_plan_message(self, row: _LaunchPlanRow) -> launch_plan_pb2.LaunchPlan:
        workflow = self.workflows[_key(row.spec.workflow_id)].spec.template
        expected = interface_pb2.ParameterMap()
        for name, var in workflow.interface.inputs.variables.items():
            if name in row.spec.fixed_inputs.literals:
                continue
            if name in row.spec.default_inputs.parameters:
                expected.parameters[name].CopyFrom(row.spec.default_inputs.parameters[name])
            else:
                expected.parameters[name].var.CopyFrom(var)
                expected.parameters[name].required = True
        closure = launch_plan_pb2.LaunchPlanClosure(
            state=row.state, expected_inputs=expected, expected_outputs=workflow.interface.outputs,
            created_at=_ts(row.created_at), updated_at=_ts(row.updated_at),
        )  # fmt: skip
        return launch_plan_pb2.LaunchPlan(id=row.ident, spec=row.spec, closure=closure)

    def execution_message(self, row: _ExecutionRow, *, listed: bool = False) -> execution_pb2.Execution:
        """The Execution flyteadmin returns for a row; `listed`: as ListExecutions returns it, its error message
        trimmed to its first 100 bytes (transformers.TrimErrorMessage; GetExecution gives it whole)."""
        closure = execution_pb2.ExecutionClosure(
            phase=row.phase, created_at=_ts(row.created_at), updated_at=_ts(row.updated_at),
            workflow_id=identifier_pb2.Identifier(resource_type=identifier_pb2.WORKFLOW, project=row.workflow[0],
                                                  domain=row.workflow[1], name=row.workflow[2], version=row.workflow[3]),
        )  # fmt: skip
        if row.started_at is not None:
            closure.started_at.CopyFrom(_ts(row.started_at))
            closure.duration.FromTimedelta(row.duration)
        if row.error is not None:
            closure.error.code = "USER:Standin"
            closure.error.message = row.error if not listed or self.full_list_errors else trim_error_message(row.error)
            closure.error.kind = core_execution_pb2.ExecutionError.USER
        elif row.outputs_uri:
            closure.outputs.uri = row.outputs_uri
        return execution_pb2.Execution(id=row.ident, spec=row.spec, closure=closure)

    # ----------------------------------------------------------------------------------------------
    # Lists: flyteadmin's filters, sorting and pagination

    def _column(self, entity: str, row: Any, field: str) -> Any:
        """The value of column ``field`` of ``entity`` for ``row`` (of that entity)."""
        if entity == "execution":
            values = {
                "id": row.id, "created_at": row.created_at, "updated_at": row.updated_at,
                "execution_project": row.ident.project, "execution_domain": row.ident.domain,
                "execution_name": row.ident.name, "phase": core_execution_pb2.WorkflowExecution.Phase.Name(row.phase),
                "started_at": row.started_at, "execution_created_at": row.created_at,
                "execution_updated_at": row.updated_at, "duration": row.duration, "mode": row.spec.metadata.mode,
                "state": row.state, "launch_plan_id": self.launch_plans[row.launch_plan].id,
                "workflow_id": self.workflows[row.workflow].id, "task_id": 0, "user": row.spec.metadata.principal,
                "error_kind": "USER" if row.error is not None else None,
            }  # fmt: skip
        elif entity == "node_execution":
            values = {
                "id": row.id, "created_at": row.created_at, "updated_at": row.updated_at,
                "execution_project": row.ident.execution_id.project, "execution_domain": row.ident.execution_id.domain,
                "execution_name": row.ident.execution_id.name, "node_id": row.ident.node_id,
                "phase": core_execution_pb2.NodeExecution.Phase.Name(row.phase), "started_at": row.created_at,
                "node_execution_created_at": row.created_at, "node_execution_updated_at": row.updated_at,
                "error_kind": "USER" if row.error is not None else None,
            }  # fmt: skip
        elif entity == "launch_plan":
            which = row.spec.entity_metadata.schedule.WhichOneof("ScheduleExpression")
            values = {
                "id": row.id, "created_at": row.created_at, "updated_at": row.updated_at, "project": row.ident.project,
                "domain": row.ident.domain, "name": row.ident.name, "version": row.ident.version, "state": row.state,
                "workflow_id": self.workflows[_key(row.spec.workflow_id)].id,
                "schedule_type": {"rate": "RATE", None: "NONE"}.get(which, "CRON"),
            }  # fmt: skip
        else:  # workflow, task
            ident = row.spec.template.id
            values = {"id": row.id, "created_at": row.created_at, "updated_at": row.updated_at,
                      "project": ident.project, "domain": ident.domain, "name": ident.name, "version": ident.version}  # fmt: skip
            if entity == "task":
                values["type"] = row.spec.template.type
        return values.get(field)

    def _joined(self, primary: str, row: Any, entity: str) -> Any:
        if entity == primary:
            return row
        if primary == "execution":
            if entity == "launch_plan":
                return self.launch_plans[row.launch_plan]
            if entity == "workflow":
                return self.workflows[row.workflow]
            return None  # executions of tasks: not run by the stand-in
        if primary == "node_execution" and entity == "execution":
            ident = row.ident.execution_id
            return self.executions.get((ident.project, ident.domain, ident.name))
        if primary == "launch_plan" and entity == "workflow":
            return self.workflows[_key(row.spec.workflow_id)]
        return None

    def _parse_filters(self, text: str, primary: str) -> list[Callable[[Any], bool]]:
        if not text:
            return []
        parsed = []
        for expression in text.split("+"):
            match = _FILTER.search(expression)
            if match is None:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, "invalid value for filters")
            function, field, value = match.group(1), match.group(2), match.group(3)
            entity = primary
            for prefix, name in _PREFIXES.items():
                if field.startswith(prefix + "."):
                    entity, field = name, field[len(prefix) + 1 :]
                    break
            if entity not in JOINS[primary]:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"'{entity}' entity is not allowed in filters")
            if field not in COLUMNS[entity]:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"'{entity}.{field}' is invalid filter")
            if function not in _FUNCTIONS:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"unrecognized filter function: {function}")
            values = [self._prepare(field, item) for item in value.split(";")]
            repeated = function in ("value_in", "value_not_in")
            if not repeated and len(values) != 1:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"invalid single value filter expression: {function}")
            parsed.append(self._predicate(primary, entity, field, function, values))
        return parsed

    @staticmethod
    def _prepare(field: str, value: str) -> Any:
        try:
            if field in _INT_COLUMNS:
                return int(value)
            if field in _TIME_COLUMNS:
                moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
                return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)
            if field == "duration":
                return datetime.timedelta(seconds=float(value.rstrip("s")))
        except ValueError:
            raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"invalid value {value!r} for {field}") from None
        return value

    def _predicate(self, primary, entity, field, function, values) -> Callable[[Any], bool]:
        def test(row) -> bool:
            joined = self._joined(primary, row, entity)
            actual = None if joined is None else self._column(entity, joined, field)
            if actual is None:
                return False  # SQL: a comparison with NULL is not true
            if function == "value_in":
                return actual in values
            if function == "value_not_in":
                return actual not in values
            [value] = values
            if function == "contains":
                return str(value) in str(actual)
            if function == "not_like":
                return str(actual) != str(value)
            return {
                "eq": actual == value, "ne": actual != value, "gt": actual > value, "gte": actual >= value,
                "lt": actual < value, "lte": actual <= value,
            }[function]  # fmt: skip

        return test

    def list_rows(self, primary: str, rows: Iterable[Any], *, limit: int, token: str, filters: str,
                  sort_by: common_pb2.Sort | None) -> tuple[list[Any], str]:  # fmt: skip
        if limit <= 0:
            raise _error(grpc.StatusCode.INVALID_ARGUMENT, "invalid value for limit")
        try:
            offset = int(token) if token else 0
        except ValueError:
            raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"invalid pagination token {token}") from None
        if offset < 0:
            raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid token value: {token}")
        predicates = self._parse_filters(filters, primary)
        selected = [row for row in rows if all(test(row) for test in predicates)]
        # flyteadmin has no default ORDER BY: without sort_by the database returns rows in whatever order it likes,
        # so offset pages may repeat and skip rows. The stand-in shuffles them differently on every call
        # (deterministically: the Nth unsorted list of a run is always the same), so a caller that pages without a
        # sort sees it; `ordered_lists = True` restores the kinder order by id.
        selected.sort(key=lambda row: row.id)
        if not self.ordered_lists and not (sort_by is not None and sort_by.key):
            with self._lock:
                self._unsorted_lists += 1
                shuffle = random.Random(self._unsorted_lists)
            shuffle.shuffle(selected)
        if sort_by is not None and sort_by.key:
            if sort_by.key not in COLUMNS[primary]:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, f"invalid sort key '{sort_by.key}'")
            low = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
            selected.sort(
                key=lambda row: (self._column(primary, row, sort_by.key) is not None,
                                 self._column(primary, row, sort_by.key) or low),
                reverse=sort_by.direction == common_pb2.Sort.DESCENDING,
            )  # fmt: skip
        page = selected[offset : offset + limit]
        return page, (str(offset + len(page)) if len(page) == limit else "")


def trim_error_message(message: str) -> str:
    """flyteadmin's TrimErrorMessage: the first 100 bytes, an incomplete UTF-8 character at the end dropped."""
    return message.encode()[:100].decode("utf-8", "ignore")


def _filters_on(filters: str, field: str) -> bool:
    """Whether flyteadmin's filter text names `field` (of the primary entity, with or without its prefix)."""
    for expression in filters.split("+") if filters else ():
        match = _FILTER.search(expression)
        if match is not None and match.group(2).split(".")[-1] == field:
            return True
    return False


def _namespace_rows(rows: dict, project: str, domain: str, name: str = "") -> list:
    return [row for key, row in rows.items() if key[:2] == (project, domain) and (not name or key[2] == name)]


class _Servicer(admin_pb2_grpc.AdminServiceServicer):
    """flyteidl's AdminService over the stand-in's state; methods not defined here are UNIMPLEMENTED."""

    def __init__(self, standin: FlyteAdminStandin):
        self.s = standin

    def _call(self, context, fn, *args):
        try:
            return fn(*args)
        except StandinError as error:
            context.abort(error.code, str(error))

    @staticmethod
    def _list_request(request) -> None:
        if not request.id.project or not request.id.domain:
            raise _error(grpc.StatusCode.INVALID_ARGUMENT, "missing project or domain")

    def _list(self, context, request, primary: str, table: dict):
        def go():
            self._list_request(request)
            with self.s._lock:
                rows = _namespace_rows(table, request.id.project, request.id.domain, request.id.name)
                return self.s.list_rows(primary, rows, limit=request.limit, token=request.token,
                                        filters=request.filters,
                                        sort_by=request.sort_by if request.HasField("sort_by") else None)  # fmt: skip

        return self._call(context, go)

    def _get(self, context, table: dict, ident, kind: str):
        def go():
            with self.s._lock:
                row = table.get(_key(ident))
                if row is None:
                    raise _error(
                        grpc.StatusCode.NOT_FOUND, f"missing entity of type {kind} with identifier {_key(ident)}"
                    )
                return row

        return self._call(context, go)

    # tasks
    def CreateTask(self, request, context):
        self._call(context, self.s.create_task, request)
        return task_pb2.TaskCreateResponse()

    def GetTask(self, request, context):
        return self.s.task_message(self._get(context, self.s.tasks, request.id, "TASK"))

    def ListTasks(self, request, context):
        rows, token = self._list(context, request, "task", self.s.tasks)
        return task_pb2.TaskList(tasks=[self.s.task_message(row) for row in rows], token=token)

    # workflows
    def CreateWorkflow(self, request, context):
        self._call(context, self.s.create_workflow, request)
        return workflow_pb2.WorkflowCreateResponse()

    def GetWorkflow(self, request, context):
        return self.s.workflow_message(self._get(context, self.s.workflows, request.id, "WORKFLOW"))

    def ListWorkflows(self, request, context):
        rows, token = self._list(context, request, "workflow", self.s.workflows)
        return workflow_pb2.WorkflowList(workflows=[self.s.workflow_message(row) for row in rows], token=token)

    # launch plans
    def CreateLaunchPlan(self, request, context):
        self._call(context, self.s.create_launch_plan, request)
        return launch_plan_pb2.LaunchPlanCreateResponse()

    def GetLaunchPlan(self, request, context):
        return self.s.launch_plan_message(self._get(context, self.s.launch_plans, request.id, "LAUNCH_PLAN"))

    def UpdateLaunchPlan(self, request, context):
        self._call(context, self.s.update_launch_plan, request)
        return launch_plan_pb2.LaunchPlanUpdateResponse()

    def ListLaunchPlans(self, request, context):
        rows, token = self._list(context, request, "launch_plan", self.s.launch_plans)
        return launch_plan_pb2.LaunchPlanList(launch_plans=[self.s.launch_plan_message(r) for r in rows], token=token)

    def ListActiveLaunchPlans(self, request, context):
        def go():
            if not request.project or not request.domain:
                raise _error(grpc.StatusCode.INVALID_ARGUMENT, "missing project or domain")
            with self.s._lock:
                rows = [row for row in _namespace_rows(self.s.launch_plans, request.project, request.domain)
                        if row.state == launch_plan_pb2.ACTIVE]  # fmt: skip
                return self.s.list_rows("launch_plan", rows, limit=request.limit, token=request.token, filters="",
                                        sort_by=request.sort_by if request.HasField("sort_by") else None)  # fmt: skip

        rows, token = self._call(context, go)
        return launch_plan_pb2.LaunchPlanList(launch_plans=[self.s.launch_plan_message(r) for r in rows], token=token)

    # executions
    def CreateExecution(self, request, context):
        ident = self._call(context, self.s.create_execution, request)
        return execution_pb2.ExecutionCreateResponse(id=ident)

    def GetExecution(self, request, context):
        key = (request.id.project, request.id.domain, request.id.name)

        def go():
            with self.s._lock:
                if key not in self.s.executions:
                    raise _error(grpc.StatusCode.NOT_FOUND, f"missing entity of type execution with identifier {key}")
                return self.s.execution_message(self.s.executions[key])

        return self._call(context, go)

    def UpdateExecution(self, request, context):
        self._call(context, self.s.update_execution, request)
        return execution_pb2.ExecutionUpdateResponse()

    def GetExecutionData(self, request, context):
        key = (request.id.project, request.id.domain, request.id.name)

        def go():
            with self.s._lock:
                row = self.s.executions.get(key)
                if row is None:
                    raise _error(grpc.StatusCode.NOT_FOUND, f"missing entity of type execution with identifier {key}")
                response = execution_pb2.WorkflowExecutionGetDataResponse(full_inputs=row.inputs)
                response.inputs.bytes = row.inputs.ByteSize()
                if row.outputs is not None:
                    response.full_outputs.CopyFrom(row.outputs)
                    response.outputs.url = row.outputs_uri
                    response.outputs.bytes = row.outputs.ByteSize()
                return response

        return self._call(context, go)

    def ListNodeExecutions(self, request, context):
        """The top-level node executions of an execution (a unique_parent_id names a parent node: the stand-in's
        workflows have no subworkflows, so none has children)."""
        ident = request.workflow_execution_id
        key = (ident.project, ident.domain, ident.name)

        def go():
            with self.s._lock:
                row = self.s.executions.get(key)
                if row is None:
                    raise _error(grpc.StatusCode.NOT_FOUND, f"missing entity of type execution with identifier {key}")
                nodes = [] if request.unique_parent_id else row.nodes
                return self.s.list_rows("node_execution", nodes, limit=request.limit, token=request.token,
                                        filters=request.filters,
                                        sort_by=request.sort_by if request.HasField("sort_by") else None)  # fmt: skip

        rows, token = self._call(context, go)
        return node_execution_pb2.NodeExecutionList(
            node_executions=[self.s.node_execution_message(node) for node in rows], token=token
        )

    def ListExecutions(self, request, context):
        if not self.s.list_archived_executions and not _filters_on(request.filters, "state"):
            listed = common_pb2.ResourceListRequest()
            listed.CopyFrom(request)  # flyteadmin's addStateFilter: only ACTIVE executions, unless asked
            listed.filters = "+".join(
                part for part in (request.filters, f"eq(state,{execution_pb2.EXECUTION_ACTIVE})") if part
            )
            request = listed
        rows, token = self._list(context, request, "execution", {k + ("",): v for k, v in self.s.executions.items()})
        return execution_pb2.ExecutionList(executions=[self.s.execution_message(r, listed=True) for r in rows],
                                           token=token)  # fmt: skip
