"""Test support: package a Flyte project with pyflyte, decode it, and check it like flyteadmin would.

Facts this module relies on (checked against flytekit 1.16.31 / flyteidl 1.16.8 and the flyteadmin
source at tag v1.16.8 of flyteorg/flyte):

* ``pyflyte --pkgs PKG package`` writes a flat gzip tarball of serialized entities
  (flytekit/tools/serialize_helpers.py ``persist_registrable_entities``):
  ``<i>_<name>_1.pb`` = ``flyteidl.admin.task_pb2.TaskSpec``,
  ``<i>_<name>_2.pb`` = ``flyteidl.admin.workflow_pb2.WorkflowSpec``,
  ``<i>_<name>_3.pb`` = ``flyteidl.admin.launch_plan_pb2.LaunchPlan`` (the whole LaunchPlan with ``id``,
  ``spec`` and an empty ``closure``, not a bare LaunchPlanSpec). Every workflow also gets a default
  launch plan named like the workflow.
* ``CronSchedule(schedule=...)`` is written as ``spec.entity_metadata.schedule.cron_schedule.schedule``
  (offset in ``cron_schedule.offset``); the deprecated ``cron_expression`` field is refused by flytekit 1.16
  but older projects may carry it. ``FixedRate`` is written as ``schedule.rate`` with ``value`` and
  ``unit`` (MINUTE / HOUR / DAY; whole days first, then whole hours, then minutes).
* An input typed ``dict`` (or a dataclass) is a ``scalar.binary`` literal with tag ``"msgpack"``;
  ``dict[str, int]`` is a ``map`` literal; ``datetime.date`` is typed ``simple: DATETIME`` exactly like
  ``datetime`` (so flyteadmin cannot tell them apart), ``Optional[datetime]`` is a ``union_type``.
"""

from __future__ import annotations

import dataclasses
import datetime
import importlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Mapping, NamedTuple
from zoneinfo import ZoneInfo

from flyteidl.admin import launch_plan_pb2, schedule_pb2, task_pb2, workflow_pb2
from flyteidl.core import literals_pb2, types_pb2
from google.protobuf import json_format, text_format

__all__ = [
    "DefaultInput",
    "Entities",
    "LaunchPlanInfo",
    "Rate",
    "describe_launch_plan",
    "flyteadmin_problems",
    "literal_to_python",
    "load_entities",
    "package",
    "robfig_parse_standard_error",
]

DEFAULT_IMAGE = "ghcr.io/example/app:v1"


# --------------------------------------------------------------------------------------------------
# Packaging
# --------------------------------------------------------------------------------------------------


def _pyflyte() -> Path:
    exe = Path(sys.executable).parent / "pyflyte"
    if not exe.exists():
        raise AssertionError(f"pyflyte not found next to the running interpreter: {exe}")
    return exe


def package(
    project_dir: Path,
    pkg: str,
    image: str = DEFAULT_IMAGE,
    output: Path | None = None,
    *,
    timeout: float = 600,
) -> Path:
    """Run ``pyflyte --pkgs PKG package --image IMAGE -o OUTPUT --force`` in ``project_dir``.

    Returns the path of the tarball. Without ``output`` the tarball goes into a fresh temporary
    directory (outside ``project_dir``) that the caller owns and may delete. Raises AssertionError,
    with pyflyte's stdout and stderr, if pyflyte fails.
    """
    project_dir = Path(project_dir).resolve()
    if output is None:
        output = Path(tempfile.mkdtemp(prefix="flyte-package-")) / f"{pkg}.tgz"
    else:
        output = Path(output).resolve()
        output.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(_pyflyte()),
        "--pkgs",
        pkg,
        "package",
        "--image",
        image,
        "-o",
        str(output),
        "--force",
    ]
    env = dict(os.environ)
    # pyflyte imports the package; do not leave __pycache__ directories in the project.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        subprocess.run(
            cmd,
            cwd=project_dir,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.CalledProcessError as exc:
        raise AssertionError(
            f"pyflyte package failed with exit code {exc.returncode}\n"
            f"command: {' '.join(cmd)}\ncwd: {project_dir}\n"
            f"--- stdout ---\n{exc.stdout}\n--- stderr ---\n{exc.stderr}"
        ) from None
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"pyflyte package timed out after {timeout} s\ncommand: {' '.join(cmd)}\ncwd: {project_dir}\n"
            f"--- stdout ---\n{exc.stdout}\n--- stderr ---\n{exc.stderr}"
        ) from None
    if not output.is_file():
        raise AssertionError(f"pyflyte package succeeded but wrote no tarball at {output}")
    return output


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Entities:
    """The entities of a pyflyte package, keyed by entity name (``id.name``)."""

    tasks: dict[str, task_pb2.TaskSpec]
    workflows: dict[str, workflow_pb2.WorkflowSpec]
    launch_plans: dict[str, launch_plan_pb2.LaunchPlan]


