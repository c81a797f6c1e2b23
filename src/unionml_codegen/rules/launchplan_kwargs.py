"""`launchplan_kwargs` of a schedule: which LaunchPlan settings it may carry, and how they are written.

unionml 0.2.1 forwards `launchplan_kwargs` to its own `Schedule` and crashes on any of them. Here
each setting a scheduled launch plan can use is given as plain data (so it can be read without
running the app) and written as the flytekit object it stands for:

| key | value | becomes |
|---|---|---|
| labels, annotations | {str: str} | `Labels({...})`, `Annotations({...})` |
| max_parallelism | int, 1 to 2**31 - 1 | `max_parallelism=N` |
| notifications | {"on_failure"/"on_success"/"on_timeout"/"on_abort": [emails]} | `[Email(phases=[...], ...)]` |
| service_account, iam_role | str | `SecurityContext(run_as=Identity(...))` |
| security_context | {"service_account": str, "iam_role": str} | the same |
| raw_output_prefix | str | `RawOutputDataConfig(output_location_prefix=...)` |
| overwrite_cache | bool | `overwrite_cache=...` |
| max_concurrency | int, 1 to 2**31 - 1 | `ConcurrencyPolicy(max_concurrency=N)` |
| fixed_inputs | {input: value} | merged into the plan's fixed inputs, as unionml does |
"""

from __future__ import annotations

from typing import Any

from ..names import Imports, literal

INT32_MAX = 2**31 - 1  # max_parallelism and ConcurrencyPolicy.max are int32 in flyteidl
PHASES = {"on_failure": "FAILED", "on_success": "SUCCEEDED", "on_timeout": "TIMED_OUT", "on_abort": "ABORTED"}
KNOWN = (
    "labels", "annotations", "max_parallelism", "notifications", "service_account", "iam_role",
    "security_context", "raw_output_prefix", "overwrite_cache", "max_concurrency", "fixed_inputs",
)  # fmt: skip


def problems(kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    """(message, hint) for each setting that is unknown or has the wrong shape."""
    found = []
    for key, value in kwargs.items():
        if key not in KNOWN:
            found.append((f"launchplan_kwargs has no setting {key!r}", f"known settings: {', '.join(KNOWN)}"))
        elif key in ("labels", "annotations") and not _str_map(value):
            found.append((f"launchplan_kwargs[{key!r}] must map strings to strings", 'e.g. {"team": "ml"}'))
        elif key in ("max_parallelism", "max_concurrency") and not (type(value) is int and 1 <= value <= INT32_MAX):
            found.append((f"launchplan_kwargs[{key!r}] must be a whole number from 1 to 2**31 - 1", "e.g. 4"))
        elif key == "notifications" and not _notifications(value):
            found.append(
                ("launchplan_kwargs['notifications'] must map phases to lists of e-mail addresses",
                 f"phases: {', '.join(PHASES)}; e.g. {{\"on_failure\": [\"ml-team@example.com\"]}}")
            )  # fmt: skip
        elif key in ("service_account", "iam_role", "raw_output_prefix") and not (isinstance(value, str) and value):
            found.append((f"launchplan_kwargs[{key!r}] must be a non-empty string", ""))
        elif key == "security_context" and not (
            _str_map(value) and value and set(value) <= {"service_account", "iam_role"}
        ):
            found.append(
                ("launchplan_kwargs['security_context'] must give 'service_account' and/or 'iam_role'",
                 '{"service_account": "ml-runner"}')
            )  # fmt: skip
        elif key == "overwrite_cache" and not isinstance(value, bool):
            found.append(("launchplan_kwargs['overwrite_cache'] must be True or False", ""))
        elif key == "fixed_inputs" and not (isinstance(value, dict) and all(isinstance(k, str) for k in value)):
            found.append(("launchplan_kwargs['fixed_inputs'] must map input names to values", ""))
    return found


def arguments(kwargs: dict[str, Any], imports: Imports) -> list[str]:
    """`LaunchPlan.get_or_create` keyword arguments for valid settings, in a fixed order."""
    result = []
    for key in ("labels", "annotations"):
        if key in kwargs:
            name = key.capitalize()
            imports.add_from("flytekit", name)
            result.append(f"{key}={name}({literal(dict(sorted(kwargs[key].items())))})")
    if "max_parallelism" in kwargs:
        result.append(f"max_parallelism={kwargs['max_parallelism']}")
    if "notifications" in kwargs:
        imports.add_from("flytekit", "Email")
        imports.add_from("flytekit", "WorkflowExecutionPhase")
        emails = [
            f"Email(phases=[WorkflowExecutionPhase.{PHASES[phase]}], recipients_email={literal(list(recipients))})"
            for phase, recipients in sorted(
                kwargs["notifications"].items(), key=lambda item: list(PHASES).index(item[0])
            )
        ]
        result.append(f"notifications=[{', '.join(emails)}]")
    identity = {**kwargs.get("security_context", {})}
    for key in ("service_account", "iam_role"):
        if key in kwargs:
            identity[key] = kwargs[key]
    if identity:
        imports.add_from("flytekit", "SecurityContext")
        imports.add_from("flytekit.models.security", "Identity")
        parts = []
        if "iam_role" in identity:
            parts.append(f"iam_role={literal(identity['iam_role'])}")
        if "service_account" in identity:
            parts.append(f"k8s_service_account={literal(identity['service_account'])}")
        result.append(f"security_context=SecurityContext(run_as=Identity({', '.join(parts)}))")
    if "raw_output_prefix" in kwargs:
        imports.add_from("flytekit.models.common", "RawOutputDataConfig")
        result.append(
            f"raw_output_data_config=RawOutputDataConfig(output_location_prefix={literal(kwargs['raw_output_prefix'])})"
        )
    if "overwrite_cache" in kwargs:
        result.append(f"overwrite_cache={kwargs['overwrite_cache']}")
    if "max_concurrency" in kwargs:
        imports.add_from("flytekit.models.concurrency", "ConcurrencyPolicy")
        result.append(f"concurrency=ConcurrencyPolicy(max_concurrency={kwargs['max_concurrency']})")
    return result


def _str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _notifications(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(
            phase in PHASES and isinstance(recipients, (list, tuple)) and recipients
            and all(isinstance(r, str) and "@" in r for r in recipients)
            for phase, recipients in value.items()
        )
    )  # fmt: skip
