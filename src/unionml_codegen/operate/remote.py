"""What the cluster commands share: flytekit (imported here, lazily), a FlyteRemote from flytekit's own
configuration, and flyteadmin's answers turned into one-line errors.

Configuration is flytekit's: `--config FILE`, else `FLYTECTL_CONFIG`, else `~/.flyte/config.yaml`, and the
`FLYTE_PLATFORM_URL` / `FLYTE_PLATFORM_INSECURE` variables; `--project` / `--domain` default to
`FLYTE_DEFAULT_PROJECT` / `FLYTE_DEFAULT_DOMAIN`, else flytesnacks / development, like pyflyte.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterator

import click

from .project import OperateError

INSTALL_HINT = "install it beside unionml-codegen: pip install 'flytekit>=1.16,<2'"
DEFAULT_PROJECT = "flytesnacks"
DEFAULT_DOMAIN = "development"


def cluster_options(command):
    """flytekit's usual options: --config, --project, --domain."""
    command = click.option("-d", "--domain", envvar="FLYTE_DEFAULT_DOMAIN", default=DEFAULT_DOMAIN,
                           show_default=True, help="Flyte domain.")(command)  # fmt: skip
    command = click.option("-p", "--project", envvar="FLYTE_DEFAULT_PROJECT", default=DEFAULT_PROJECT,
                           show_default=True, help="Flyte project.")(command)  # fmt: skip
    command = click.option("-c", "--config", "config", type=click.Path(exists=True, dir_okay=False), default=None,
                           help="flytekit/flytectl config file (default: FLYTECTL_CONFIG, then ~/.flyte/config.yaml).")(command)  # fmt: skip
    return command


def require_flytekit(command: str) -> None:
    try:
        import flytekit  # noqa: F401
    except ImportError:
        raise OperateError(f"`unionml {command}` needs flytekit, which is not installed", INSTALL_HINT) from None


@dataclass
class Cluster:
    """A FlyteRemote and the project/domain the command works in."""

    remote: Any
    project: str
    domain: str
    endpoint: str

    @property
    def client(self):
        return self.remote.client


def connect(config: str | None, project: str, domain: str, command: str) -> Cluster:
    require_flytekit(command)
    from flytekit.configuration import Config
    from flytekit.remote import FlyteRemote

    try:
        cfg = Config.auto(config_file=config)
    except Exception as exc:
        raise OperateError(f"cannot read the flytekit configuration {config or ''}: {exc}".replace("  ", " ")) from None
    remote = FlyteRemote(cfg, default_project=project, default_domain=domain)
    return Cluster(remote, project, domain, cfg.platform.endpoint)


@contextlib.contextmanager
def admin_errors(cluster: Cluster) -> Iterator[None]:
    """flyteadmin's errors (and an unreachable flyteadmin) as one-line OperateErrors."""
    import grpc
    from flytekit.exceptions import system as system_exceptions
    from flytekit.exceptions import user as user_exceptions

    try:
        yield
    except grpc.RpcError as exc:
        raise _rpc_error(cluster, exc) from None
    except (user_exceptions.FlyteUserException, system_exceptions.FlyteSystemException) as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, grpc.RpcError):  # flytekit wraps flyteadmin's answer: say what flyteadmin said
            raise _rpc_error(cluster, cause) from None
        if isinstance(exc, user_exceptions.FlyteEntityNotExistException):
            raise OperateError(f"flyteadmin at {cluster.endpoint}: not found: {_first_line(exc)}") from None
        raise OperateError(f"flyteadmin at {cluster.endpoint}: {_first_line(exc)}") from None


def _rpc_error(cluster: Cluster, exc) -> OperateError:
    import grpc

    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return OperateError(
            f"cannot reach flyteadmin at {cluster.endpoint} ({details})",
            "check the endpoint in your Flyte config (--config, FLYTECTL_CONFIG) or FLYTE_PLATFORM_URL",
        )
    name = code.name if code is not None else "error"
    return OperateError(f"flyteadmin at {cluster.endpoint} refused the request ({name}): {details}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
