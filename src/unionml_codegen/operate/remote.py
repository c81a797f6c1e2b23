"""What the cluster commands share: flytekit (imported here, lazily), a FlyteRemote from flytekit's own
configuration, and flyteadmin's answers turned into one-line errors.

Configuration is flytekit's: `--config FILE`, else `FLYTECTL_CONFIG`, else `~/.flyte/config.yaml`, and the
`FLYTE_PLATFORM_URL` / `FLYTE_PLATFORM_INSECURE` variables; the project and domain are where.py's `namespace`
(the flags, the app's `model.remote(...)`, `[tool.unionml-codegen]`, the environment, pyflyte's defaults).

Every call to flyteadmin gets a deadline (`--timeout`, else `UNIONML_FLYTEADMIN_TIMEOUT`, 30 s) and is
retried with exponential backoff when flyteadmin answers UNAVAILABLE, DEADLINE_EXCEEDED,
RESOURCE_EXHAUSTED or ABORTED (`UNIONML_FLYTEADMIN_RETRIES` more attempts, 4; first pause
`UNIONML_FLYTEADMIN_BACKOFF`, 0.5 s, doubling): `AdminCalls`, a client interceptor outside flytekit's
own, whose immediate retries are switched off (`rpc_retries=0`). A retried call may have been applied
the first time (a reply lost on the way back): every command makes its calls so that applying one twice
is harmless (registration and creation by fixed identifiers, ALREADY_EXISTS read as "already there").
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator

import click

from .. import codes
from .project import OperateError, visible
from .where import DOMAIN_HELP, PROJECT_HELP, Namespace, config_note, namespace, unread_note  # noqa: F401 (used beside)

INSTALL_HINT = "install it beside unionml-codegen: pip install 'flytekit>=1.16,<2'"
RETRYABLE = ("UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED")


def _setting(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise OperateError(f"{name}={text!r} is not a number", f"unset {name} or give it a number",
                           codes.INVALID_CLUSTER_CONFIG) from None  # fmt: skip
    if value < 0:
        raise OperateError(f"{name}={text!r} is negative", f"unset {name} or give it a number >= 0",
                           codes.INVALID_CLUSTER_CONFIG)  # fmt: skip
    return value


@dataclass
class CallSettings:
    """How each flyteadmin call is made: deadline (s), retries after the first attempt, first backoff (s)."""

    timeout: float | None = None  # --timeout; else UNIONML_FLYTEADMIN_TIMEOUT, else 30
    retries: int | None = None
    backoff: float | None = None

    def resolved(self) -> "CallSettings":
        return CallSettings(
            self.timeout if self.timeout is not None else _setting("UNIONML_FLYTEADMIN_TIMEOUT", 30.0),
            int(self.retries if self.retries is not None else _setting("UNIONML_FLYTEADMIN_RETRIES", 4)),
            self.backoff if self.backoff is not None else _setting("UNIONML_FLYTEADMIN_BACKOFF", 0.5),
        )


SETTINGS = CallSettings()


def _timeout_option(ctx, param, value):
    SETTINGS.timeout = value
    return value


def cluster_options(command):
    """flytekit's usual options: --config, --project, --domain (their defaults: `namespace`)."""
    command = click.option("-d", "--domain", default=None, help=DOMAIN_HELP)(command)
    command = click.option("-p", "--project", default=None, help=PROJECT_HELP)(command)
    command = click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, expose_value=False,
                           callback=_timeout_option, metavar="SECONDS",
                           help="Deadline of each call to flyteadmin (default: UNIONML_FLYTEADMIN_TIMEOUT, else 30).")(command)  # fmt: skip
    command = click.option("-c", "--config", "config", type=click.Path(exists=True, dir_okay=False), default=None,
                           help="flytekit/flytectl config file (default: FLYTECTL_CONFIG, then ~/.flyte/config.yaml).")(command)  # fmt: skip
    return command


def require_flytekit(command: str) -> None:
    try:
        import flytekit  # noqa: F401
    except ImportError:
        raise OperateError(
            f"`unionml {command}` needs flytekit, which is not installed", INSTALL_HINT, codes.FLYTEKIT_MISSING
        ) from None


@dataclass
class Cluster:
    """A FlyteRemote and the project/domain the command works in."""

    remote: Any
    project: str
    domain: str
    endpoint: str
    where: Namespace | None = None  # where project and domain came from

    @property
    def client(self):
        return self.remote.client


