"""`unionml generate`: a thin command line over `generate()`.

Exit codes: 0 written (or up to date), 1 `--check`/`--diff` found the output out of date,
2 the app has errors, the configuration says nothing to generate, the output holds work that
must not be overwritten, or the output could not be written (it is then left as it was).
With several generated projects (found by their manifests), the highest code of any.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import click

from . import __version__, codes, quick
from .diagnostics import AppError, GeneratedCodeError, plain_error


class _Commands(click.Group):
    """`generate` defined here; the commands that operate a generated project (unionml_codegen/operate)
    imported only when named or listed, so `generate --check` in a pre-commit hook loads none of them."""

    OPERATE = {  # command name -> module of unionml_codegen.operate, attribute
        "schedules": ("preview", "schedules"),
        "run": ("local_run", "run"),
        "backfill": ("remote_backfill", "backfill"),  # that module adds --remote to the local backfill
        "deploy": ("deploy", "deploy"),
        "activate-schedules": ("switch", "activate_schedules"),
        "deactivate-schedules": ("switch", "deactivate_schedules"),
        "prune-schedules": ("switch", "prune_schedules"),
        "list-scheduled-training-runs": ("runs", "list_scheduled_training_runs"),
        "list-scheduled-prediction-runs": ("runs", "list_scheduled_prediction_runs"),
        "list-model-versions": ("runs", "list_model_versions"),
        "fetch-model": ("runs", "fetch_model"),
        "fetch-predictions": ("runs", "fetch_predictions"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.OPERATE})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.OPERATE and name not in self.commands:
            import importlib

            module, attribute = self.OPERATE[name]
            command = getattr(importlib.import_module(f".operate.{module}", __package__), attribute)
            self.add_command(command, name)
        return super().get_command(ctx, name)

    #: Commands unionml 0.2.1's own CLI defines that this one does not: forwarded to it when it is installed.
    UNIONML_ONLY = ("init", "train", "predict", "serve", "list-prediction-ids")
    #: Names both define: unionml's takes an app (`app.py`, `app:model`), this one a generated project.
    SHARED = (
        "deploy", "activate-schedules", "deactivate-schedules", "list-scheduled-training-runs",
        "list-scheduled-prediction-runs", "list-model-versions", "fetch-model", "fetch-predictions",
    )  # fmt: skip

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else None
        if name in self.UNIONML_ONLY and name not in self.commands:
            return name, _forwarded(name), args[1:]
        if name in self.SHARED and _unionml_style_app(args[1:]):
            app = next(w for w in args[1:] if not w.startswith("-") and (w.endswith(".py") or ":" in w))
            # unionml's own commands take `module:variable` (app:model); a path (app.py) it cannot split
            takes_it = ":" in app or any(word in ("--help", "-h") for word in args[1:])
            if _unionml_installed() and takes_it:
                return name, _forwarded(name), args[1:]
            from .operate.common import usage_failure

            module = app.split(":")[0].removesuffix(".py")
            why = "is unionml's form, and unionml is not installed" if takes_it else (
                f"names an app file: unionml's own `{name}` takes the app as module:variable "
                f"(`unionml {name} {module}:model` imports and runs it)")  # fmt: skip
            usage_failure(click.UsageError(
                f"`unionml {name} {app}` {why}; this command operates a generated project: "
                f"`unionml generate {module}.py -o flyte`, then `unionml {name} flyte`"
            ))  # fmt: skip
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context):
        """A command line an operate command cannot take is an operate error: a code and a hint (operate/common)."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            name = exc.ctx.command.name if exc.ctx is not None else None
            if name not in self.OPERATE:
                raise
            from .operate.common import usage_failure

            usage_failure(exc)

    def load_all(self) -> None:
        """Import every command (for tools that read `commands`, like mkdocs-click's CLI reference)."""
        with click.Context(self) as ctx:
            for name in self.list_commands(ctx):
                self.get_command(ctx, name)


def _unionml_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("unionml") is not None