_PB_NAME = re.compile(r"^\d+_(?P<name>.+)_(?P<kind>[123])\.pb$")


def load_entities(tgz: Path) -> Entities:
    """Decode every ``*_1.pb`` / ``*_2.pb`` / ``*_3.pb`` in a ``pyflyte package`` tarball."""
    tasks: dict[str, task_pb2.TaskSpec] = {}
    workflows: dict[str, workflow_pb2.WorkflowSpec] = {}
    launch_plans: dict[str, launch_plan_pb2.LaunchPlan] = {}
    with tarfile.open(tgz, "r:*") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            match = _PB_NAME.match(Path(member.name).name)
            if match is None:
                continue
            fh = tar.extractfile(member)
            assert fh is not None
            data = fh.read()
            kind = match["kind"]
            if kind == "1":
                msg = task_pb2.TaskSpec.FromString(data)
                name, target = msg.template.id.name, tasks
            elif kind == "2":
                msg = workflow_pb2.WorkflowSpec.FromString(data)
                name, target = msg.template.id.name, workflows
            else:
                msg = launch_plan_pb2.LaunchPlan.FromString(data)
                name, target = msg.id.name, launch_plans
            if name in target:
                raise AssertionError(f"{tgz}: two entities named {name!r} ({member.name})")
            target[name] = msg
    return Entities(tasks=tasks, workflows=workflows, launch_plans=launch_plans)


# --------------------------------------------------------------------------------------------------
# Literals
# --------------------------------------------------------------------------------------------------


def literal_to_python(lit: literals_pb2.Literal) -> Any:
    """Decode a flyteidl Literal into a plain Python value (see module docstring for encodings)."""
    kind = lit.WhichOneof("value")
    if kind == "scalar":
        return _scalar_to_python(lit.scalar)
    if kind == "collection":
        return [literal_to_python(x) for x in lit.collection.literals]
    if kind == "map":
        return {k: literal_to_python(v) for k, v in lit.map.literals.items()}
    if kind == "offloaded_metadata":
        return lit.offloaded_metadata.uri
    if kind is None:
        return None
    raise ValueError(f"cannot decode literal of kind {kind!r}")


def _scalar_to_python(scalar: literals_pb2.Scalar) -> Any:
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        prim = scalar.primitive
        pkind = prim.WhichOneof("value")
        if pkind == "integer":
            return prim.integer
        if pkind == "float_value":
            return prim.float_value
        if pkind == "string_value":
            return prim.string_value
        if pkind == "boolean":
            return prim.boolean
        if pkind == "datetime":
            # Same as flytekit: a Timestamp is a UTC instant.
            return prim.datetime.ToDatetime(tzinfo=datetime.timezone.utc)
        if pkind == "duration":
            return prim.duration.ToTimedelta()
        raise ValueError(f"cannot decode primitive of kind {pkind!r}")
    if kind == "none_type" or kind is None:
        return None
    if kind == "generic":
        return json_format.MessageToDict(scalar.generic)
    if kind == "binary":
        if scalar.binary.tag == "msgpack":
            import msgpack

            return msgpack.unpackb(scalar.binary.value, raw=False, strict_map_key=False)
        return scalar.binary.value
    if kind == "blob":
        return scalar.blob.uri
    if kind == "schema":
        return scalar.schema.uri
    if kind == "structured_dataset":
        return scalar.structured_dataset.uri
    if kind == "union":
        return literal_to_python(scalar.union.value)
    if kind == "error":
        raise ValueError(f"literal is an error: {scalar.error.message}")
    raise ValueError(f"cannot decode scalar of kind {kind!r}")


