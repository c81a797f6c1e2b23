"""Where the commands that operate a generated project go: the Flyte project and domain (`namespace`).

Highest first: `-p/--project` and `-d/--domain`; the app's `model.remote(project=..., domain=...)` (the
manifest's `remote`, verified to be what the app says now before any command reads it); `project` / `domain` in
`[tool.unionml-codegen]` (the manifest's `options`); `FLYTE_DEFAULT_PROJECT` / `FLYTE_DEFAULT_DOMAIN`;
flytesnacks / development, pyflyte's defaults. Each of the two is chosen on its own (`-d` alone keeps the app's
project). The variables are defaults, as their names say: unionml itself never reads them, and the app's
`model.remote(...)` is where unionml 0.2.1 deploys.

The app's `model.remote(config_file=...)` is recorded but never read: a Flyte config names the endpoint the
credentials go to and can run a command (`authType: ExternalCommand`), and a pull request can change the app,
so a config is read only when the user names it (`--config`, `FLYTECTL_CONFIG`); a command says so on stderr
(`config_note`). A project or domain the app gives as an expression the generator could not read
(read/remote_settings.py) is noted when nothing but the environment or the default chose one (`unread_note`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

DEFAULT_PROJECT = "flytesnacks"
DEFAULT_DOMAIN = "development"


#: The help of -p/--project and -d/--domain: what they override (`namespace`).
PROJECT_HELP = ("Flyte project (default: the app's model.remote(project=...), else project in [tool.unionml-codegen], "
                "else FLYTE_DEFAULT_PROJECT, else flytesnacks).")  # fmt: skip
DOMAIN_HELP = ("Flyte domain (default: the app's model.remote(domain=...), else domain in [tool.unionml-codegen], "
               "else FLYTE_DEFAULT_DOMAIN, else development).")  # fmt: skip


@dataclass(frozen=True)
class Namespace:
    """The Flyte project and domain a command works in, and where each came from (for its messages)."""

    project: str
    domain: str
    project_from: str
    domain_from: str

    def describe(self) -> str:
        """`project from the app's model.remote(...), domain from -d/--domain`."""
        if self.project_from == self.domain_from:
            text = f"project and domain from {self.project_from}"
        else:
            text = f"project from {self.project_from}, domain from {self.domain_from}"
        return text.replace("from the default", "by default")

    def json(self) -> dict[str, str]:
        return {"project": self.project, "domain": self.domain, "project_from": self.project_from,
                "domain_from": self.domain_from}  # fmt: skip


def namespace(generated: Any, project: str | None, domain: str | None) -> Namespace:
    """Where a command on the generated project goes: the flags, the app's model.remote(...), [tool.unionml-codegen],
    FLYTE_DEFAULT_PROJECT / FLYTE_DEFAULT_DOMAIN, pyflyte's defaults; the first that says (module doc)."""
    app = getattr(generated, "remote", None) or {}
    configured = getattr(generated, "configured", None) or {}

    def pick(name: str, flag: str | None, variable: str, default: str) -> tuple[str, str]:
        for value, origin in (
            (flag, f"-{name[0]}/--{name}"),
            (app.get(name), "the app's model.remote(...)"),
            (configured.get(name), "[tool.unionml-codegen]"),
            (os.environ.get(variable), variable),
        ):
            if isinstance(value, str) and value:
                return value, origin
        return default, "the default"

    project_value, project_from = pick("project", project, "FLYTE_DEFAULT_PROJECT", DEFAULT_PROJECT)
    domain_value, domain_from = pick("domain", domain, "FLYTE_DEFAULT_DOMAIN", DEFAULT_DOMAIN)
    return Namespace(project_value, domain_value, project_from, domain_from)


def config_note(generated: Any, config: str | None) -> str | None:
    """The note a cluster command prints when the app's model.remote(config_file=...) names a config it does not
    read (module doc), or None."""
    named = (getattr(generated, "remote", None) or {}).get("config_file")
    if not named or config is not None:
        return None
    variable = os.environ.get("FLYTECTL_CONFIG")
    if variable and os.path.expanduser(variable) == os.path.expanduser(named):
        return None
    return (f"note: the app's model.remote(config_file={named!r}) is not read (a Flyte config names the endpoint "
            f"credentials go to, and can run a command): pass --config {named} to use it")  # fmt: skip


def unread_note(generated: Any, where: Namespace) -> str | None:
    """The note a command prints when the app's model.remote(...) gives a project or domain the generator could
    not read (read/remote_settings.py) and nothing but the environment or the default chose instead, or None."""
    unread = (getattr(generated, "remote", None) or {}).get("unread") or []
    guessed = [name for name in unread if getattr(where, f"{name}_from") in
               ("the default", "FLYTE_DEFAULT_PROJECT", "FLYTE_DEFAULT_DOMAIN")]  # fmt: skip
    if not guessed:
        return None
    shown = ", ".join(f"{name} {getattr(where, name)} (from {getattr(where, f'{name}_from')})" for name in guessed)
    flags = " and ".join(f"-{name[0]}/--{name}" for name in guessed)
    return (f"note: the app's model.remote(...) gives {' and '.join(guessed)} as an expression the generator cannot "
            f"read; using {shown}: pass {flags} if unionml would deploy elsewhere")  # fmt: skip