def _unionml_style_app(words: list[str]) -> bool:
    """Whether the first argument names an app the way unionml's own commands take it (`app.py`, `app:model`)
    rather than a generated project's directory."""
    from .output import MANIFEST

    positional = [word for word in words if not word.startswith("-")]
    if any(os.path.isfile(os.path.join(word, MANIFEST)) for word in positional):
        return False  # a generated project is named: this program's command
    return any(word.endswith(".py") or (":" in word and not os.path.exists(word)) for word in positional)


def _forwarded(name: str) -> click.Command:
    """A command that hands its arguments, untouched, to unionml's own CLI."""

    @click.command(
        name,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
        add_help_option=False,
    )
    @click.pass_context
    def forward(ctx: click.Context) -> None:
        if not _unionml_installed():
            raise click.UsageError(
                f"`unionml {name}` is a command of unionml's own CLI, and unionml is not installed "
                "(pip install unionml==0.2.1)"
            )
        from unionml.cli import app as unionml_app

        unionml_app.main(args=[name, *ctx.args], prog_name="unionml")

    return forward


def _version_message() -> str:
    text = f"unionml-codegen {__version__} (this `unionml` command"
    try:
        from importlib.metadata import version

        return text + f"; commands it does not define go to unionml {version('unionml')})"
    except Exception:  # importlib.metadata.PackageNotFoundError: unionml is not installed
        return text + ")"


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="unionml's own commands (init, train, predict, serve, list-prediction-ids), and deploy, "
    "activate-schedules, ... given an app the way unionml takes it (app:model), are forwarded to "
    "unionml's CLI when unionml is installed. `unionml-codegen` is this command under a name no other "
    "package installs.",
)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, help="Show which program answers, and exit.",
              callback=lambda ctx, param, value: (click.echo(_version_message()), ctx.exit()) if value else None)  # fmt: skip
def main() -> None:
    """Generate reviewable Flyte projects from UnionML apps."""


def _bindings(ctx, param, values: tuple[str, ...]) -> dict[str, str]:
    bindings = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise click.BadParameter(f"expected SCHEDULE=PATH, got {value!r}", ctx=ctx, param=param)
        bindings[name] = path
    return bindings


def _package(ctx, param, value: str | None) -> str | None:
    if value is None:
        return None
    from .read import package_problem  # libcst: only when a name is given

    problem = package_problem(value)
    if problem is not None:
        raise click.BadParameter(codes.tagged(problem, codes.INVALID_PACKAGE_NAME), ctx=ctx, param=param)
    return value


@main.command()
@click.argument("app", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", type=click.Path(file_okay=False),
              help="Project directory (default: `output` in [tool.unionml-codegen] of pyproject.toml).")  # fmt: skip
@click.option("--model", "models", multiple=True, callback=_bindings, metavar="SCHEDULE=PATH",
              help="Model file for a prediction schedule whose model is not known statically.")  # fmt: skip
@click.option("--train-models", is_flag=True,
              help="Train the model of each prediction schedule that uses the app's `model.train(...)` (its arguments "
                   "known statically) by running the project's training workflow locally, and vendor it like a --model "
                   "file. Without it a model trained before is kept while its training inputs are unchanged; --check "
                   "and --diff never train.")  # fmt: skip
@click.option("--image", default=None, help="Task image for docs.  [default: ghcr.io/your-org/your-app:latest]")
@click.option("--package", default=None, callback=_package,
              help="Name of the generated package, a Python identifier (default: from the app's name).")  # fmt: skip
@click.option("--target", type=click.Choice(["flyte1", "flyte2"]), default=None,
              help="flyte1: a flytekit 1.x project (pyflyte register); flyte2: a project for the flyte 2.x SDK "
                   "(flyte deploy).  [default: the target OUT was generated for, else flyte1]")  # fmt: skip
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the output is out of date.")
@click.option("--diff", is_flag=True, help="Write nothing; print unified diffs; exit 1 if there are any.")
@click.option("--force", is_flag=True, help="Overwrite generated files that were edited, and files in the way.")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, envvar="UNIONML_CODEGEN_CACHE_DIR",
              help="Where this machine records what it rendered (the only thing that can spare a render); "
                   "never inside the app's project.  [default: ~/.cache/unionml-codegen]")  # fmt: skip
