"""Read `model.remote(...)`: the Flyte project, domain and config file the app deploys with.

unionml 0.2.1's `Model.remote(registry, image_name, dockerfile, patch_destination_dir, config_file, project,
domain)` stores every argument on the model, so each call replaces what an earlier one set (a later
`model.remote(dockerfile=...)` forgets the project). `remote_deploy` and every `remote_*` call then use
`project` and `domain` as the FlyteRemote's defaults and `config_file` as its configuration.

The generator records what the app's last call at the module's top level says (`RemoteSettings`), for the
operate commands to deploy where unionml would (docs/operating.md, "Where the commands go"). A value it cannot
read (an expression, a call in a block that may not run) is a warning, not an error: the project is still
generated, and the commands take the project and domain from their flags, `[tool.unionml-codegen]` or the
defaults. A call inside `if __name__ == "__main__":` or a function is not read: it does not run when unionml
imports the app to deploy it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from .. import codes
from ..diagnostics import Diagnostics, Position
from .bindings import Bindings
from ..spec import REMOTE_SETTINGS as READ, RemoteSettings
from .values import NotStatic

#: unionml 0.2.1's Model.remote parameters, in order.
PARAMETERS = ("registry", "image_name", "dockerfile", "patch_destination_dir", "config_file", "project", "domain")
#: Contexts (read/walker.py) whose calls do not run when unionml imports the app to deploy it: not read, silently.
NOT_RUN_AT_IMPORT = ("inside `if __name__ == '__main__'`", "inside a function")

_UNREAD_HINT = (
    "write it as a string literal (or a module-level constant) to have the operate commands deploy there; else "
    "they take -p/--project and -d/--domain, project/domain in [tool.unionml-codegen], FLYTE_DEFAULT_PROJECT/"
    "FLYTE_DEFAULT_DOMAIN, or flytesnacks/development"
)


@dataclass(frozen=True)
class RemoteCall:
    """One model's last `model.remote(...)`: the settings it gives as constants, and what it gives unread."""

    model: str  # the model's variable
    position: Position
    values: dict[str, str] = field(default_factory=dict)  # project / domain / config_file, when constants
    positions: dict[str, Position] = field(default_factory=dict)
    unread: tuple[str, ...] = ()  # project / domain given as something the generator cannot read


def read_remote(bindings: Bindings, model: str, call: cst.Call, context: str | None) -> RemoteCall | None:
    """The call `model.remote(...)`, or None when it is not read (a `__main__` block, bad arguments: reported)."""
    diagnostics = bindings.diagnostics
    shown = f"{model}.remote(...)"
    if context is not None:
        if not context.startswith(NOT_RUN_AT_IMPORT):
            diagnostics.warning(
                codes.REMOTE_SETTING_UNREAD,
                bindings.pos(call),
                f"{shown} is {context}: the generator does not record where it deploys",
                "call it at the module's top level, as unionml runs it when it imports the app; " + _UNREAD_HINT,
            )
        return None
    given: dict[str, cst.Arg] = {}
    for index, arg in enumerate(call.args):
        if arg.star:
            diagnostics.warning(
                codes.REMOTE_SETTING_UNREAD,
                bindings.pos(arg),
                f"`{arg.star}` arguments to {shown} are not read: the generator does not record where it deploys",
                "pass project= and domain= by name; " + _UNREAD_HINT,
            )
            return None
        name = (
            arg.keyword.value if arg.keyword is not None else (PARAMETERS[index] if index < len(PARAMETERS) else None)
        )
        if name not in PARAMETERS:
            diagnostics.error(
                codes.INVALID_UNIONML_ARGUMENTS,
                bindings.pos(arg.keyword or arg),
                f"{shown} has no parameter {name!r}" if name else f"{shown} takes at most {len(PARAMETERS)} arguments",
                f"unionml 0.2.1's Model.remote takes {', '.join(PARAMETERS)}",
            )
            return None
        given[name] = arg
    values: dict[str, str] = {}
    positions: dict[str, Position] = {}
    unread: list[str] = []
    for name in READ:
        arg = given.get(name)
        if arg is None or (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
            continue
        positions[name] = bindings.pos(arg.value)
        try:
            value = bindings.evaluator().evaluate(arg.value)
        except NotStatic as exc:
            if name != "config_file":  # the operate commands never read the app's config file (operate/remote.py)
                unread.append(name)
                diagnostics.warning(
                    codes.REMOTE_SETTING_UNREAD,
                    bindings.pos(arg.value),
                    f"{shown}: the generator cannot read {name}= ({exc.reason}), so the project does not record "
                    f"the {name} unionml would deploy to",
                    _UNREAD_HINT,
                )
            continue
        if not isinstance(value, str) or not value.strip() or value != value.strip() or not value.isprintable():
            diagnostics.warning(
                codes.REMOTE_SETTING_UNREAD,
                bindings.pos(arg.value),
                f"{shown}: {name}={value!r} is not a {('file name' if name == 'config_file' else 'Flyte ' + name)}",
                "give a non-empty string without spaces around it; " + _UNREAD_HINT,
            )
            if name != "config_file":
                unread.append(name)
            continue
        values[name] = value
    return RemoteCall(model, bindings.pos(call), values, positions, tuple(unread))


def app_remote(calls: list[RemoteCall], diagnostics: Diagnostics) -> RemoteSettings | None:
    """The app's settings from each model's last call: one project and one domain for the generated project,
    which registers every model together (two models naming different ones is an error)."""
    if not calls:
        return None
    chosen: dict[str, tuple[str, RemoteCall]] = {}
    unread: list[str] = []
    for call in calls:
        for name in READ:
            if name in call.values:
                value = call.values[name]
                if name in chosen and chosen[name][0] != value:
                    first = chosen[name][1]
                    diagnostics.error(
                        codes.REMOTE_SETTINGS_CONFLICT,
                        call.positions[name],
                        f"{call.model}.remote(...) gives {name}={value!r}, and {first.model}.remote(...) (line "
                        f"{first.position.line}) {name}={chosen[name][0]!r}: the generated project registers every "
                        "model of the app in one Flyte project and domain",
                        f"give both models the same {name}, or generate each model's app into a project of its own",
                    )
                    continue
                chosen.setdefault(name, (value, call))
        unread += [name for name in call.unread if name not in unread]
    unread = [name for name in unread if name not in chosen]
    settings = RemoteSettings(
        project=chosen["project"][0] if "project" in chosen else None,
        domain=chosen["domain"][0] if "domain" in chosen else None,
        config_file=chosen["config_file"][0] if "config_file" in chosen else None,
        unread=tuple(name for name in READ if name in unread),
        positions={name: call.positions[name] for name, (_, call) in chosen.items()},
    )
    return settings if settings.record() else None


def check_configured(remote: RemoteSettings | None, configured: dict[str, str | None], where: str,
                     diagnostics: Diagnostics) -> None:  # fmt: skip
    """A warning where `[tool.unionml-codegen]` (`configured`: project, domain) names another project or domain
    than the app's `model.remote(...)`: the app's is the one the operate commands use."""
    if remote is None:
        return
    for name in ("project", "domain"):
        ours, theirs = getattr(remote, name), configured.get(name)
        if ours is not None and theirs is not None and ours != theirs:
            diagnostics.warning(
                codes.REMOTE_SETTING_OVERRIDDEN,
                remote.positions[name],
                f"model.remote(...) gives {name}={ours!r}, and {where} {name} = {theirs!r}: the operate commands use "
                f"the app's {ours!r}",
                f"remove {name} from {where}, or make them agree; -{name[0]}/--{name} overrides both for one command",
            )
