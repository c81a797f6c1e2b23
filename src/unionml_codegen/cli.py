"""`unionml generate`: a thin command line over `generate()`.

Exit codes: 0 written (or up to date), 1 `--check`/`--diff` found the output out of date,
2 the app has errors or the output holds work that must not be overwritten.
"""

from __future__ import annotations

import sys

import click

from .diagnostics import AppError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="unionml-codegen")
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


@main.command()
@click.argument("app", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out", required=True, type=click.Path(file_okay=False), help="Project directory.")
@click.option("--model", "models", multiple=True, callback=_bindings, metavar="SCHEDULE=PATH",
              help="Model file for a prediction schedule whose model is not known statically.")  # fmt: skip
@click.option("--image", default="ghcr.io/your-org/your-app:latest", show_default=True, help="Task image for docs.")
@click.option("--package", default=None, help="Name of the generated package (default: from the app's name).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the output is out of date.")
@click.option("--diff", is_flag=True, help="Write nothing; print unified diffs; exit 1 if there are any.")
@click.option("--force", is_flag=True, help="Overwrite generated files that were edited, and files in the way.")
def generate(app, out, models, image, package, check, diff, force) -> None:
    """Generate a Flyte project from the UnionML app APP, without importing it."""
    from .generate import Options
    from .generate import generate as run
    from .write import WriteRefused

    options = Options(image=image, package=package, models=models)
    try:
        result = run(app, out, options, check=check, diff=diff, force=force)
    except AppError as exc:
        click.echo(exc.diagnostics.render(exc.source), err=True)
        count = len(exc.diagnostics.errors)
        click.echo(f"{count} error{'s' if count != 1 else ''}; nothing was written", err=True)
        sys.exit(2)
    except WriteRefused as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if result.diagnostics.items:
        click.echo(result.diagnostics.render(_source(app)), err=True)
    if result.drift is not None:
        for text in result.drift.diffs:
            click.echo(text, nl=False)
        if not result.drift.clean:
            click.echo(f"{out} is out of date:\n{result.drift.summary()}", err=True)
            click.echo(f"run: unionml generate {app} -o {out}", err=True)
            sys.exit(1)
        click.echo(f"{out} is up to date", err=True)
        return
    click.echo(f"wrote {len(result.files)} files to {out}", err=True)


def _source(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None
