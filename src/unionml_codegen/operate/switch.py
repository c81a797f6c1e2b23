"""`unionml activate-schedules`, `deactivate-schedules`, `prune-schedules`: which of the project's
schedules fire on a Flyte cluster (and the switching `unionml deploy` does after registering).

Activation converges. flyteadmin (launch_plan_manager.go enableLaunchPlan, v1.16.8) reads ONE ACTIVE
version of the name and deactivates it in a later write, with no lock between: two activations at once
can leave two ACTIVE versions, and a later activation deactivates only one of them. So each activation
here first deactivates the extra ACTIVE versions an earlier race left, activates, then reads the
versions back: if more than one is ACTIVE (another activation crossed this one), every participant
keeps the same one, the version registered last, and deactivates the others; a command whose version
lost says so and exits 1. Each schedule's line is printed as it is switched (on stderr with --json,
whose one document on stdout says, per schedule, its state, version and whether it changed).

Partial failures: a command cut part way says what was switched before it stopped and what was not;
switching again is safe (activating the ACTIVE version is a no-op), so rerunning finishes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import codes
from .common import dump_json, fail, project_or_exit
from .project import OperateError, Project, visible
from .remote import Cluster, admin_errors, cluster_options, connect, launch_plan_versions, list_all, namespace

ACTIVE, INACTIVE = 1, 0  # flyteidl admin.LaunchPlanState
UNCHANGED = " (already)"  # the end of a schedule's line when switching it changed nothing
MARK = "unionml-codegen/package"  # deploy's annotation on the launch plans it registers: prune's mark


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


def switch_all(cluster: Cluster, targets: list[tuple[str, str | None]], state: int, progress: Progress,
               command: str, report: list[dict] | None = None, err: bool = False) -> list[str]:  # fmt: skip
    """Switch each (name, version), printing each schedule's line as it happens (on stderr with `err`); the names
    whose version lost a race (another activation won). `report` gets a record per schedule (--json: its state,
    version, whether it changed). A failure part way is a one-line error naming what was switched."""
    lost = []
    try:
        with admin_errors(cluster):
            for name, version in targets:
                if state == ACTIVE:
                    line, won, at = _activate(cluster, name, version)
                else:
                    (line, at), won = _deactivate(cluster, name, version), True
                progress.switched.append(name)
                click.echo(visible(line), err=err)
                if report is not None:
                    report.append({"name": name, "state": "ACTIVE" if state == ACTIVE else "INACTIVE",
                                   "version": at, "changed": not line.endswith(UNCHANGED), "won": won,
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


def _switch(words, names_given, every, yes, version, as_json, config, project, domain, state: int,
            command: str) -> None:  # fmt: skip
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
                                 " ".join(["unionml", command, *words]), as_json)  # fmt: skip
        cluster = connect(config, project, domain, command, generated)
    except OperateError as exc:
        fail(exc)
    progress = Progress()
    shown = " ".join(["unionml", command, *words] + [f"--name {n}" for n in names_given]
                     + (["--all"] if every else []) + ([f"--version {version}"] if version else []))  # fmt: skip
    report: list[dict] = []
    lost = switch_all(cluster, [(schedule.name, version) for schedule in schedules], state, progress, f"`{shown}`",
                      report=report, err=as_json)  # fmt: skip
    switch_end(verb, cluster.project, cluster.domain, report, ok=not lost, as_json=as_json)
    if lost:
        sys.exit(1)


def switch_end(verb: str, project: str, domain: str, report: list[dict], ok: bool, as_json: bool) -> None:
    """activate-/deactivate-schedules' last word, for both targets: with several schedules, a line counting what
    changed; with --json, one document: per schedule its state now, the version, whether the command changed it,
    and its line; the names it changed."""
    changed = [record["name"] for record in report if record["changed"]]
    if len(report) > 1:
        state = "ACTIVE" if verb == "activate" else "INACTIVE"
        click.echo(visible(f"{verb}d {len(changed)} of {len(report)} schedules in {project}/{domain}"
                           + (f" ({', '.join(changed)})" if changed else "")
                           + (f"; {len(report) - len(changed)} {state} already" if len(changed) < len(report) else "")),
                   err=as_json)  # fmt: skip
    if as_json:
        dump_json({"command": f"{verb}-schedules", "project": project, "domain": domain, "schedules": report,
                   "changed": changed, "ok": ok})  # fmt: skip


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


def _activate(cluster: Cluster, name: str, version: str | None) -> tuple[str, bool, str]:
    """Activate name@version (default: the newest registered) so that exactly one version ends ACTIVE.
    Returns the schedule's line, whether `version` is the one ACTIVE, and that version."""
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
        return f"{name}: ACTIVE at version {target}{UNCHANGED}", True, target  # flyteadmin would change nothing either
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
        return f"{name}: ACTIVE at version {target}{also}", True, target
    if active:
        return (f"{name}: version {active[0]} is ACTIVE, not {target}: another activation of {name} ran at the "
                f"same time and was registered later; rerun to make {target} ACTIVE"), False, target  # fmt: skip
    return (f"{name}: no version is ACTIVE: another command deactivated {target} at the same time; rerun to make "
            f"{target} ACTIVE"), False  # fmt: skip