# --------------------------------------------------------------------------------------------------
# Describing a launch plan
# --------------------------------------------------------------------------------------------------


class Rate(NamedTuple):
    value: int
    unit: str  # "MINUTE" | "HOUR" | "DAY"


class DefaultInput(NamedTuple):
    required: bool
    default: Any  # decoded default literal, or None


@dataclasses.dataclass(frozen=True)
class LaunchPlanInfo:
    name: str
    workflow: str
    schedule_kind: str | None  # "cron" | "fixed_rate" | None
    cron_expression: str | None
    cron_offset: str | None
    rate: Rate | None
    kickoff_time_input_arg: str | None
    fixed_inputs: dict[str, Any]
    default_inputs: dict[str, DefaultInput]
    # Names of the workflow's inputs (sorted); None if the workflow is not in ``workflows``.
    workflow_inputs: tuple[str, ...] | None


def _workflow_map(workflows: Any) -> Mapping[str, workflow_pb2.WorkflowSpec]:
    if workflows is None:
        return {}
    if isinstance(workflows, Entities):
        return workflows.workflows
    return workflows


def _find_workflow(lp: launch_plan_pb2.LaunchPlan, workflows: Any) -> workflow_pb2.WorkflowSpec | None:
    wanted = lp.spec.workflow_id.name
    wfs = _workflow_map(workflows)
    if wanted in wfs:
        return wfs[wanted]
    for spec in wfs.values():
        if spec.template.id.name == wanted:
            return spec
    return None


def describe_launch_plan(lp: launch_plan_pb2.LaunchPlan, workflows: Any = None) -> LaunchPlanInfo:
    """Summarise a decoded LaunchPlan as plain Python values.

    ``workflows`` is ``Entities.workflows`` (or the Entities itself); it is only used to fill
    ``workflow_inputs``.
    """
    spec = lp.spec
    schedule = spec.entity_metadata.schedule
    which = schedule.WhichOneof("ScheduleExpression") if spec.entity_metadata.HasField("schedule") else None
    kind: str | None = None
    cron: str | None = None
    offset: str | None = None
    rate: Rate | None = None
    if which == "cron_schedule":
        kind, cron, offset = (
            "cron",
            schedule.cron_schedule.schedule,
            schedule.cron_schedule.offset or None,
        )
    elif which == "cron_expression":
        kind, cron = "cron", schedule.cron_expression
    elif which == "rate":
        kind = "fixed_rate"
        rate = Rate(schedule.rate.value, schedule_pb2.FixedRateUnit.Name(schedule.rate.unit))
    wf = _find_workflow(lp, workflows)
    return LaunchPlanInfo(
        name=lp.id.name,
        workflow=spec.workflow_id.name,
        schedule_kind=kind,
        cron_expression=cron,
        cron_offset=offset,
        rate=rate,
        kickoff_time_input_arg=schedule.kickoff_time_input_arg or None,
        fixed_inputs={k: literal_to_python(v) for k, v in spec.fixed_inputs.literals.items()},
        default_inputs={
            k: DefaultInput(
                required=p.WhichOneof("behavior") == "required" and p.required,
                default=(literal_to_python(p.default) if p.WhichOneof("behavior") == "default" else None),
            )
            for k, p in spec.default_inputs.parameters.items()
        },
        workflow_inputs=(None if wf is None else tuple(sorted(wf.template.interface.inputs.variables))),
    )


