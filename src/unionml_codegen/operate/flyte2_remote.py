"""The part of the flyte2 operate commands that runs in the flyte 2.x SDK's interpreter.

`operate/flyte2.py` runs this file by its path with that interpreter (never imported by unionml-codegen,
which runs beside flytekit; this file imports nothing of unionml-codegen but its neighbours `flyte2_sdk.py`,
`flyte2_remote_runs.py` and `unionml_saver.py`, loaded by their paths): a request as one JSON object on
stdin, the answer as one JSON line on stdout, `{"result": ...}` or `{"error": {...}}`. Whatever the SDK
prints goes to stderr. This file holds the operations on deployments and triggers; flyte2_remote_runs.py
those on runs.

Every call to the control plane is the SDK's own: `flyte.init_from_config` (the config file, project and
domain the command was given), `flyte.deploy` of the project's environment, `flyte.remote.TriggerDetails`
and `Trigger.update`, `flyte.remote.Run` (its details, inputs and outputs), and, for the runs a trigger
started (which `Run.listall` does not filter by), the SDK client's `run_service.list_runs` scoped by the
trigger's name.
"""

from __future__ import annotations

import os
import sys

# run as a script, this file's directory is first on sys.path: its neighbours (project.py, remote.py, ...) must
# not stand in for modules of the same names the SDK or the project imports
HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.realpath(entry or os.curdir) != HERE]

import dataclasses  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402


def _load(name: str, file: str):
    """A neighbour of this file, by its path, under a name no other module has."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


sdk = _load("unionml_flyte2_sdk", "flyte2_sdk.py")
run_operations = _load("unionml_flyte2_runs", "flyte2_remote_runs.py")


# deploy

#: The annotation deploy puts on every trigger it deploys (the package's name; Kubernetes annotations of the runs
#: the trigger starts): prune-schedules switches off only triggers whose copy on the control plane carries it.
MARK = "unionml-codegen/package"


def deploy(request: dict) -> dict:
    """`flyte.deploy` of the drivers' environment (it brings the work environment) at `version`, each trigger
    active as `active` names it; then each trigger read back and switched where it is not (a task of this
    version deployed before keeps the triggers it had: the SDK skips ALREADY_EXISTS)."""
    import flyte
    from flyte.remote import Trigger, TriggerDetails

    tasks = sdk.tasks_module(request)
    wanted = set(request["active"])
    mark = {MARK: request["package"]}
    for env in sdk.environments(tasks):
        for task in env.tasks.values():
            if task.triggers:
                task.triggers = tuple(
                    dataclasses.replace(
                        t, auto_activate=t.name in wanted, annotations={**(t.annotations or {}), **mark}
                    )
                    for t in task.triggers
                )
    sdk.init(request)
    deployments = flyte.deploy(tasks.env, version=request["version"])
    deployed = sorted(entity.deployed_task.task_template.id.name for deployment in deployments
                      for env in deployment.envs.values() for entity in env.deployed_entities)  # fmt: skip
    triggers = []
    for name, task_name in request["triggers"]:
        details = TriggerDetails.get(name=name, task_name=task_name)
        active = name in wanted
        if details.is_active != active:
            Trigger.update(name, task_name, active)
            details = TriggerDetails.get(name=name, task_name=task_name)
        triggers.append({"name": name, "task": task_name, "active": details.is_active,
                         "version": details.pb2.spec.task_version})  # fmt: skip
    return {"tasks": deployed, "triggers": triggers}


# activate-schedules / deactivate-schedules


def switch(request: dict) -> dict:
    """Switch each (trigger, task) to `active`, in order; stops at the first that cannot be switched, returning
    what was switched before it and the error."""
    from flyte.remote import Trigger, TriggerDetails

    sdk.init(request)
    done = []
    for name, task_name in request["targets"]:
        try:
            details = TriggerDetails.get(name=name, task_name=task_name)
            version = details.pb2.spec.task_version
            if request.get("version") and request["version"] != version:
                raise sdk.Refused("version", f"trigger {name} runs version {version}, not {request['version']}",
                              name=name, deployed=version)  # fmt: skip
            before = details.is_active
            if before != request["active"]:
                Trigger.update(name, task_name, request["active"])
                details = TriggerDetails.get(name=name, task_name=task_name)
        except Exception as exc:
            found = sdk.error_of(exc, name)
            if sdk.absent(exc):
                found = {**found, "kind": "absent"}
            return {"switched": done, "error": found}
        done.append({"name": name, "was_active": before, "active": details.is_active, "version": version})
    return {"switched": done, "error": None}


# prune-schedules


def stale(request: dict) -> dict:
    """The ACTIVE triggers deploy deployed for this package (MARK on the control plane's copy, on a task of the
    package's environments, `prefixes`) that are not among its schedules now (`current`)."""
    from flyte.remote import Trigger, TriggerDetails

    sdk.init(request)
    found = []
    for trigger in Trigger.listall():
        if not trigger.task_name.startswith(tuple(request["prefixes"])) or not trigger.is_active:
            continue
        if trigger.name in request["current"]:
            continue
        details = TriggerDetails.get(name=trigger.name, task_name=trigger.task_name)
        if dict(details.pb2.spec.run_spec.annotations.values).get(MARK) != request["package"]:
            continue
        found.append({"name": trigger.name, "task": trigger.task_name, "version": details.pb2.spec.task_version})
    return {"stale": sorted(found, key=lambda t: (t["name"], t["task"]))}


# the protocol

OPERATIONS = {
    "deploy": deploy,
    "switch": switch,
    "stale": stale,
    "runs": run_operations.runs,
    "states": run_operations.states,
    "model_versions": run_operations.model_versions,
    "fetch": run_operations.fetch,
    "run_local": run_operations.run_local,
}


def main() -> None:
    request = json.load(sys.stdin)
    answer_to = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # what the SDK prints goes to stderr: stdout carries the answer only
    sys.stdout = sys.stderr
    sys.dont_write_bytecode = True  # leave no __pycache__ in the generated project
    try:
        import flyte  # noqa: F401
    except ImportError as exc:
        answer_to.write(json.dumps({"error": {"kind": "sdk", "message": f"{type(exc).__name__}: {exc}"}}) + "\n")
        return
    try:
        answer = {"result": OPERATIONS[request["op"]](request)}
    except Exception as exc:
        answer = {"error": sdk.error_of(exc)}
    answer_to.write(json.dumps(answer, default=str) + "\n")
    answer_to.flush()


if __name__ == "__main__":
    main()