def connect(
    config: str | None, project: str | None, domain: str | None, command: str, generated: Any = None
) -> Cluster:
    """A FlyteRemote in the namespace of `generated` (`namespace`: the flags `project` / `domain` first)."""
    require_flytekit(command)
    where = namespace(generated, project, domain)
    project, domain = where.project, where.domain
    for note in (config_note(generated, config), unread_note(generated, where)):
        if note:
            click.echo(visible(note), err=True)
    from flytekit.configuration import Config
    from flytekit.remote import FlyteRemote

    forget_config_file()  # FLYTECTL_CONFIG as it is now, not as an earlier command in this process found it
    try:
        cfg = Config.auto(config_file=config)
    except Exception as exc:
        raise OperateError(
            f"cannot read the flytekit configuration {config or ''}: {_first_line(exc)}".replace("  ", " "),
            "fix the file, or point --config (FLYTECTL_CONFIG) at another",
            codes.INVALID_CLUSTER_CONFIG,
        ) from None
    settings = SETTINGS.resolved()
    cfg = cfg.with_params(platform=dataclasses.replace(cfg.platform, rpc_retries=0))  # AdminCalls retries
    remote = FlyteRemote(cfg, default_project=project, default_domain=domain)
    _install(remote.client, admin_calls(settings))
    return Cluster(remote, project, domain, cfg.platform.endpoint, where)


def _install(client, interceptor) -> None:
    """Put `interceptor` outside flytekit's channel (its auth, deadline and exception interceptors) and
    rebuild the client's stubs on it (flytekit 1.16's RawSynchronousFlyteClient keeps them in attributes)."""
    import grpc
    from flyteidl.service import admin_pb2_grpc, dataproxy_pb2_grpc, signal_pb2_grpc

    channel = grpc.intercept_channel(client._channel, interceptor)
    client._channel = channel
    client._stub = admin_pb2_grpc.AdminServiceStub(channel)
    client._signal = signal_pb2_grpc.SignalServiceStub(channel)
    client._dataproxy_stub = dataproxy_pb2_grpc.DataProxyServiceStub(channel)


def admin_calls(settings: CallSettings) -> AdminCalls:
    import grpc

    kind = type("AdminCallsInterceptor", (AdminCalls, grpc.UnaryUnaryClientInterceptor), {})
    return kind(settings)


def rpc_code(exc: BaseException) -> str | None:
    """The gRPC status code name of an error from flytekit's client (raw, or wrapped by flytekit)."""
    import grpc

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
            code = exc.code()
            return code.name if code is not None else None
        exc = exc.__cause__ or exc.__context__
    return None


def _rpc_of(exc: BaseException):
    import grpc

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, grpc.RpcError) and hasattr(exc, "code"):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


class AdminCalls:
    """A gRPC client interceptor (grpc.UnaryUnaryClientInterceptor, made by `admin_calls`): a deadline on every
    unary call, and retries with exponential backoff (and jitter) for the retryable codes. The error that ends
    the retries is raised as flytekit raised it, with `umg_method`, `umg_attempts` and `umg_timeout` set on it
    for the message (`admin_error`)."""

    def __init__(self, settings: CallSettings):
        self.settings = settings
        self.calls = 0
        self._lock = threading.Lock()

    def intercept_unary_unary(self, continuation, client_call_details, request):
        from flytekit.clients.grpc_utils.auth_interceptor import _ClientCallDetails

        timeout = client_call_details.timeout
        if timeout is None:
            timeout = self.settings.timeout
        details = _ClientCallDetails(client_call_details.method, timeout, client_call_details.metadata,
                                     client_call_details.credentials)  # fmt: skip
        method = str(client_call_details.method).rsplit("/", 1)[-1]
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.calls += 1
            error = None
            try:
                answer = continuation(details, request)
                error = answer.exception()
                if error is None:
                    return answer
            except Exception as exc:
                error = exc
            code = rpc_code(error)
            if code not in RETRYABLE or attempt > self.settings.retries:
                for name, value in (("umg_method", method), ("umg_attempts", attempt), ("umg_timeout", timeout)):
                    try:
                        setattr(error, name, value)
                    except AttributeError:
                        pass
                raise error
            pause = self.settings.backoff * (2 ** (attempt - 1))
            time.sleep(min(pause, 8.0) * (0.5 + random.random() / 2))