@click.option("--no-cache", is_flag=True, help="Neither use nor write the cache: always render and compare.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document on stdout: per project, what happened, the files that differ (with "
                   "--diff, the diffs) and every diagnostic. Messages stay on stderr.")  # fmt: skip
def generate(app, out, models, train_models, image, package, target, check, diff, force, cache_dir, no_cache,
             as_json) -> None:  # fmt: skip
    """Generate a Flyte project from the UnionML app APP, without importing it.

    With no APP or -o, they come from [tool.unionml-codegen] in the nearest pyproject.toml
    (keys app, output, image, package, models, target, project, domain), or else from the manifest
    (.unionml-codegen.json) of the generated projects in or just below the current directory.
    Options given here override both.
    """
    from .config import ConfigError, Settings, resolve

    cli = Settings(
        app=Path(app) if app else None,
        output=Path(out) if out else None,
        image=image,
        package=package,
        models={name: Path(path) for name, path in models.items()},
        target=target,
    )
    try:
        jobs = resolve(cli)
    except ConfigError as exc:
        click.echo(plain_error(exc.code, exc.message), err=True)
        if as_json:
            click.echo(json.dumps({"exit": 2, "error": {"code": str(exc.code), "message": exc.message},
                                   "projects": []}, indent=2))  # fmt: skip
        sys.exit(2)
    from .output.cache import configured

    cache = configured(cache_dir, disabled=no_cache)
    rerun = _rerun_command(app, out, models, image, package, target)
    said: list[str] = []
    reports: list[dict] = []
    runs = []
    for job in jobs:
        reports.append({})
        runs.append(_run(job, check=check, diff=diff, force=force, rerun=rerun, cache=cache, said=said,
                         report=reports[-1], as_json=as_json, train_models=train_models))  # fmt: skip
    if as_json:
        click.echo(json.dumps({"exit": max(code for code, _ in runs), "projects": reports}, indent=2))
    if (check or diff) and all(code == 0 and result is not None for code, result in runs) and cache.enabled:
        quick.remember(  # the warm lane's record of this clean run
            sys.argv[1:],
            os.getcwd(),
            [
                {"app": os.path.abspath(t.app), "out": os.path.realpath(t.output), "sources": r.notes,
                 "files": r.file_hashes()}
                for t, (_, r) in zip(jobs, runs)
            ],
            "".join(said),
        )  # fmt: skip
    sys.exit(max(code for code, _ in runs))


def _run(job, *, check: bool, diff: bool, force: bool, rerun: str, cache, said: list[str], report: dict,
         as_json: bool = False, train_models: bool = False):  # fmt: skip
    """Generate or check one job: (exit code, the result when there is one). What it prints on stderr
    is also kept in `said`, for the warm lane's record of a clean check; `report` gets what --json prints."""

    def echo(text: str, err: bool = False, nl: bool = True) -> None:
        if err:
            said.append(text + ("\n" if nl else ""))
        elif as_json:
            return  # stdout carries only the JSON document: the diffs are in it
        click.echo(text, err=err, nl=nl)

    report.update(app=str(job.app), output=str(job.output), target=job.target)
    code, result = _generate_one(job, check=check, diff=diff, force=force, rerun=rerun, cache=cache, echo=echo,
                                 report=report, train_models=train_models)  # fmt: skip
    report["exit"] = code
    if result is not None:
        report["diagnostics"] = [_diagnostic(d) for d in result.diagnostics.items]
        drift = result.drift if result.drift is not None else result.changes
        if drift is not None:
            report.update(changed=drift.changed, missing=drift.missing, extra=drift.extra, unowned=drift.unowned,
                          interrupted=drift.leftovers)  # fmt: skip
            if diff:
                report["diffs"] = drift.diffs
        if drift is None or drift.clean:
            report["status"] = "up to date"
        else:
            report["status"] = "out of date" if result.drift is not None else "written"
    return code, result


