"""The operate commands on a flyte2 project: deploy, activate-/deactivate-/prune-schedules, list-scheduled-*-runs,
fetch-model and fetch-predictions (run and backfill: flyte2_local.py), through the flyte 2.x SDK in an interpreter of its own.

unionml-codegen runs beside flytekit, which cannot share an interpreter with the `flyte` SDK (the SDK pins
dependencies flytekit's cannot take). So each command runs `flyte2_remote.py` with the SDK's interpreter:
`UNIONML_FLYTE2_PYTHON`, else the interpreter of the `flyte` command on PATH. The request goes as JSON on
its stdin, the answer comes back as one JSON line; the SDK's own output is kept and shown only when the
driver fails. The commands print what they print for a flyte1 project (runs.py's tables and lines), with
Flyte 2's words where they differ: a schedule is a trigger on the task it runs, switched on or off (a
trigger has one state, not one per version).

Configuration is the SDK's: `--config FILE` (a flyte config.yaml), else the SDK's own search
(`FLYTECTL_CONFIG`, `~/.flyte/config.yaml`, ...); `--project`/`--domain` as for flyte1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from .. import codes
from .common import dump_json, fail, progress
from .project import OperateError, Project, Schedule, visible

DRIVER = Path(__file__).with_name("flyte2_remote.py")
TIMEOUT = 3600.0  # a deploy may build an image


def python() -> str:
    """The interpreter with the flyte 2.x SDK: UNIONML_FLYTE2_PYTHON, else the `flyte` command's."""
    configured = os.environ.get("UNIONML_FLYTE2_PYTHON")
    if configured:
        if not os.access(configured, os.X_OK):
            raise OperateError(f"UNIONML_FLYTE2_PYTHON={configured!r} is not an executable interpreter",
                               "point it at the python of the environment where `pip install flyte` ran",
                               codes.FLYTE2_SDK_MISSING)  # fmt: skip
        return configured
    command = shutil.which("flyte")
    if command is not None:
        with open(command, "rb") as handle:
            first = handle.readline().decode(errors="replace").strip()
        if first.startswith("#!") and os.access(first[2:].strip(), os.X_OK):
            return first[2:].strip()
    raise OperateError(
        "a flyte2 project is operated with the flyte 2.x SDK, and no interpreter with it is configured",
        "set UNIONML_FLYTE2_PYTHON to the python of an environment with `pip install 'flyte>=2.12'` and the "
        "project's requirements.txt (or put its `flyte` command on PATH)",
        codes.FLYTE2_SDK_MISSING,
    )


def where(generated: Project, project: str | None, domain: str | None) -> tuple[str, str]:
    """The project and domain a command goes to, chosen as for a flyte1 project (remote.namespace)."""
    from .remote import namespace

    chosen = namespace(generated, project, domain)
    return chosen.project, chosen.domain


def call(op: str, generated: Project, config: str | None, project: str, domain: str, **request: Any) -> Any:
    """Run `op` in the SDK's interpreter, in `project`/`domain` (as `where` chose them); its result, or an
    OperateError worded for the user."""
    payload = {"op": op, "config": os.path.abspath(config) if config else None, "project": project,
               "domain": domain, "directory": str(generated.directory.resolve()), "package": generated.package,
               **request}  # fmt: skip
    interpreter = python()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    # in the command's working directory: the SDK finds ./config.yaml there, as `flyte` does
    try:
        done = subprocess.run([interpreter, str(DRIVER)], input=json.dumps(payload), capture_output=True, text=True,
                              timeout=TIMEOUT, env=env)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperateError(f"the flyte SDK's interpreter {interpreter} did not answer: {exc}",
                           "check UNIONML_FLYTE2_PYTHON", codes.FLYTE2_DRIVER_FAILED) from None  # fmt: skip
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1])
    except (IndexError, ValueError):
        said = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise OperateError(
            f"the flyte SDK's interpreter {interpreter} exited {done.returncode} without an answer"
            + (f": {said[-1].strip()}" if said else ""),
            "check that it has `flyte>=2.12` and the project's requirements.txt installed",
            codes.FLYTE2_DRIVER_FAILED,
        ) from None
    if "error" in answer and answer["error"].get("kind") == "sdk":
        raise OperateError(f"{interpreter} has no flyte 2.x SDK ({visible(answer['error']['message'])})",
                           "point UNIONML_FLYTE2_PYTHON at the python of an environment with `pip install "
                           "'flyte>=2.12'` and the project's requirements.txt", codes.FLYTE2_SDK_MISSING)  # fmt: skip
    if "error" in answer:
        raise error(answer["error"], config)
    return answer["result"]


