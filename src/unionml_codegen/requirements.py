"""What the generated project installs: the distribution each imported module comes from, and the
versions the app's own project pins.

A module's distribution is its top-level name (`pandas`), its first two parts for the namespace
packages in `NAMESPACE_PACKAGES` (`flytekitplugins.sqlalchemy`), or the well-known spelling in
`DISTRIBUTIONS` (`sklearn` is `scikit-learn`).

Where the app's project pins its dependencies (unionml's templates ship a requirements.txt with
exact versions beside app.py), the task image should install those versions, not whatever is
newest. Read, nearest first: in the app's directory, then in each parent up to the repository
root (the nearest ancestor holding `.git`, unless that is the home directory or the file system's
root; with none, the app's directory only), the files
`requirements.txt`, `requirements.in` and `pyproject.toml` (`[project] dependencies`). The first
pin found for a distribution wins. Only plain version specifiers are taken (`pandas==2.2.3`,
`scikit-learn>=1.4,<1.6`, with extras); URLs, paths, options (`-r`, `-e`, `--index-url`) and
lines with environment markers are ignored, so the generated file holds nothing but names and
versions. Like every input (input_files.py), a file is read only if it is a bounded regular file inside
that repository, links resolved: a requirements file linked out of it, a FIFO or a device is skipped.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .input_files import InputError, inside, read_file

MAX_BYTES = 1_000_000  # a requirements file larger than this is not read
FILES = ("requirements.txt", "requirements.in")
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_VERSION = r"(?:===|==|~=|!=|<=|>=|<|>)\s*[A-Za-z0-9.*+!_-]+"
_REQUIREMENT = re.compile(
    rf"^(?P<name>{_NAME})\s*(?P<extras>\[\s*{_NAME}(?:\s*,\s*{_NAME})*\s*\])?\s*"
    rf"(?P<spec>{_VERSION}(?:\s*,\s*{_VERSION})*)?\s*$"
)


#: Distribution names of common modules whose import name differs.
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "pillow",
    "yaml": "pyyaml",
    "cv2": "opencv-python",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "google": "google-cloud-storage",
}


#: Namespace packages whose distributions are named after their second component
#: (`flytekitplugins.sqlalchemy` is installed as `flytekitplugins-sqlalchemy`).
NAMESPACE_PACKAGES = frozenset({"flytekitplugins"})


def requirement_module(module: str) -> str:
    """The part of a dotted module name that tells which distribution provides it."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] in NAMESPACE_PACKAGES and len(parts) > 1 else parts[0]


def distribution(module: str) -> str:
    """The distribution to install for a module `requirement_module` returned."""
    return DISTRIBUTIONS.get(module, module.replace(".", "-"))


def normalized(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def find_pins(app_dir: Path) -> dict[str, str]:
    """Normalized distribution name -> its requirement as the app's project writes it."""
    pins: dict[str, str] = {}
    directories = _project_dirs(app_dir)
    for directory in directories:
        for requirement in _requirements_in(directory, root=directories[-1]):
            match = _REQUIREMENT.match(requirement)
            if match is None or not match["spec"]:
                continue
            spec = re.sub(r"\s+", "", match["spec"])
            extras = re.sub(r"\s+", "", match["extras"] or "")
            pins.setdefault(normalized(match["name"]), f"{match['name']}{extras}{spec}")
    return pins


def pinned(distribution: str, pins: dict[str, str]) -> str:
    """The requirement line for a distribution: the project's pin, or the bare name."""
    return pins.get(normalized(distribution), distribution)


def _project_dirs(app_dir: Path) -> list[Path]:
    """The app's directory and its parents up to the repository root (the last item)."""
    start = Path(os.path.realpath(app_dir))
    home = os.path.realpath(os.path.expanduser("~"))
    chain = [start, *start.parents]
    for number, directory in enumerate(chain):
        if os.path.lexists(directory / ".git"):
            if directory == directory.parent or str(directory) == home:
                break  # a dotfiles repository is not the app's project
            return chain[: number + 1]
    return [start]


def _requirements_in(directory: Path, root: Path) -> list[str]:
    lines: list[str] = []
    for name in FILES:
        text = _read(directory / name, root)
        if text is not None:
            lines += [line.split(" #")[0].split("\t#")[0].strip() for line in text.splitlines()]
    text = _read(directory / "pyproject.toml", root)
    if text is not None:
        lines += _pyproject_dependencies(text)
    return [line for line in lines if line and not line.startswith(("#", "-"))]


def _pyproject_dependencies(text: str) -> list[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            return []
    try:
        project = tomllib.loads(text).get("project", {})
    except (tomllib.TOMLDecodeError, ValueError):
        return []
    dependencies = project.get("dependencies", []) if isinstance(project, dict) else []
    return [d.strip() for d in dependencies if isinstance(d, str)] if isinstance(dependencies, list) else []


def _read(path: Path, root: Path) -> str | None:
    """The file's text, if it is a regular file of bounded size in UTF-8 inside `root`, links
    resolved (never a FIFO, a device or a file outside the repository); None otherwise."""
    if not os.path.lexists(path) or not inside(path, root):
        return None
    try:
        return read_file(path, MAX_BYTES, str(path), note=False).decode("utf-8")  # output/up_to_date.py hashes the pins
    except (InputError, UnicodeDecodeError):
        return None