# --------------------------------------------------------------------------------------------------
# robfig/cron v3 ParseStandard (the parser flyteadmin v1.16.8 validates cron schedules with;
# flyteadmin pins the unionai/cron fork, whose parser is unchanged). Written from its documented
# behaviour: 5 fields, or a descriptor, with an optional TZ=/CRON_TZ= prefix.
# --------------------------------------------------------------------------------------------------

_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DOWS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
# (min, max, names) for minute, hour, day-of-month, month, day-of-week
_FIELD_BOUNDS = [
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day-of-month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 6, _DOWS),
]
_DESCRIPTORS = {
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
}
_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_DURATION_UNITS = {
    "ns": 1,
    "us": 10**3,
    "\u00b5s": 10**3,  # micro sign
    "\u03bcs": 10**3,  # Greek mu
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_GO_DURATION_PART = re.compile(r"(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?(?P<unit>[^0-9.]*)")


class _CronError(Exception):
    pass


def _go_atoi_nonneg(text: str) -> int:
    if not _GO_INT.fullmatch(text):
        raise _CronError(f"failed to parse int from {text!r}")
    num = int(text)
    if num < 0:
        raise _CronError(f"negative number ({num}) not allowed: {text}")
    return num


def _int_or_name(text: str, names: dict[str, int] | None) -> int:
    if names is not None and text.lower() in names:
        return names[text.lower()]
    return _go_atoi_nonneg(text)


def _check_range(expr: str, lo: int, hi: int, names: dict[str, int] | None) -> None:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    if low_high[0] in ("*", "?"):
        start, end = lo, hi
    else:
        start = _int_or_name(low_high[0], names)
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = _int_or_name(low_high[1], names)
        else:
            raise _CronError(f"too many hyphens: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _go_atoi_nonneg(range_and_step[1])
        if len(low_high) == 1:  # "N/step" means "N-max/step"
            end = hi
    elif len(range_and_step) > 2:
        raise _CronError(f"too many slashes: {expr}")
    if start < lo:
        raise _CronError(f"beginning of range ({start}) below minimum ({lo}): {expr}")
    if end > hi:
        raise _CronError(f"end of range ({end}) above maximum ({hi}): {expr}")
    if start > end:
        raise _CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise _CronError(f"step of range should be a positive number: {expr}")


def _check_go_duration(text: str) -> None:
    """Go's time.ParseDuration: e.g. "1h30m", "1.5h", "300ms"; no "d" unit."""
    s = text
    if s[:1] in ("+", "-"):
        s = s[1:]
    if s == "0":
        return
    if s == "":
        raise _CronError(f"invalid duration {text!r}")
    total = 0.0
    while s:
        m = _GO_DURATION_PART.match(s)
        assert m is not None
        if not m["int"] and not m["frac"]:
            raise _CronError(f"invalid duration {text!r}")
        if not m["unit"]:
            raise _CronError(f"missing unit in duration {text!r}")
        if m["unit"] not in _GO_DURATION_UNITS:
            raise _CronError(f"unknown unit {m['unit']!r} in duration {text!r}")
        total += float(f"{m['int'] or 0}.{m['frac'] or 0}") * _GO_DURATION_UNITS[m["unit"]]
        s = s[m.end() :]
    if total > 2**63 - 1:
        raise _CronError(f"invalid duration {text!r}")


def robfig_parse_standard_error(spec: str) -> str | None:
    """Return why robfig/cron v3 ``ParseStandard`` refuses ``spec``, or None if it accepts it."""
    try:
        _robfig_parse_standard(spec)
    except _CronError as exc:
        return str(exc)
    return None


def _robfig_parse_standard(spec: str) -> None:
    if not spec:
        raise _CronError("empty spec string")
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        space = spec.find(" ")
        if space < 0:
            # Go slices spec[eq+1:-1] here and panics; either way it is not a schedule.
            raise _CronError(f"time zone prefix without a schedule: {spec}")
        zone = spec[spec.find("=") + 1 : space]
        if zone not in ("", "UTC", "Local"):
            try:
                ZoneInfo(zone)
            except Exception:
                raise _CronError(f"provided bad location {zone}") from None
        spec = spec[space:].strip()
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return
        if spec.startswith("@every "):
            _check_go_duration(spec[len("@every ") :])
            return
        raise _CronError(f"unrecognized descriptor: {spec}")
    fields = spec.split()
    if len(fields) != 5:
        raise _CronError(f"expected exactly 5 fields, found {len(fields)}: {fields}")
    for field, (_, lo, hi, names) in zip(fields, _FIELD_BOUNDS):
        for expr in (part for part in field.split(",") if part):
            _check_range(expr, lo, hi, names)


def _codegen_cron_parser():
    """(parse_cron, CronError) from unionml_codegen.cron when it is importable, else None."""
    try:
        mod = importlib.import_module("unionml_codegen.cron")
    except ImportError:
        return None
    parse_cron = getattr(mod, "parse_cron", None)
    if parse_cron is None:
        return None
    return parse_cron, getattr(mod, "CronError", ValueError)


def _cron_problems(text: str, registration_only: bool = False) -> list[str]:
    problems = []
    err = robfig_parse_standard_error(text)
    if err is not None:
        problems.append(f"cron schedule {text!r} is refused by flyteadmin (robfig/cron ParseStandard): {err}")
    codegen = None if registration_only else _codegen_cron_parser()
    if codegen is not None:
        parse_cron, cron_error = codegen
        try:
            result = parse_cron(text)
        except cron_error as exc:
            problems.append(f"cron schedule {text!r} is refused by unionml_codegen.cron.parse_cron: {exc}")
        else:
            expression = getattr(result, "expression", None)
            if expression != text:
                problems.append(
                    f"cron schedule {text!r} is not canonical: unionml_codegen.cron.parse_cron gives {expression!r}"
                )
    return problems


# --------------------------------------------------------------------------------------------------
# flyteadmin's launch plan rules
# --------------------------------------------------------------------------------------------------


def _type_text(t: types_pb2.LiteralType) -> str:
    if t.WhichOneof("type") == "simple":
        return types_pb2.SimpleType.Name(t.simple)
    return text_format.MessageToString(t, as_one_line=True)


def flyteadmin_problems(lp: launch_plan_pb2.LaunchPlan, workflows: Any, *, registration_only: bool = False) -> list[str]:
    """Problems that make flyteadmin v1.16.8 refuse ``lp`` or make its native scheduler misrun it.

    ``registration_only``: only what flyteadmin's CreateLaunchPlan refuses (the flyteadmin stand-in
    applies these), without the native-scheduler problems and the check against
    ``unionml_codegen.cron``.

    Empty list: the plan would register and run on schedule. ``workflows`` is ``Entities.workflows``
    (or the Entities itself); the plan's workflow interface is taken from the WorkflowSpec whose
    ``template.id.name`` is ``lp.spec.workflow_id.name``.

    Registration rules (flyteadmin/pkg/manager/impl/validation/launch_plan_validator.go): default and
    fixed inputs must be workflow inputs; a default input has a default or is required; with a schedule,
    every required input that is neither fixed nor defaulted is bound except the kickoff input, and the
    kickoff input is a free input of simple type DATETIME; a cron string parses with robfig/cron
    ParseStandard. flyteadmin returns only its first error and also checks literal/type castability,
    which this function does not. Native-scheduler rules (flyteadmin/scheduler): the kickoff input is
    filled for cron schedules only, cron offsets are ignored, a zero rate or an empty cron string is
    treated as "no schedule", and the deprecated ``cron_expression`` form cannot be activated.
    """
    problems: list[str] = []
    spec = lp.spec
    wf_name = spec.workflow_id.name
    wf = _find_workflow(lp, workflows)
    if wf is None:
        return [f"workflow {wf_name!r} of launch plan {lp.id.name!r} is not in the package"]
    wf_inputs = wf.template.interface.inputs.variables
    defaults = spec.default_inputs.parameters
    fixed = spec.fixed_inputs.literals

    for name in sorted(defaults):
        param = defaults[name]
        if name not in wf_inputs:
            problems.append(f"default input {name!r} is not an input of workflow {wf_name!r}")
        if not param.HasField("var") or not param.var.HasField("type"):
            problems.append(f"default input {name!r} has no type")
        if param.WhichOneof("behavior") == "artifact_query":
            problems.append(f"default input {name!r} is an artifact query (artifacts are not enabled)")
        elif not param.HasField("default") and not param.required:
            problems.append(f"default input {name!r} has neither a default nor required=True")
    for name in sorted(fixed):
        if name not in wf_inputs:
            problems.append(f"fixed input {name!r} is not an input of workflow {wf_name!r}")

    # The inputs left free by the plan, as flyteadmin computes them.
    free = {}
    for name, var in wf_inputs.items():
        if name in defaults:
            free[name] = (
                defaults[name].WhichOneof("behavior") == "required" and defaults[name].required,
                defaults[name].var.type,
            )
        elif name not in fixed:
            free[name] = (True, var.type)

    if spec.entity_metadata.HasField("launch_conditions"):
        problems.append("launch conditions must be empty")

    if not spec.entity_metadata.HasField("schedule"):
        return problems
    schedule = spec.entity_metadata.schedule
    which = schedule.WhichOneof("ScheduleExpression")
    if which is None:
        return problems
    kickoff = schedule.kickoff_time_input_arg

    for name in sorted(free):
        required, _ = free[name]
        if required and name != kickoff:
            problems.append(
                f"required input {name!r} is unbound: a scheduled launch plan must fix it or give it a default"
            )

    if kickoff:
        if kickoff not in wf_inputs:
            problems.append(f"kickoff_time_input_arg {kickoff!r} is not an input of workflow {wf_name!r}")
        elif kickoff not in free:
            problems.append(f"kickoff_time_input_arg {kickoff!r} names a fixed input; it must be a free input")
        else:
            _, ktype = free[kickoff]
            if not (ktype.WhichOneof("type") == "simple" and ktype.simple == types_pb2.DATETIME):
                problems.append(
                    f"kickoff_time_input_arg {kickoff!r} must be a datetime input (simple type DATETIME), "
                    f"but it is {_type_text(ktype)}"
                )

    if registration_only:
        if which in ("cron_expression", "cron_schedule"):
            text = getattr(schedule, which) if which == "cron_expression" else schedule.cron_schedule.schedule
            if text:
                problems.extend(_cron_problems(text, registration_only=True))
        return problems

    if which == "cron_expression":
        problems.extend(_cron_problems(schedule.cron_expression))
        problems.append(
            "schedule uses the deprecated cron_expression field: the native scheduler only activates "
            "cron_schedule and rate schedules"
        )
    elif which == "cron_schedule":
        text = schedule.cron_schedule.schedule
        if not text:
            problems.append("cron schedule is empty: flyteadmin treats the plan as unscheduled")
        else:
            problems.extend(_cron_problems(text))
        if schedule.cron_schedule.offset:
            problems.append(
                f"cron offset {schedule.cron_schedule.offset!r} is set, but the native scheduler ignores offset"
            )
    elif which == "rate":
        if schedule.rate.value <= 0:
            problems.append(
                f"fixed rate value must be > 0 (got {schedule.rate.value}); flyteadmin treats a zero rate as no schedule"
            )
        if kickoff:
            problems.append(
                f"fixed-rate schedule has kickoff_time_input_arg {kickoff!r}, but the native scheduler fills "
                "the kickoff input only for cron schedules"
            )
    return problems