def error(found: dict, config: str | None) -> OperateError:
    """The driver's error as one line with its code."""
    message = visible(str(found.get("message") or "no details").strip().splitlines()[0][:300])
    kind = found.get("kind")
    if kind == "load":
        return OperateError(message, "install the project's requirements (requirements.txt) in the flyte SDK's "
                            "environment (UNIONML_FLYTE2_PYTHON)", codes.PROJECT_CANNOT_LOAD)  # fmt: skip
    if kind == "rpc":
        code = found.get("code")
        where = "the Flyte 2 control plane" + (f" configured in {config}" if config else "")
        if code == "NOT_FOUND":
            return OperateError(f"{where} has no such entity ({message})",
                                "check the name, and the --project/--domain it is in", codes.NOT_ON_CLUSTER)  # fmt: skip
        if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
            return OperateError(f"cannot reach {where} ({code}: {message})",
                                "check the endpoint of your flyte config (--config)", codes.CONTROL_PLANE_UNREACHABLE)  # fmt: skip
        return OperateError(f"{where} refused the call ({code}): {message}",
                            "rerun later; if it persists, the message above is the control plane's own",
                            codes.CONTROL_PLANE_REFUSED)  # fmt: skip
    if kind in ("usable", "phase"):
        return OperateError(message, "`unionml list-scheduled-training-runs OUT SCHEDULE` (or -prediction-) lists "
                            "the runs and their phases", codes.EXECUTION_NOT_USABLE)  # fmt: skip
    if kind == "absent":
        return OperateError(f"the Flyte 2 control plane has no such trigger ({message})",
                            "run `unionml deploy OUT --version V` first", codes.NOT_ON_CLUSTER)  # fmt: skip
    if kind == "save":
        return OperateError(message, "unionml saves scikit-learn, PyTorch and Keras models", codes.CANNOT_SAVE_MODEL)
    if kind == "version":
        return OperateError(message, "deploy that version to move the trigger to it (`unionml deploy OUT --version V`)",
                            codes.NOT_ON_CLUSTER)  # fmt: skip
    return OperateError(f"the flyte SDK failed: {message}", "rerun with the same command; the message is the SDK's",
                        codes.CONTROL_PLANE_REFUSED)  # fmt: skip


def _targets(schedules) -> list[list[str]]:
    return [[schedule.name, schedule.workflow] for schedule in schedules]


# deploy


def deploy(generated: Project, version: str, no_schedule: bool, as_json: bool, config, project, domain,
           image: str | None = None) -> None:  # fmt: skip
    """`flyte.deploy` of the project at VERSION, each trigger on as `activate_on_deploy` says (none with
    --no-schedule); prints what flyte1's deploy prints, in Flyte 2's words (with --json, one JSON object on
    stdout and the lines on stderr). --image is flyte1's: refused, not ignored."""
    if image:
        fail(OperateError("--image names a flyte1 task image; a flyte2 project's image is its environments' "
                          "flyte.Image (tasks.py), which the SDK builds or finds as `flyte deploy` does",
                          "leave out --image; set image.registry in the flyte config to push the image the SDK "
                          "builds", codes.INVALID_COMMAND_LINE))  # fmt: skip
    project, domain = where(generated, project, domain)
    wanted = [s.name for s in generated.schedules if s.activate_on_deploy and not no_schedule]
    left = [s.name for s in generated.schedules if s.name not in wanted]
    with progress(f"deploying {generated.package} {version}", 0,
                  f"deploying {generated.package} version {version} in {project}/{domain} with the flyte SDK: its "
                  f"environments and {len(generated.schedules)} triggers"):  # fmt: skip
        try:
            result = call("deploy", generated, config, project, domain, version=version, active=wanted,
                          triggers=_targets(generated.schedules))  # fmt: skip
        except OperateError as exc:
            fail(OperateError(f"{exc.message} (deploy of version {version}: no trigger was switched)",
                              f"{exc.hint}; rerun `unionml deploy` to finish it: what is deployed is kept", exc.code))  # fmt: skip
    click.echo(f"deployed {generated.package} version {version} in {project}/{domain}: {len(result['tasks'])} tasks, "
               f"{len(result['triggers'])} triggers", err=as_json)  # fmt: skip
    click.echo(visible(f"  tasks         {', '.join(result['tasks'])}"), err=as_json)
    moved = []
    for trigger in result["triggers"]:
        if trigger["version"] != version:
            moved.append(trigger["name"])
            click.echo(visible(f"{trigger['name']}: runs version {trigger['version']}, not {version}: the task of "
                               f"version {version} was deployed before without it; deploy a new version"), err=as_json)  # fmt: skip
        elif trigger["active"]:
            click.echo(visible(f"{trigger['name']}: ACTIVE at version {version}"), err=as_json)
    reason = ("--no-schedule" if no_schedule else "activate_on_deploy=False") if left else None
    if left:
        click.echo(f"not activated ({reason}): {', '.join(left)}", err=as_json)
    if as_json:
        dump_json({"package": generated.package, "version": version, "project": project, "domain": domain,
                   "deployed": {"tasks": result["tasks"], "triggers": [t["name"] for t in result["triggers"]]},
                   "schedules": [{"name": t["name"], "task": t["task"], "state": "ACTIVE" if t["active"] else "INACTIVE",
                                  "version": t["version"]} for t in result["triggers"]],
                   "not_activated": left, "not_activated_because": reason, "ok": not moved})  # fmt: skip
    if moved:
        sys.exit(1)


