"""Where `unionml generate` takes the app, the output directory and the options from.

In order of precedence, highest first:

1. the command line (`APP`, `-o`, `--image`, `--package`, `--model`, `--target`);
2. `[tool.unionml-codegen]` in the nearest `pyproject.toml` upward from the current directory
   (keys `app`, `output`, `image`, `package`, `models`, `target`, and `project` / `domain`, where the operate
   commands deploy when the app's `model.remote(...)` does not say; paths relative to that file's directory).
   It describes one app: when the command line names a different app, it is not used;
3. the manifest (`.unionml-codegen.json`) of the output directory, when the app comes from it:
   with no app from 1 or 2, `-o OUT` (or `output` in the config) reads OUT's manifest, and with
   no output either, every `*/.unionml-codegen.json` under the current directory (and its own)
   names an app, an output directory and the options it was generated with. When 1 or 2 name the
   app and OUT's manifest records that same app, the manifest's image, models and target fill in what
   they leave out (so `unionml generate app.py -o OUT --check` keeps the `--model` bindings and the
   `--target` OUT was generated with); a manifest of another app is not used.

Paths handed on are relative to the current directory where they can be (so messages show
short paths); model paths from the config or a manifest are rebased the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import codes
from .options import DEFAULT_IMAGE, DEFAULT_TARGET, TARGETS, Options
from .input_files import MAX_CONFIG_BYTES, InputError, check_path, inside, project_root, read_file
from .output import MANIFEST, read_manifest

TABLE = "unionml-codegen"
KEYS = ("app", "output", "image", "package", "models", "target", "project", "domain")


class ConfigError(Exception):
    """The configuration (or the lack of it) does not say what to generate."""

    def __init__(self, code: codes.Code, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Settings:
    """What one source (command line, config, manifest) says; None where it says nothing."""

    app: Path | None = None
    output: Path | None = None
    image: str | None = None
    package: str | None = None
    models: dict[str, Path] = field(default_factory=dict)
    target: str | None = None  # flyte1 or flyte2
    project: str | None = None  # where the operate commands deploy when the app's model.remote(...) says nothing
    domain: str | None = None

    def over(self, lower: Settings) -> Settings:
        """These settings, falling back to `lower` where they say nothing; models merge by schedule."""
        return Settings(
            app=self.app or lower.app,
            output=self.output or lower.output,
            image=self.image if self.image is not None else lower.image,
            package=self.package if self.package is not None else lower.package,
            models={**lower.models, **self.models},
            target=self.target if self.target is not None else lower.target,
            project=self.project if self.project is not None else lower.project,
            domain=self.domain if self.domain is not None else lower.domain,
        )


@dataclass(frozen=True)
class Job:
    """One app to generate, and where."""

    app: Path
    output: Path
    image: str
    package: str | None
    models: dict[str, str]  # schedule name -> model file, relative to the current directory
    origin: str  # where the app and output came from, for messages
    target: str = DEFAULT_TARGET  # flyte1 or flyte2
    remembered: frozenset[str] = frozenset()  # bindings only the manifest gave: dropped if their schedule is gone
    project: str | None = None  # [tool.unionml-codegen] project / domain (or the manifest's record of them)
    domain: str | None = None

    def options(self) -> Options:
        """What `generate()` is asked for."""
        return Options(image=self.image, package=self.package, models=self.models, target=self.target,
                       remembered=self.remembered, project=self.project, domain=self.domain)  # fmt: skip


def resolve(cli: Settings, cwd: Path | None = None) -> list[Job]:
    """The apps to generate, from the command line, pyproject.toml and manifests (see the module doc)."""
    cwd = Path.cwd() if cwd is None else Path(cwd)
    cli = replace(cli, app=_absolute(cli.app, cwd), output=_absolute(cli.output, cwd),
                  models={k: _absolute(v, cwd) for k, v in cli.models.items()})  # fmt: skip
    origin = "the command line"
    settings = cli
    pyproject = find_pyproject(cwd)
    if pyproject is not None:
        config = load_config(pyproject)
        if config is not None and (cli.app is None or config.app is None or _same(cli.app, config.app)):
            settings = cli.over(config)
            origin = shown_path(pyproject, cwd)
    if settings.app is not None and settings.output is None:
        raise ConfigError(
            codes.NO_OUTPUT_DIRECTORY,
            f"no output directory for {shown_path(settings.app, cwd)}: pass -o OUT_DIR, "
            f"or set output in [tool.{TABLE}] of pyproject.toml",
        )
    if settings.app is not None:
        # a project generated earlier from this app keeps the options it was generated with (its
        # `--model` bindings above all), as when `unionml generate -o OUT` finds the app in the manifest
        try:
            recorded = manifest_settings(settings.output)
        except ConfigError:  # e.g. a model bound outside the project: the command line alone decides
            recorded = None
        remembered: frozenset[str] = frozenset()
        if recorded is not None and recorded.app is not None and _same(recorded.app, settings.app):
            # the package the manifest records is the derived one unless it was given: leave it derived
            remembered = frozenset(recorded.models) - frozenset(settings.models)
            settings = settings.over(replace(recorded, package=None))
        return [_target(settings, cwd, origin, remembered)]
    if settings.output is not None:
        recorded = manifest_settings(settings.output)
        if recorded is None:
            raise ConfigError(
                codes.NOTHING_TO_GENERATE,
                f"no app: {shown_path(settings.output / MANIFEST, cwd)} does not name one; "
                f"pass APP, or set app in [tool.{TABLE}] of pyproject.toml",
            )
        remembered = frozenset(recorded.models) - frozenset(settings.models)
        return [_target(settings.over(recorded), cwd, shown_path(settings.output / MANIFEST, cwd), remembered)]
    found = discover(cwd)
    if not found:
        raise ConfigError(
            codes.NOTHING_TO_GENERATE,
            "nothing to generate: give the app and the output directory (unionml generate APP.py -o OUT_DIR), "
            f"set app and output in [tool.{TABLE}] of pyproject.toml, or run this in the directory "
            f"that holds a generated project (one with {MANIFEST})",
        )
    return [
        _target(settings.over(recorded), cwd, shown_path(recorded.output / MANIFEST, cwd),
                frozenset(recorded.models) - frozenset(settings.models))
        for recorded in found
    ]  # fmt: skip


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml in `start` or a directory above it."""
    start = Path(os.path.abspath(start))
    for directory in [start, *start.parents]:
        candidate = directory / "pyproject.toml"
        if os.path.lexists(candidate) and not candidate.is_dir():
            return candidate  # read only if it is a regular file: a FIFO or a device is an error, not a hang
    return None