def _deactivate(cluster: Cluster, name: str, version: str | None) -> tuple[str, str | None]:
    """Deactivate name's ACTIVE version (only `version` when given); the line, and the version that was ACTIVE."""
    versions = _versions(cluster, name)
    active = [plan.id.version for plan in versions if plan.closure.state == ACTIVE]
    if version is not None:
        active = [v for v in active if v == version]
    for target in active:
        _set_state(cluster, name, target, INACTIVE)
    if not active:
        return f"{name}: INACTIVE{UNCHANGED}", version
    return f"{name}: INACTIVE (was active at version {', '.join(active)})", active[0]


JSON_HELP = "Print what was switched as one JSON object (each schedule's line goes to stderr)."


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
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@cluster_options
def activate_schedules(words, every, yes, names_given, version, as_json, config, project, domain) -> None:
    """Activate the schedules NAME... of OUT (or --all) at the deployed (newest) version.

    Each schedule's line says its state; `(already)` marks one that was so before. With several, a last
    line counts what changed."""
    _switch(words, names_given, every, yes, version, as_json, config, project, domain, ACTIVE, "activate-schedules")


@click.command("deactivate-schedules")
@click.argument("words", nargs=-1, metavar="[OUT] [NAME]...")
@_selection
@click.option("--version", default=None, help="Deactivate only this version (default: whichever is active).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@cluster_options
def deactivate_schedules(words, every, yes, names_given, version, as_json, config, project, domain) -> None:
    """Deactivate the schedules NAME... of OUT (or --all), whichever version is active.

    Each schedule's line says its state; `(already)` marks one that was so before. With several, a last
    line counts what changed."""
    _switch(words, names_given, every, yes, version, as_json, config, project, domain, INACTIVE, "deactivate-schedules")


# --------------------------------------------------------------------------------------------------
# prune-schedules


@click.command("prune-schedules")
@click.argument("out", required=False, type=click.Path(file_okay=False))
@click.option("--dry-run", is_flag=True, help="List them; deactivate nothing.")
@click.option("--json", "as_json", is_flag=True,
              help="Print what was (or would be) deactivated as one JSON object (the lines go to stderr).")  # fmt: skip
@cluster_options
def prune_schedules(out, dry_run, as_json, config, project, domain) -> None:
    """Deactivate schedules an earlier deployment of OUT activated that OUT no longer has.

    Flyte keeps firing a launch plan after it leaves the code. A launch plan is this project's when
    `unionml deploy` registered it (its annotation unionml-codegen/package names the package) and it runs
    one of the package's workflows; it is pruned when it is ACTIVE, has a schedule, and is not one of the
    project's schedules now. A launch plan registered any other way is left alone.
    """
    generated = project_or_exit(out, flyte2=True)
    if generated.target == "flyte2":  # the triggers, through the flyte SDK (operate/flyte2.py)
        from . import flyte2

        return flyte2.prune(generated, dry_run, config, project, domain, as_json)
    try:
        cluster = connect(config, project, domain, "prune-schedules", generated)
        with admin_errors(cluster):
            stale = [(plan.id.name, plan.id.version, plan.spec.workflow_id.name) for plan in _stale(cluster, generated)]
    except OperateError as exc:
        fail(exc)
    done: list[str] = []
    try:
        with admin_errors(cluster):
            for name, version, workflow in stale:
                if not dry_run:
                    _set_state(cluster, name, version, INACTIVE)
                done.append(name)
                prune_line(name, version, workflow, dry_run, as_json)
    except OperateError as exc:
        todo = [name for name, _, _ in stale if name not in done]
        fail(OperateError(f"{exc.message} (deactivated: {', '.join(done) or 'none'}; not deactivated: {', '.join(todo)})",
                          "rerun `unionml prune-schedules` to finish it", exc.code))  # fmt: skip
    prune_end(generated.package, cluster.project, cluster.domain, stale, dry_run, as_json)


def prune_line(name: str, version: str, runs: str, dry_run: bool, as_json: bool) -> None:
    verb = "would deactivate" if dry_run else "deactivated"
    click.echo(visible(f"{verb} {name} (version {version}, runs {runs})"), err=as_json)


def prune_end(package: str, project: str, domain: str, stale: list[tuple[str, str, str]], dry_run: bool,
              as_json: bool) -> None:  # fmt: skip
    """prune-schedules' last word, for both targets: the line when nothing was stale; --json's document."""
    if not stale:
        click.echo(f"nothing to prune: every active schedule of {package} in {project}/{domain} is in the project",
                   err=as_json)  # fmt: skip
    if as_json:
        dump_json({"command": "prune-schedules", "package": package, "project": project, "domain": domain,
                   "dry_run": dry_run, "ok": True,  # schedules: deactivated, or with --dry-run would be
                   "schedules": [{"name": name, "version": version, "runs": runs} for name, version, runs in stale]})  # fmt: skip


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
