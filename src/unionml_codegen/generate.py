"""The generator as one function: read the app, check it, render the project, write or compare it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .analyze import package_name, read_app
from .diagnostics import AppError, Diagnostics, Position
from .validate import validate
from .write import Drift, compare, with_manifest, write


@dataclass(frozen=True)
class Options:
    image: str = "ghcr.io/your-org/your-app:latest"
    package: str | None = None
    models: dict[str, str] = field(default_factory=dict)  # --model SCHEDULE=PATH


@dataclass
class Result:
    files: dict[str, str]
    diagnostics: Diagnostics
    drift: Drift | None = None


def render_app(app_path: Path, out_dir: Path, options: Options = Options(), display_path: str | None = None) -> Result:
    """Read, validate and render an app; raises `AppError` when it has errors."""
    shown = display_path or str(app_path)
    diagnostics = Diagnostics(shown)
    try:
        source = app_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        diagnostics.error(Position(1, 1), f"cannot read the app: {exc}", "check the path")
        raise AppError(diagnostics, None) from None
    package = options.package or package_name(app_path)
    app = read_app(source, shown, app_path.parent, package, diagnostics)
    if app is not None and not diagnostics.errors:
        app = validate(app, diagnostics)
    if app is None or diagnostics.errors:
        raise AppError(diagnostics, source)

    from .render import RenderOptions, render_project

    relative = Path(os.path.relpath(app_path.resolve(), out_dir.resolve())).as_posix()
    files = render_project(app, RenderOptions(source=relative, image=options.image))
    provenance = {
        "app": relative,
        "generator": f"unionml-codegen {__version__}",
        "options": {"image": options.image, "package": package, "models": dict(sorted(options.models.items()))},
    }
    return Result(with_manifest(files, provenance), diagnostics)


def generate(
    app_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    options: Options = Options(),
    *,
    check: bool = False,
    diff: bool = False,
    force: bool = False,
) -> Result:
    """Generate the Flyte project for `app_path` into `out_dir` (or, with check/diff, compare)."""
    app_path, out_dir = Path(app_path), Path(out_dir)
    result = render_app(app_path, out_dir, options)
    if check or diff:
        result.drift = compare(result.files, out_dir, diff=diff)
    else:
        write(result.files, out_dir, force=force)
    return result