def load_config(pyproject: Path) -> Settings | None:
    """`[tool.unionml-codegen]` of `pyproject`, paths made absolute; None when it has no such table."""
    toml = _toml_module()
    try:
        text = read_file(pyproject, MAX_CONFIG_BYTES, str(pyproject)).decode("utf-8")
        data = toml.loads(text)
    except InputError as exc:
        raise ConfigError(codes.INVALID_CONFIG, f"cannot read {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            codes.INVALID_CONFIG, f"{pyproject}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x}); TOML is UTF-8"
        ) from None
    except toml.TOMLDecodeError as exc:
        raise ConfigError(codes.INVALID_CONFIG, f"{pyproject}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get(TABLE) if isinstance(data.get("tool"), dict) else None
    if table is None:
        return None
    where = f"{pyproject}: [tool.{TABLE}]"
    if not isinstance(table, dict):
        raise ConfigError(codes.INVALID_CONFIG, f"{where} must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        raise ConfigError(
            codes.INVALID_CONFIG, f"{where}: unknown key{plural} {', '.join(unknown)}; the keys are {', '.join(KEYS)}"
        )
    for key in ("app", "output", "image", "package", "project", "domain"):
        if key in table and (not isinstance(table[key], str) or not table[key]):
            raise ConfigError(codes.INVALID_CONFIG, f"{where}: {key} must be a non-empty string")
    models = table.get("models", {})
    if not isinstance(models, dict) or not all(isinstance(v, str) and v for v in models.values()):
        raise ConfigError(codes.INVALID_CONFIG, f'{where}: models must be a table of SCHEDULE = "path/to/model/file"')
    if "target" in table and table["target"] not in TARGETS:
        raise ConfigError(
            codes.INVALID_CONFIG,
            f"{where}: target = {table['target']!r} is not a target; the targets are {', '.join(TARGETS)}",
        )
    base = pyproject.parent
    root = project_root(base)
    paths = {key: table[key] for key in ("app", "output") if key in table}
    paths.update({f"models.{name}": path for name, path in models.items()})
    for key, value in paths.items():
        _contained(value, base, root, f"{where}: {key}")
    return Settings(
        app=_absolute(table.get("app"), base),
        output=_absolute(table.get("output"), base),
        image=table.get("image"),
        package=table.get("package"),
        models={name: _absolute(path, base) for name, path in models.items()},
        target=table.get("target"),
        project=table.get("project"),
        domain=table.get("domain"),
    )


def _contained(value: str, base: Path, root: Path, what: str) -> None:
    """A path a file names (pyproject.toml, a manifest) must stay inside the project, links resolved."""
    try:
        check_path(value, what)
    except InputError as exc:
        raise ConfigError(codes.CONFIG_PATH_OUTSIDE_PROJECT, str(exc)) from None
    if not inside(base / value, root):
        raise ConfigError(
            codes.CONFIG_PATH_OUTSIDE_PROJECT,
            f"{what} = {value!r} is outside the project ({root}); paths in pyproject.toml and in a manifest "
            "must stay inside the repository that holds them (give a path elsewhere on the command line)",
        )


def manifest_settings(output: Path) -> Settings | None:
    """What the manifest of the generated project in `output` recorded; None without a usable one."""
    manifest = read_manifest(output)
    if manifest is None or not isinstance(manifest.get("app"), str) or not manifest["app"]:
        return None
    options = manifest.get("options") if isinstance(manifest.get("options"), dict) else {}
    models = options.get("models") if isinstance(options.get("models"), dict) else {}
    output = Path(os.path.abspath(output))
    root = project_root(Path(os.path.realpath(output)).parent)
    where = f"{output / MANIFEST}"
    _contained(manifest["app"], output, root, f"{where}: app")
    if not manifest["app"].endswith(".py"):
        raise ConfigError(codes.INVALID_MANIFEST, f"{where}: app = {manifest['app']!r} is not a Python file (.py)")
    for name, path in models.items():
        if isinstance(name, str) and isinstance(path, str):
            _contained(path, output, root, f"{where}: options.models.{name}")
    return Settings(
        app=_absolute(manifest["app"], output),
        output=output,
        image=options.get("image") if isinstance(options.get("image"), str) else None,
        package=options.get("package") if isinstance(options.get("package"), str) else None,
        models={k: _absolute(v, output) for k, v in models.items() if isinstance(k, str) and isinstance(v, str)},
        target=options.get("target", DEFAULT_TARGET) if options.get("target", DEFAULT_TARGET) in TARGETS else None,
        project=options.get("project") if isinstance(options.get("project"), str) else None,
        domain=options.get("domain") if isinstance(options.get("domain"), str) else None,
    )


def discover(cwd: Path) -> list[Settings]:
    """The generated projects in `cwd` and its subdirectories one level down, by their manifests."""
    candidates = [cwd / MANIFEST, *sorted(cwd.glob(f"*/{MANIFEST}"))]
    found = []
    for manifest in candidates:
        if manifest.parent != cwd and manifest.parent.is_symlink():
            raise ConfigError(
                codes.LINKED_PROJECT_DIRECTORY,
                f"{shown_path(manifest.parent, cwd)} is a symbolic link; generated projects are looked for in real "
                "directories only: name the output directory with -o, or replace the link",
            )
        if manifest.is_file() and not manifest.is_symlink():
            recorded = manifest_settings(manifest.parent)
            if recorded is not None:
                found.append(recorded)
    return found


def _toml_module():
    try:
        import tomllib  # Python 3.11+
    except ModuleNotFoundError:
        try:
            import tomli as tomllib  # the same parser, for Python 3.10
        except ModuleNotFoundError:
            raise ConfigError(
                codes.TOML_PARSER_MISSING,
                "reading pyproject.toml needs Python 3.11 or newer, or the tomli package: pip install tomli",
            ) from None
    return tomllib


def _target(settings: Settings, cwd: Path, origin: str, remembered: frozenset[str] = frozenset()) -> Job:
    assert settings.app is not None and settings.output is not None
    return Job(
        app=Path(shown_path(settings.app, cwd)),
        output=Path(shown_path(settings.output, cwd)),
        image=settings.image if settings.image is not None else DEFAULT_IMAGE,
        package=settings.package,
        models={name: shown_path(path, cwd) for name, path in sorted(settings.models.items())},
        origin=origin,
        target=settings.target if settings.target is not None else DEFAULT_TARGET,
        remembered=remembered,
        project=settings.project,
        domain=settings.domain,
    )


def _absolute(path: str | os.PathLike | None, base: Path) -> Path | None:
    if path is None:
        return None
    return Path(os.path.normpath(os.path.join(base, path)))


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.normcase(a) == os.path.normcase(b)


def shown_path(path: Path, cwd: Path) -> str:
    """`path` relative to `cwd` when it is below it or close by, else absolute."""
    try:
        relative = os.path.relpath(path, cwd)
    except ValueError:
        return str(path)
    return str(path) if relative.split(os.sep)[:3] == [os.pardir] * 3 else relative
