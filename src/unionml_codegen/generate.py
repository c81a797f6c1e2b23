"""The generator as one function: read the app, check it, render the project, write or compare it."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import __version__, codes, input_files
from .diagnostics import AppError, Diagnostics, Position
from .input_files import MAX_APP_BYTES, AppPaths, InputError, decode_python, read_file, relative_to
from .options import DEFAULT_TARGET, Options, RenderOptions
from .output import cache as caching, up_to_date
from .output.cache import Cache
from .output import (
    Drift,
    WriteRefused,
    compare,
    digest,
    foreign_modules,
    leftover_runs,
    recover,
    unchanged,
    with_manifest,
    write,
)

# read (libcst), rules and render (jinja2, black) are imported when the app is read: an
# up-to-date project is recognised without them (output/up_to_date.py)


@dataclass
class Result:
    files: dict[str, str | bytes]  # every generated file, the manifest included, by POSIX path in OUT
    diagnostics: Diagnostics
    drift: Drift | None = None  # with check/diff: how OUT differs
    changes: Drift | None = None  # after a write: what was rewritten, created and removed
    reused: bool = False  # this machine's cache vouched for OUT: nothing was rendered
    source: str | None = None  # the app's text, to show the lines warnings point at
    notes: dict[str, str] = field(default_factory=dict)  # the inputs the render read: absolute path -> state
    hashes: dict[str, str] = field(default_factory=dict)  # reused: the sha256 of every file the cache vouched for

    def file_hashes(self) -> dict[str, str]:
        """The sha256 of every generated file, by path (the manifest included)."""
        return self.hashes or {path: digest(content) for path, content in sorted(self.files.items())}


def render_app(
    app_path: Path,
    out_dir: Path,
    options: Options = Options(),
    display_path: str | None = None,
    *,
    paths: AppPaths | None = None,
) -> Result:
    """Read, validate and render an app; raises `AppError` when it has errors. `paths`: the app's paths as
    `generate` resolved them (else resolved here)."""
    from .read import package_name, read_app, unscanned
    from .read.remote_settings import check_configured
    from .rules import validate

    paths = paths or AppPaths.of(app_path, out_dir, display_path)
    app_path, out_dir, shown = paths.app, paths.out, paths.shown
    diagnostics = Diagnostics(shown)
    with input_files.recording() as notes, unscanned():  # unscanned: the parsed app (read/app.py)
        try:
            source = read_app_source(app_path)
        except InputError as exc:
            diagnostics.error(codes.UNREADABLE_APP, Position(1, 1), f"cannot read the app: {exc}", _READ_HINT)
            raise AppError(diagnostics, None) from None
        package = options.package or package_name(app_path)
        derived = options.package is None
        keep_sql_tasks = options.target != "flyte2"  # flyte2 runs the queries itself (render/flyte2.py)
        app = read_app(
            source,
            shown,
            paths.directory,
            package,
            diagnostics,
            derived_package=derived,
            out_dir=out_dir,
            keep_sql_tasks=keep_sql_tasks,
        )
        training = None
        if app is not None and not diagnostics.errors:
            options = _without_stale_bindings(app, options, diagnostics)
            if any(schedule.model_training is not None for schedule in app.schedules):
                from .train import training_for  # the models the app trains in memory: trained or kept

                training, options = training_for(app, options, out_dir, diagnostics)
            bindings = {name: Path(path) for name, path in options.models.items()}
            app = validate(app, diagnostics, bindings, paths.directory, target=options.target, training=training)
            trains = app is not None and any(ref.training for ref in app.model_references.values())
            if trains and options.target != "flyte1" and not diagnostics.errors:
                # the flytekit project trains for either target: the app as the flyte1 target reads it (SQL tasks kept)
                quiet, where = Diagnostics(shown), paths.directory
                read = read_app(source, shown, where, package, quiet, derived_package=derived, out_dir=out_dir)
                if read is not None and not quiet.errors:
                    training = replace(training, app=validate(read, quiet, bindings, where, training=training))
            if app is not None:
                check_configured(app.remote, {"project": options.project, "domain": options.domain},
                                 "[tool.unionml-codegen]", diagnostics)  # fmt: skip
    if app is None or diagnostics.errors:
        raise AppError(diagnostics, source)
    package = app.package  # a derived name moves out of the way of the app's own modules

    relative = paths.relative
    if not _utf8(relative):
        diagnostics.error(
            codes.APP_PATH_NOT_UTF8,
            Position(1, 1),
            f"the app's path relative to the output directory, {relative!r}, has bytes that are not UTF-8",
            "the generated files and the manifest name the app by that path: rename the directory or the app",
        )
        raise AppError(diagnostics, source)
    from .render import render_project

    render_options = RenderOptions(source=relative, image=options.image, project=options.project,
                                   domain=options.domain)  # fmt: skip
    with unscanned():
        trained_code, rendered = None, None
        if training is not None:
            from .train import settle

            settled, trained_code, rendered = settle(app, training, render_options, diagnostics)
            if settled is None:
                raise AppError(diagnostics, source)
            app = settled
        if rendered is None or options.target != "flyte1":
            rendered = render_project(app, render_options, options.target)
    record = {**provenance(rendered.files, relative, out_dir, options, package), **rendered.record}
    if trained_code is not None:
        from .render.trained import trained_record

        record.update(trained_record(app, trained_code))
    if app.remote is not None:  # where the app's model.remote(...) deploys, for the operate commands (both targets)
        record["remote"] = app.remote.record()
    return Result(with_manifest(rendered.files, record), diagnostics, source=source, notes=dict(notes))


def _without_stale_bindings(app, options: Options, diagnostics: Diagnostics) -> Options:
    """`options` without the bindings the manifest remembered for prediction schedules the app no longer has."""
    predictions = {schedule.name for schedule in app.schedules if schedule.kind == "prediction"}
    stale = sorted(name for name in options.remembered if name in options.models and name not in predictions)
    for name in stale:
        diagnostics.warning(
            codes.STALE_MODEL_BINDING,
            Position(1, 1),
            f"the project's manifest binds a model file to '{name}' (--model {name}=...), and the app has no "
            "prediction schedule of that name any more: the binding is dropped",
            "nothing to do: the regenerated manifest no longer records it",
        )
    if not stale:
        return options
    return replace(options, models={k: v for k, v in options.models.items() if k not in stale})


_READ_HINT = (
    "the app is a Python file (.py) of at most 16 MB, in UTF-8 or in the encoding its coding cookie "
    "declares (PEP 263)"
)


def read_app_source(app_path: Path) -> str:
    """The app's text: a regular `.py` file of at most `MAX_APP_BYTES`, decoded as Python would."""
    if app_path.suffix != ".py":
        raise InputError("the app must be a Python file whose name ends in .py")
    return decode_python(read_file(app_path, MAX_APP_BYTES, "the app"), "the app")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: a file name's bytes that are not UTF-8
        return False
    return True