@contextlib.contextmanager
def admin_errors(cluster: Cluster) -> Iterator[None]:
    """flyteadmin's errors (and an unreachable flyteadmin) as one-line OperateErrors naming the real cause."""
    import grpc
    from flytekit.exceptions import system as system_exceptions
    from flytekit.exceptions import user as user_exceptions

    try:
        yield
    except (grpc.RpcError, user_exceptions.FlyteUserException, system_exceptions.FlyteSystemException) as exc:
        raise admin_error(cluster, exc) from None


def admin_error(cluster: Cluster, exc: BaseException) -> OperateError:
    """One line for an error of a call to flyteadmin: what failed, why, and what to do."""
    rpc = _rpc_of(exc)
    if rpc is None:
        return OperateError(f"flyteadmin at {cluster.endpoint}: {_first_line(exc)}", code=codes.FLYTEADMIN_REFUSED)
    code = rpc_code(rpc)
    details = _first_line_of(rpc.details() if hasattr(rpc, "details") else str(rpc))
    method = getattr(exc, "umg_method", None) or getattr(rpc, "umg_method", None) or "a call"
    attempts = getattr(exc, "umg_attempts", None) or getattr(rpc, "umg_attempts", None) or 1
    timeout = getattr(exc, "umg_timeout", None) or getattr(rpc, "umg_timeout", None)
    tried = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if code == "UNAVAILABLE":
        return OperateError(
            f"cannot reach flyteadmin at {cluster.endpoint} ({details}; {tried})",
            "check the endpoint in your Flyte config (--config, FLYTECTL_CONFIG) or FLYTE_PLATFORM_URL",
            codes.FLYTEADMIN_UNREACHABLE,
        )
    if code == "DEADLINE_EXCEEDED":
        within = f" within {timeout:g} s" if timeout else ""
        return OperateError(
            f"flyteadmin at {cluster.endpoint} did not answer {method}{within} ({tried})",
            "it is reachable but slow or stuck: rerun later, or allow more time with --timeout SECONDS "
            "(UNIONML_FLYTEADMIN_TIMEOUT)",
            codes.FLYTEADMIN_TIMEOUT,
        )
    if code == "NOT_FOUND":
        return OperateError(
            f"flyteadmin at {cluster.endpoint} has no such entity ({method}: {details})",
            "check the name, and the --project/--domain it is in (FLYTE_DEFAULT_PROJECT, FLYTE_DEFAULT_DOMAIN)",
            codes.NOT_ON_CLUSTER,
        )
    hint = {
        "UNAUTHENTICATED": "log in as your Flyte config says (its admin.authType), or check its client credentials",
        "PERMISSION_DENIED": "ask for access to the project and domain, or use another (--project, --domain)",
        "INVALID_ARGUMENT": "the project may not be what this unionml-codegen generates: regenerate it and rerun",
    }.get(code or "", "rerun later; if it persists, the message above is flyteadmin's own")
    return OperateError(f"flyteadmin at {cluster.endpoint} refused {method} ({code or 'error'}): {details}", hint,
                        codes.FLYTEADMIN_REFUSED)  # fmt: skip


def _first_line_of(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    line = lines[0] if lines else "no details"
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return _first_line_of(text) if text else type(exc).__name__


# --------------------------------------------------------------------------------------------------
# Reading flyteadmin


def list_all(list_page, *, limit: int | None = None, **kwargs) -> list:
    """Every row of a paginated flytekit list call (or the first `limit`)."""
    rows: list = []
    token = ""
    while True:
        page_size = 100 if limit is None else min(100, limit - len(rows))
        page, token = list_page(limit=page_size, token=token, **kwargs)
        rows.extend(page)
        if not token or (limit is not None and len(rows) >= limit):
            return rows


def launch_plan_versions(cluster: Cluster, name: str) -> list:
    """Every registered version of launch plan `name`, newest first."""
    from flytekit.models.admin.common import Sort
    from flytekit.models.common import NamedEntityIdentifier

    return list_all(
        cluster.client.list_launch_plans_paginated,
        identifier=NamedEntityIdentifier(cluster.project, cluster.domain, name),
        sort_by=Sort("created_at", Sort.Direction.DESCENDING),
    )


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """flytekit gives naive UTC datetimes for protobuf timestamps; an unset one is the epoch."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return None if value.year <= 1970 else value


def forget_config_file() -> None:
    """flytekit caches the config file it found (`get_config_file`, an lru_cache of FLYTECTL_CONFIG's lookup):
    forgotten, so the file is the one the environment names now."""
    from flytekit.configuration import file

    cached = getattr(file.get_config_file, "cache_clear", None)
    if cached is not None:
        cached()