def _diagnostic(d) -> dict:
    return {"path": d.path, "line": d.position.line, "column": d.position.column, "severity": d.severity,
            "code": d.code, "message": d.message, "hint": d.hint}  # fmt: skip


def _generate_one(job, *, check: bool, diff: bool, force: bool, rerun: str, cache, echo, report: dict,
                  train_models: bool = False):  # fmt: skip
    from dataclasses import replace

    from .generate import generate as run
    from .output import RollbackFailed, WriteRefused, interrupted

    options = replace(job.options(), train_models=train_models)
    out = job.output
    if os.path.islink(out) and os.path.isdir(out):
        echo(f"note: {out} is a symbolic link; using the directory it points to, {os.path.realpath(out)}", err=True)
    try:
        result = run(job.app, out, options, check=check, diff=diff, force=force, cache=cache)
    except AppError as exc:
        report.update(status="error", diagnostics=[_diagnostic(d) for d in exc.diagnostics.items])
        echo(exc.diagnostics.render(exc.source), err=True)
        count = len(exc.diagnostics.errors)
        echo(f"{count} error{'s' if count != 1 else ''}; nothing was written", err=True)
        return 2, None
    except WriteRefused as exc:
        report.update(status="refused", error={"code": str(exc.code), "message": exc.message})
        echo(plain_error(exc.code, exc.message), err=True)
        return 2, None
    except GeneratedCodeError as exc:
        message = f"{exc}; nothing was written. This is a bug in unionml-codegen: please report it with the app"
        echo(f"internal {plain_error(codes.INTERNAL_ERROR, message)}", err=True)
        return 2, None
    except RollbackFailed as exc:
        echo(plain_error(codes.ROLLBACK_INCOMPLETE, exc.strerror), err=True)
        return 2, None
    except OSError as exc:
        message = f"cannot write {out}: {exc}"
        report.update(status="refused", error={"code": str(codes.CANNOT_WRITE), "message": message})
        echo(plain_error(codes.CANNOT_WRITE, message), err=True)
        echo(f"{out} was left as it was", err=True)
        return 2, None
    except KeyboardInterrupt:
        echo(f"interrupted; {out} was left as it was", err=True)
        sys.exit(130)
    if result.diagnostics.items:
        echo(result.diagnostics.render(result.source), err=True)
    if result.drift is not None:
        for text in result.drift.diffs:
            echo(text, nl=False)
        if not result.drift.clean:
            echo(f"{out} is out of date:\n{result.drift.summary()}", err=True)
            ours = set(interrupted(out, runs=cache))
            for name in result.drift.leftovers:
                if name in ours:
                    echo(f"note: a run killed while writing {out} left {name} beside it; "
                               "the next `unionml generate` undoes what it did", err=True)  # fmt: skip
                else:
                    echo(f"note: no run on this machine left {name} beside {out}; remove it", err=True)
            echo(f"run: {rerun}", err=True)
            return 1, result
        echo(f"{out} is up to date", err=True)
        return 0, result
    changes = result.changes
    if changes is None or changes.clean:
        echo(f"{out} is up to date; nothing was written", err=True)
    else:
        parts = [f"{len(changes.changed)} updated", f"{len(changes.missing)} created"]
        if changes.extra:
            parts.append(f"{len(changes.extra)} removed ({', '.join(changes.extra)})")
        echo(f"wrote {out}: {', '.join(parts)}", err=True)
    return 0, result


def _rerun_command(app, out, models: dict[str, str], image, package, target=None) -> str:
    """The command that regenerates what was just checked: this one, without --check/--diff."""
    words = ["unionml", "generate"]
    if app:
        words.append(app)
    if out:
        words += ["-o", out]
    for name, path in models.items():
        words += ["--model", f"{name}={path}"]
    if image is not None:
        words += ["--image", image]
    if package is not None:
        words += ["--package", package]
    if target is not None:
        words += ["--target", target]
    return shlex.join(words)