def _setting(paths: AppPaths, options: Options) -> dict[str, object]:
    """What the output depends on besides the files read: the options, and the app's path and name
    (a generic `app.py` names the package after its directory)."""
    models = {name: relative_to(Path(path), paths.out) for name, path in sorted(options.models.items())}
    setting: dict[str, object] = {
        "app": paths.relative,
        "app_name": [paths.real_directory.name, Path(os.path.realpath(paths.app)).name],
        "image": options.image,
        "package": options.package,
        "models": models,
    }
    if options.remembered:  # a binding only the manifest gave is dropped where a typed one is an error
        setting["remembered"] = sorted(options.remembered)
    return {**setting, **_target_option(options), **_remote_options(options)}


def _target_option(options: Options) -> dict[str, str]:
    """The target as the manifest records it: only when it is not the default, so a flyte1 project's
    manifest is what it was before there were targets."""
    return {} if options.target == DEFAULT_TARGET else {"target": options.target}


def _remote_options(options: Options) -> dict[str, str]:
    """project / domain of [tool.unionml-codegen], as the manifest records them: only when given."""
    return {key: value for key, value in (("project", options.project), ("domain", options.domain)) if value}


def cached(cache: Cache, paths: AppPaths, options: Options) -> Result | None:
    """An up-to-date result without parsing the app, when this machine's cache entry vouches for
    OUT: the same inputs, byte for byte, and every generated file on disk as rendered (output/cache.py).
    None (render and compare) for anything else."""
    out_dir = paths.out
    setting = _setting(paths, options)
    entry = caching.load(cache, caching.entry_key(paths.app, out_dir, setting))
    if entry is None or not up_to_date.up_to_date(entry, setting, paths):
        return None
    if not unchanged(out_dir, entry["files"]) or foreign_modules(out_dir, entry["files"]) or leftover_runs(out_dir):
        return None
    shown = paths.shown
    warnings = up_to_date.replayed_warnings(entry["warnings"], shown)
    if warnings is None:
        return None
    diagnostics = Diagnostics(shown, list(warnings))
    source = None
    if warnings:  # the app's text, to show the lines they point at
        try:
            source = read_app_source(paths.app)
        except InputError:
            return None
    return Result({}, diagnostics, reused=True, source=source, notes=entry["sources"], hashes=entry["files"])