# activate-schedules / deactivate-schedules


def switch(generated: Project, schedules: tuple[Schedule, ...], active: bool, version: str | None, config,
           project: str, domain: str, shown: str, as_json: bool = False) -> None:  # fmt: skip
    """Switch each schedule's trigger on or off; each one's line as flyte1's (on stderr with --json), a count when
    several, and with --json flyte1's document (switch.switch_end)."""
    from .switch import switch_end

    verb = "activate" if active else "deactivate"
    project, domain = where(generated, project, domain)
    try:
        result = call("switch", generated, config, project, domain, targets=_targets(schedules), active=active,
                      version=version)  # fmt: skip
    except OperateError as exc:
        fail(exc)
    report = []
    for done in result["switched"]:
        state = "ACTIVE" if done["active"] else "INACTIVE"
        if done["was_active"] == active:
            line = f"{done['name']}: {state}" + (f" at version {done['version']}" if active else "") + " (already)"
        elif active:
            line = f"{done['name']}: ACTIVE at version {done['version']}"
        else:
            line = f"{done['name']}: INACTIVE (was active at version {done['version']})"
        report.append({"name": done["name"], "state": state, "version": done["version"],
                       "changed": done["was_active"] != active, "won": True, "message": line})  # fmt: skip
        click.echo(visible(line), err=as_json)
    if result["error"] is not None:
        exc = error(result["error"], config)
        if result["error"].get("kind") == "absent":
            name = result["error"]["subject"]
            exc = OperateError(f"schedule {name!r} is not deployed in {project}/{domain} (no trigger {name} on its "
                               "task)", "run `unionml deploy OUT --version V` first (or pass the --project/--domain "
                               "it was deployed to)", codes.NOT_ON_CLUSTER)  # fmt: skip
        done_names = [d["name"] for d in result["switched"]]
        todo = [s.name for s in schedules if s.name not in done_names]
        fail(OperateError(f"{exc.message} (switched: {', '.join(done_names) or 'none'}; not switched: "
                          f"{', '.join(todo)})", f"{exc.hint}; then rerun `{shown}`", exc.code))  # fmt: skip
    switch_end(verb, project, domain, report, ok=True, as_json=as_json)


# prune-schedules


def prune(generated: Project, dry_run: bool, config, project, domain, as_json: bool = False) -> None:
    """Switch off the triggers an earlier deploy of the package switched on that the project no longer has; a
    trigger deployed any other way (without deploy's mark) is left alone. Prints what flyte1's prune prints."""
    from .switch import prune_end, prune_line

    project, domain = where(generated, project, domain)
    environments = {task.split(".", 1)[0] for m in generated.models for task in (*m.training_workflows,
                                                                                 *m.prediction_workflows)}  # fmt: skip
    try:
        found = call("stale", generated, config, project, domain, prefixes=sorted(f"{e}." for e in environments),
                     current=[s.name for s in generated.schedules])["stale"]  # fmt: skip
    except OperateError as exc:
        fail(exc)
    result = {"error": None}
    if found and not dry_run:
        try:
            result = call("switch", generated, config, project, domain, active=False, version=None,
                          targets=[[t["name"], t["task"]] for t in found])  # fmt: skip
        except OperateError as exc:
            fail(exc)
        done = [d["name"] for d in result["switched"]]
    else:
        done = [t["name"] for t in found]
    for trigger in found:
        if trigger["name"] in done:
            prune_line(trigger["name"], trigger["version"], trigger["task"], dry_run, as_json)
    if result["error"] is not None:
        exc = error(result["error"], config)
        todo = [t["name"] for t in found if t["name"] not in done]
        fail(OperateError(f"{exc.message} (deactivated: {', '.join(done) or 'none'}; not deactivated: "
                          f"{', '.join(todo)})", "rerun `unionml prune-schedules` to finish it", exc.code))  # fmt: skip
    prune_end(generated.package, project, domain, [(t["name"], t["version"], t["task"]) for t in found], dry_run,
              as_json)  # fmt: skip


