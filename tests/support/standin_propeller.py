"""The flyteadmin stand-in's executor: runs one workflow execution the way a Flyte cluster would.

Run as ``python standin_propeller.py`` with the working directory set to the task image's code (the
generated project); it reads job directories from stdin, one a line, and prints
``STANDIN-DONE JOB_DIR`` when a job has ended. Each job's ``env.json`` holds the ``FLYTE_INTERNAL_EXECUTION_*``
variables a cluster sets for its pods. For each job it reads ``JOB_DIR/workflow.pb`` (a core WorkflowTemplate), ``JOB_DIR/tasks/*.pb`` (core TaskTemplates)
and ``JOB_DIR/inputs.pb`` (the execution's LiteralMap), then runs the task nodes in dependency order,
each through flytekit's own container entrypoint (``pyflyte-execute`` with the task template's
container arguments, in this process), so inputs and outputs are read and written by flytekit's
type engine under the blob prefix ``JOB_DIR/blob`` names. It writes ``JOB_DIR/outputs.pb`` or
``JOB_DIR/error.txt``.

Supported nodes: task nodes whose bindings are scalars, promises (no attribute paths),
collections and maps. Anything else stops the run with an error naming the node (the generated
projects use nothing else).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from flyteidl.core import literals_pb2, tasks_pb2, workflow_pb2

START_NODE = "start-node"
END_NODE = "end-node"
GLOBAL_INPUTS = ""  # flytekit names the workflow's inputs node "" (flyteadmin's compiler: start-node)


class Unsupported(Exception):
    pass


def _binding_literal(data: literals_pb2.BindingData, outputs: dict[str, literals_pb2.LiteralMap]) -> literals_pb2.Literal:
    kind = data.WhichOneof("value")
    if kind == "scalar":
        return literals_pb2.Literal(scalar=data.scalar)
    if kind == "promise":
        if len(data.promise.attr_path):
            raise Unsupported(f"promise with an attribute path on node {data.promise.node_id}")
        return outputs[data.promise.node_id].literals[data.promise.var]
    if kind == "collection":
        return literals_pb2.Literal(
            collection=literals_pb2.LiteralCollection(
                literals=[_binding_literal(item, outputs) for item in data.collection.bindings]
            )
        )
    if kind == "map":
        return literals_pb2.Literal(
            map=literals_pb2.LiteralMap(
                literals={key: _binding_literal(value, outputs) for key, value in data.map.bindings.items()}
            )
        )
    raise Unsupported(f"binding of kind {kind!r}")


def _dependencies(node: workflow_pb2.Node) -> set[str]:
    found = set(node.upstream_node_ids)

    def visit(data):
        kind = data.WhichOneof("value")
        if kind == "promise":
            found.add(data.promise.node_id)
        elif kind == "collection":
            for item in data.collection.bindings:
                visit(item)
        elif kind == "map":
            for value in data.map.bindings.values():
                visit(value)

    for binding in node.inputs:
        visit(binding.binding)
    found -= {START_NODE, GLOBAL_INPUTS}
    return found


def _order(nodes) -> list[workflow_pb2.Node]:
    pending = {node.id: node for node in nodes if node.id not in (START_NODE, END_NODE)}
    done: set[str] = set()
    ordered = []
    while pending:
        ready = sorted(nid for nid, node in pending.items() if _dependencies(node) <= done)
        if not ready:
            raise Unsupported(f"nodes {sorted(pending)} depend on each other or on missing nodes")
        for nid in ready:
            ordered.append(pending.pop(nid))
            done.add(nid)
    return ordered


def _container_args(task: tasks_pb2.TaskTemplate, prefix: Path, raw: str) -> list[str]:
    substitutions = {
        "{{.input}}": str(prefix / "inputs.pb"),
        "{{.Input}}": str(prefix / "inputs.pb"),
        "{{.outputPrefix}}": str(prefix),
        "{{.rawOutputDataPrefix}}": raw,
        "{{.checkpointOutputPrefix}}": str(prefix / "checkpoint"),
        "{{.prevCheckpointPrefix}}": "",
    }
    args = []
    for arg in task.container.args:
        for key, value in substitutions.items():
            arg = arg.replace(key, value)
        args.append(arg)
    return args


def run(job: Path) -> None:
    from flytekit.bin.entrypoint import execute_task_cmd

    template = workflow_pb2.WorkflowTemplate.FromString((job / "workflow.pb").read_bytes())
    tasks = {}
    for path in sorted((job / "tasks").glob("*.pb")):
        task = tasks_pb2.TaskTemplate.FromString(path.read_bytes())
        tasks[(task.id.name, task.id.version)] = task
    inputs = literals_pb2.LiteralMap.FromString((job / "inputs.pb").read_bytes())
    blob = Path(os.environ["STANDIN_BLOB_PREFIX"])

    outputs: dict[str, literals_pb2.LiteralMap] = {START_NODE: inputs, GLOBAL_INPUTS: inputs}
    nodes: list[dict] = []  # the node executions flytepropeller reports to flyteadmin, as they start and end

    def report(node_id: str, phase: str, error: str | None = None) -> None:
        found = next((n for n in nodes if n["node_id"] == node_id), None)
        if found is None:
            nodes.append(found := {"node_id": node_id})
        found.update(phase=phase, error=error)
        (job / "nodes.json").write_text(json.dumps(nodes))

    report(START_NODE, "SUCCEEDED")
    for node in _order(template.nodes):
        report(node.id, "RUNNING")
        if node.WhichOneof("target") != "task_node":
            raise Unsupported(f"node {node.id} is a {node.WhichOneof('target')}, not a task node")
        ref = node.task_node.reference_id
        task = tasks[(ref.name, ref.version)]
        node_inputs = literals_pb2.LiteralMap(
            literals={binding.var: _binding_literal(binding.binding, outputs) for binding in node.inputs}
        )
        prefix = job / "metadata" / node.id / "data" / "0"  # the job directory is new for every run
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / "inputs.pb").write_bytes(node_inputs.SerializeToString())
        raw = str(blob / "raw" / f"{job.name}-{node.id}-0")
        os.environ.update(
            {
                "FLYTE_INTERNAL_TASK_PROJECT": ref.project,
                "FLYTE_INTERNAL_TASK_DOMAIN": ref.domain,
                "FLYTE_INTERNAL_TASK_NAME": ref.name,
                "FLYTE_INTERNAL_TASK_VERSION": ref.version,
            }
        )
        for env in task.container.env:
            os.environ[env.key] = env.value
        args = _container_args(task, prefix, raw)
        if not args or args[0] != "pyflyte-execute":
            raise Unsupported(f"task {ref.name} does not run with pyflyte-execute: {args[:1]}")
        execute_task_cmd.main(args[1:], prog_name="pyflyte-execute", standalone_mode=False)
        errors = sorted(prefix.glob("error*.pb"))
        if errors:
            from flyteidl.core import errors_pb2

            document = errors_pb2.ErrorDocument.FromString(errors[0].read_bytes())
            report(node.id, "FAILED", document.error.message)
            raise TaskFailed(f"task {ref.name} (node {node.id}) failed: {document.error.message}")
        outputs[node.id] = literals_pb2.LiteralMap.FromString((prefix / "outputs.pb").read_bytes())
        report(node.id, "SUCCEEDED")

    final = literals_pb2.LiteralMap(
        literals={binding.var: _binding_literal(binding.binding, outputs) for binding in template.outputs}
    )
    (job / "outputs.pb").write_bytes(final.SerializeToString())
    report(END_NODE, "SUCCEEDED")


class TaskFailed(Exception):
    pass


def main() -> None:
    sys.path.insert(0, os.getcwd())  # the image's code, as PYTHONPATH=/root in the generated Dockerfile
    for line in sys.stdin:  # job directories, one a line, run one after the other like pods of one image
        job = Path(line.strip())
        os.environ.update(json.loads((job / "env.json").read_text()))
        try:
            run(job)
        except (Unsupported, TaskFailed) as error:
            (job / "error.txt").write_text(str(error))
        except Exception as error:  # the run failed; the stand-in records it as the execution's error
            import traceback

            (job / "error.txt").write_text(f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
        print(f"\nSTANDIN-DONE {job}", flush=True)


if __name__ == "__main__":
    main()