def remember(cache: Cache, paths: AppPaths, options: Options, result: Result) -> None:
    """Record in this machine's cache that OUT now holds exactly what `result` rendered."""
    caching.note_written(cache, paths.out, {path: digest(content) for path, content in sorted(result.files.items())})
    if not cache.enabled or any(state == input_files.UNSTABLE for state in result.notes.values()):
        return
    setting = _setting(paths, options)
    states = dict(sorted(result.notes.items()))
    entry = {
        "sources": states,
        "sources_sha256": up_to_date.sources_key(states, setting, paths.directory, paths.root),
        "files": {path: digest(content) for path, content in sorted(result.files.items())},
        "warnings": up_to_date.recorded_warnings(result.diagnostics),
    }
    caching.store(cache, caching.entry_key(paths.app, paths.out, setting), entry)


def check_output(paths: AppPaths) -> None:
    """Refuse an output directory that is far more than a project's: the file system's root, the home
    directory, or a directory that holds the app (its own directory, the repository root, any
    ancestor). The generator reads and writes only the files it owns there, but a mistake such as
    `output = "/"` must not reach that far."""
    out_dir, app_dir = paths.out, paths.real_directory
    real = Path(os.path.realpath(out_dir))
    if real == real.parent:
        what = "the root of the file system"
    elif real == Path(os.path.realpath(os.path.expanduser("~"))):
        what = "the home directory"
    elif real == app_dir or real in app_dir.parents:
        what = "a directory that holds the app"
    else:
        return
    raise WriteRefused(
        codes.OUTPUT_TOO_BROAD,
        f"the output directory {out_dir} is {what}; the generated project needs a directory of its own, "
        "such as flyte/ beside the app",
    )


def provenance(
    files: dict[str, str | bytes], app: str, out_dir: Path, options: Options, package: str
) -> dict[str, object]:
    """What the manifest records besides the files: nothing absolute, nothing about the machine or time.

    - `app`: the app's path relative to the output directory (what `unionml generate` with no
      arguments uses to find the app again);
    - `content_sha256`: a hash of what the generator took from the app, computed over the
      generated files (paths and contents), so an edit of the app that changes nothing
      generated (a comment outside the components) changes nothing here either;
    - `options` (model paths relative to the output directory) and the generator's version.
    """
    content = hashlib.sha256()
    for path, data in sorted(files.items()):
        content.update(f"{path}\0{digest(data)}\n".encode())
    models = {name: relative_to(Path(path), out_dir) for name, path in sorted(options.models.items())}
    return {
        "app": app,
        "content_sha256": content.hexdigest(),
        "generator": f"unionml-codegen {__version__}",
        "options": {
            "image": options.image,
            "package": package,
            "models": models,
            **_target_option(options),
            **_remote_options(options),
        },
    }


def generate(
    app_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    options: Options = Options(),
    *,
    check: bool = False,
    diff: bool = False,
    force: bool = False,
    cache: Cache | None = None,
) -> Result:
    """Generate the Flyte project for `app_path` into `out_dir` (or, with check/diff, compare).

    `cache` is where this machine records what it rendered (output/cache.py; default: the user's cache
    directory); only an entry there can spare the render. A cache inside the app's project is
    never used."""
    paths = AppPaths.of(app_path, out_dir)  # resolved once, handed to every stage below
    out_dir = paths.out
    check_output(paths)
    cache = caching.usable_for(cache or caching.configured(), paths.directory, out_dir.parent, Path.cwd())
    if not (check or diff):
        recover(out_dir, runs=cache)  # undo what a run of ours killed while writing left, before reading OUT
    if check or diff:  # never trains: the models trained before are checked as a plain run keeps them
        options = replace(options, train_models=False)
    fresh = force or options.train_models or cache is None or not cache.enabled
    result = None if fresh else cached(cache, paths, options)
    if result is not None:
        if check or diff:
            result.drift = Drift()
        else:
            result.changes = Drift()
        return result
    result = render_app(paths.app, out_dir, options, paths=paths)
    if check or diff:
        result.drift = compare(result.files, out_dir, diff=diff)
        if result.drift.clean and cache is not None:
            remember(cache, paths, options, result)
    else:
        written = caching.last_written(cache, out_dir)
        result.changes = write(result.files, out_dir, force=force, runs=cache, written=written)
        if cache is not None:
            remember(cache, paths, options, result)
    return result