# list-scheduled-*-runs


def list_runs(generated: Project, schedule: Schedule, limit: int, config, project, domain, command: str):
    """The runs the schedule's trigger started, newest first, as runs.print_runs takes them."""
    import datetime as dt

    from .runs import one_line

    project, domain = where(generated, project, domain)
    result = call("runs", generated, config, project, domain, trigger=schedule.name, task=schedule.workflow,
                  limit=limit, kickoff_input=schedule.run_kickoff_input)  # fmt: skip

    def when(text):
        return dt.datetime.fromisoformat(text) if text else None

    runs = [{"execution": r["run"], "kickoff": when(r["kickoff"]), "phase": r["phase"],
             "duration": dt.timedelta(seconds=r["duration"]) if r["duration"] is not None else None,
             "version": r["version"], "started_by": "schedule" if r["started_by"] == "trigger" else "manual",
             "created_at": when(r["created_at"]), "error": one_line(r["error"]), "error_code": r["error_code"],
             "failed_node": r["failed_node"], "failed_task": r["failed_task"]} for r in result["runs"]]  # fmt: skip
    return runs, result["more"]


# list-model-versions


def model_versions(generated: Project, app_version: str | None, limit: int, config, project, domain):
    """The succeeded runs of the project's training tasks, newest first, as runs.print_model_versions takes them."""
    import datetime as dt

    kickoff = {s.workflow: s.run_kickoff_input for s in generated.schedules if s.kind == "training"}
    tasks = [[task, kickoff.get(task)] for m in generated.models for task in m.training_workflows]
    try:
        found = call("model_versions", generated, config, project, domain, tasks=tasks, limit=limit,
                     app_version=app_version or None)  # fmt: skip
    except OperateError as exc:
        fail(exc)

    def when(text):
        return dt.datetime.fromisoformat(text) if text else None

    versions = [{**v, "kickoff": when(v["kickoff"]), "created_at": when(v["created_at"])} for v in found["versions"]]
    return versions, found["more"]


# fetch-model / fetch-predictions


def _tasks(generated: Project, kind: str) -> list[str]:
    return [
        w for m in generated.models for w in (m.training_workflows if kind == "training" else m.prediction_workflows)
    ]


def fetch_model(generated: Project, run: str, output: Path, config, project, domain):
    """Write the model run RUN of a training task trained to `output`, atomically as runs.save_like_unionml does
    (the SDK's interpreter writes a temporary file beside it; renamed over `output` once complete)."""
    import tempfile

    if os.path.lexists(output) and not (os.path.isfile(output) and not os.path.islink(output)):
        fail(OperateError(f"{output} exists and is not a regular file", "give -o a file path to write the model to",
                          codes.CANNOT_SAVE_MODEL))  # fmt: skip
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=output.suffix, dir=output.parent)
        os.close(fd)
    except OSError as exc:
        fail(OperateError(f"cannot write {output}: {exc.strerror or exc}", "give -o a writable file path",
                          codes.CANNOT_SAVE_MODEL))  # fmt: skip
    project, domain = where(generated, project, domain)
    try:
        result = call("fetch", generated, config, project, domain, run=run, kind="training",
                      tasks=_tasks(generated, "training"), model_file=temporary)  # fmt: skip
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, output)
    except OperateError as exc:
        fail(exc)
    except OSError as exc:
        fail(OperateError(f"cannot write {output}: {exc.strerror or exc}", "nothing was written there",
                          codes.CANNOT_SAVE_MODEL))  # fmt: skip
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
    summary = {"execution": run, "launch_plan": result["task"], "app_version": result["version"],
               "file": str(output), "model_type": result["model_type"],
               "hyperparameters": result["hyperparameters"], "metrics": result["metrics"]}  # fmt: skip
    return summary, result["model_class"], result["flavour"]


def fetch_predictions(generated: Project, run: str, config, project, domain) -> dict:
    project, domain = where(generated, project, domain)
    try:
        return call("fetch", generated, config, project, domain, run=run, kind="prediction",
                    tasks=_tasks(generated, "prediction"))  # fmt: skip
    except OperateError as exc:
        fail(exc)
