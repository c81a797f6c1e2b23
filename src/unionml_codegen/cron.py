"""Check cron schedules the way Flyte's server checks them.

flyteadmin parses a launch plan's cron schedule with robfig/cron v3
``cron.ParseStandard`` (options: minute | hour | dom | month | dow | descriptor).
The Flyte 2 backend checks a trigger's `flyte.Cron` with the same call, after prefixing
``CRON_TZ=<zone>`` (flyteorg/flyte ``runs/schedule/cron.go``), so both targets share these rules.
The rules below follow that parser; this is a fresh implementation in plain Python.
flytekit checks the same string with croniter plus a list of aliases, so it accepts
some spellings that flyteadmin rejects. Where the meaning is clear, those spellings
are rewritten and each rewrite is reported as a note; anything else is a CronError.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import codes


@dataclass(frozen=True)
class CronExpression:
    expression: str  # normalized, accepted by both flytekit and flyteadmin
    rewrites: tuple[str, ...]  # one human-readable note per rewrite


class CronError(ValueError):
    """An invalid cron string; ``field`` names the cron field at fault, if any."""

    def __init__(self, code: codes.Code, message: str, hint: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.field = field


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
_FIELDS = (
    _Field("minute", 0, 59, {}),
    _Field("hour", 0, 23, {}),
    _Field("day-of-month", 1, 31, {}),
    _Field("month", 1, 12, _MONTHS),
    _Field("day-of-week", 0, 6, _DAYS),
)
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
#: The five fields each descriptor stands for in robfig/cron v3 (its parser's `parseDescriptor`).
DESCRIPTOR_FIELDS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Bare aliases that flytekit accepts (case-insensitively) but robfig does not.
_ALIASES = {d[1:]: d for d in _DESCRIPTORS} | {
    "hours": "@hourly",
    "days": "@daily",
    "weeks": "@weekly",
    "months": "@monthly",
    "years": "@yearly",
}
_GO_DURATION = re.compile(r"(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+")
_NUMBER = re.compile(r"[0-9]+")
# Token shapes of the Quartz/Jenkins extensions, e.g. 'L', '5L', 'FRIL', 'LW', '15W', '5#3', 'H', 'H(0-29)'.
_SPECIALS = (("#", r".*#.*"), ("L", r"[0-9]*L|[A-Z]{3}L|LW"), ("W", r"[0-9]+W"), ("H", r"H(\(.*)?"))
_SPECIAL_HINTS = {
    "L": "robfig/cron cannot express 'last day'; list the days explicitly or check the date inside the workflow",
    "W": "robfig/cron cannot express 'nearest weekday'; list explicit days of the month instead",
    "#": "robfig/cron cannot express 'Nth weekday of the month'; schedule weekly and skip runs inside the workflow",
    "H": "replace 'H' with a fixed value, e.g. '7' or '*/15'",
}
_DURATION_HINT = "write a Go duration such as '90s', '15m', '2h' or '1h30m' (units: h, m, s, ms, us, ns)"
_DESCRIPTOR_HINT = "use one of " + ", ".join(_DESCRIPTORS) + " or '@every <duration>', e.g. '@every 1h30m'"


def parse_cron(text: str) -> CronExpression:
    """Validate ``text`` against robfig/cron v3 ParseStandard and return its normal form."""
    expr = " ".join(text.split())
    if not expr:
        raise CronError(
            codes.INVALID_CRON,
            "the cron expression is empty",
            "write five fields, e.g. '0 0 * * *' for daily at midnight",
        )
    if re.match(r"(CRON_)?TZ=", expr, re.IGNORECASE):
        raise CronError(
            codes.UNSUPPORTED_CRON,
            f"time zones are not supported per schedule: '{expr.split()[0]}' in '{expr}'",
            "drop the TZ=/CRON_TZ= prefix; Flyte runs every schedule in the scheduler's time zone (usually UTC)",
        )
    rewrites: list[str] = []
    if expr.lower() in _ALIASES:
        normal = _ALIASES[expr.lower()]
        rewrites.append(f"'{expr}' was rewritten to '{normal}': Flyte's scheduler only knows '@' descriptors")
        return CronExpression(normal, tuple(rewrites))
    if expr.startswith("@"):
        return CronExpression(_parse_descriptor(expr, rewrites), tuple(rewrites))

    fields = expr.split()
    if len(fields) != 5:
        raise CronError(
            codes.INVALID_CRON,
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)} in '{expr}'",
            _field_count_hint(len(fields)),
        )
    normalized = []
    for field, value in zip(_FIELDS, fields):
        value = _rewrite_question_marks(field, value, rewrites)
        if field.name == "day-of-week":
            value = _rewrite_sunday_seven(value, rewrites)
        _check_field(field, value, expr)
        normalized.append(value)
    _check_fires(normalized, expr)
    return CronExpression(" ".join(normalized), tuple(rewrites))


_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _check_fires(fields: list[str], expr: str) -> None:
    """A day-of-month no listed month has ('0 0 31 4 *', '0 0 30 2 *') never fires: robfig accepts it, but
    flytekit looks for the next run when it builds the launch plan and fails. (With a restricted day of
    week too, either field matching is enough, so such schedules fire.)"""
    if fields[4] not in ("*", "?"):
        return
    days, months = _expand(_FIELDS[2], fields[2]), _expand(_FIELDS[3], fields[3])
    if not any(day <= _MONTH_DAYS[month - 1] for day in days for month in months):
        raise CronError(
            codes.CRON_NEVER_FIRES,
            f"'{expr}' never fires: none of the months in it has day {', '.join(map(str, sorted(days)))}",
            "check the day-of-month and month fields (flytekit refuses a schedule without a next run)",
            "day-of-month",
        )


def _expand(field: _Field, value: str) -> set[int]:
    """The values a field (already checked) stands for."""
    values: set[int] = set()
    for item in value.split(","):
        range_text, slash, step_text = item.partition("/")
        if range_text in ("*", "?"):
            start, end = field.low, field.high
        else:
            bounds = [field.names.get(b.lower(), None) if not b.isdigit() else int(b) for b in range_text.split("-")]
            start = bounds[0]
            end = bounds[-1] if len(bounds) == 2 else (field.high if slash else start)
        values.update(range(start, end + 1, int(step_text) if slash else 1))
    return values


def _field_count_hint(count: int) -> str:
    return {
        6: "drop the seconds field (or the AWS-style year field); Flyte schedules have minute resolution",
        7: "drop the seconds and year fields (Quartz syntax); Flyte uses standard 5-field cron",
    }.get(count, "give exactly the five time fields, e.g. '0 * * * *' for hourly or '0 0 * * *' for daily")


def _parse_descriptor(expr: str, rewrites: list[str]) -> str:
    word, _, rest = expr.partition(" ")
    lowered = word.lower()
    if lowered != word and (lowered in _DESCRIPTORS or lowered == "@every"):
        rewrites.append(f"'{word}' was rewritten to '{lowered}': Flyte's scheduler only knows lower-case descriptors")
    if lowered == "@reboot":
        hint = "use a cron expression or fixed_rate=timedelta(...)"
        raise CronError(codes.UNSUPPORTED_CRON, f"'{word}' is not supported by Flyte's scheduler in '{expr}'", hint)
    if lowered == "@every":
        if not rest:
            raise CronError(codes.INVALID_CRON, f"'{word}' needs a duration in '{expr}'", _DURATION_HINT)
        _check_go_duration(rest, expr)
        return f"{lowered} {rest}"
    if lowered not in _DESCRIPTORS:
        raise CronError(codes.INVALID_CRON, f"unknown descriptor '{word}' in '{expr}'", _DESCRIPTOR_HINT)
    if rest:
        raise CronError(
            codes.INVALID_CRON, f"unexpected text '{rest}' after '{word}' in '{expr}'", f"use '{lowered}' on its own"
        )
    return lowered


def _check_go_duration(duration: str, expr: str) -> None:
    if not _GO_DURATION.fullmatch(duration):
        raise CronError(codes.INVALID_CRON, f"'{duration}' is not a valid duration in '{expr}'", _DURATION_HINT)
    if not any(c in "123456789" for c in duration.replace("µs", "").replace("μs", "")):
        raise CronError(
            codes.INVALID_CRON, f"the duration '{duration}' must be greater than zero in '{expr}'", _DURATION_HINT
        )


_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def every_seconds(expression: str) -> int | None:
    """The delay of an `@every <duration>` schedule in whole seconds, as robfig/cron's `Every` rounds it
    (down to the second, at least one); None for any other expression."""
    word, _, duration = expression.partition(" ")
    if word != "@every":
        return None
    seconds = sum(
        float(number) * _GO_UNITS[unit]
        for number, unit in re.findall(r"((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(ns|us|µs|μs|ms|s|m|h)", duration)
    )
    return max(1, int(seconds))


def _rewrite_question_marks(field: _Field, value: str, rewrites: list[str]) -> str:
    """robfig reads '?' as '*' anywhere; croniter only takes a lone '?' in the two day fields."""
    if "?" not in value or (value == "?" and field.name in ("day-of-month", "day-of-week")):
        return value
    items = value.split(",")
    new = ",".join("*" + item[1:] if item == "?" or item.startswith("?/") else item for item in items)
    if new != value:
        rewrites.append(
            f"{field.name} '{value}' was rewritten to '{new}': '?' means '*', and flytekit (croniter) "
            "only accepts a lone '?' in the day-of-month and day-of-week fields"
        )
    return new


def _rewrite_sunday_seven(value: str, rewrites: list[str]) -> str:
    """Turn day-of-week 7 (Sunday to croniter) into 0, the only Sunday robfig knows."""
    new = ",".join(_sunday_seven_item(item) for item in value.split(","))
    if new != value:
        rewrites.append(
            f"day-of-week '{value}' was rewritten to '{new}': Flyte's scheduler (robfig/cron) "
            "only accepts 0 for Sunday, not 7"
        )
    return new


def _sunday_seven_item(item: str) -> str:
    match = re.fullmatch(r"(?:(?P<start>[0-9]+|[A-Za-z]{3})-)?7(?:/(?P<step>[0-9]+))?", item)
    if match is None:
        return item
    start_text, step_text = match["start"], match["step"]
    if start_text is None:
        return item if step_text else "0"  # '7/N' means 7..6 to robfig: left for _check_field to reject
    start = _whole(start_text) if start_text.isdigit() else _DAYS.get(start_text.lower())
    step = _whole(step_text or "1")
    if start is None or start > 7 or step == 0:
        return item  # invalid either way; _check_field explains why
    if start == 7:
        return "0"
    step_suffix = f"/{step_text}" if step_text else ""
    return f"{start_text}-6{step_suffix}" + (",0" if (7 - start) % step == 0 else "")


def _check_field(field: _Field, value: str, expr: str) -> None:
    for item in value.split(","):
        if not item:
            message = f"empty list item in {field.name} field '{value}' in '{expr}'"
            raise CronError(
                codes.INVALID_CRON, message, "remove the extra comma; list items look like '1,15,30'", field.name
            )
        _check_item(field, item, expr)


def _check_item(field: _Field, item: str, expr: str) -> None:
    range_text, slash, step_text = item.partition("/")
    if "/" in step_text:
        message = f"too many '/' in {field.name} item '{item}' in '{expr}'"
        raise CronError(codes.INVALID_CRON, message, "use one step, e.g. '*/15'", field.name)
    if range_text not in ("*", "?"):
        bounds = range_text.split("-")
        if len(bounds) > 2:
            hint = f"a range is 'start-end' with values {field.low}-{field.high}; negative numbers are not allowed"
            raise CronError(
                codes.INVALID_CRON, f"too many '-' in {field.name} item '{item}' in '{expr}'", hint, field.name
            )
        start = _value(field, bounds[0], item, expr)
        end = _value(field, bounds[-1], item, expr) if len(bounds) == 2 else start
        if len(bounds) == 1 and slash:
            end = field.high  # 'N/step' means N through the field's maximum
        if start > end:
            raise CronError(
                codes.INVALID_CRON,
                f"{field.name} range {range_text} starts after it ends in '{expr}'",
                "ranges cannot wrap around; split it into two, e.g. '22-23,0-2'",
                field.name,
            )
    if slash and not (_NUMBER.fullmatch(step_text) and 1 <= _whole(step_text) < _HUGE):
        message = f"{field.name} step must be a whole number of at least 1, got '{item}' in '{expr}'"
        raise CronError(codes.INVALID_CRON, message, "write the step as a whole number, e.g. '*/15'", field.name)


_HUGE = 10**18


def _whole(digits: str) -> int:
    """The number a run of digits spells, capped at `_HUGE` (out of every field's range): Python
    refuses to convert more than 4,300 digits, and no field needs more than two."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < 18 else _HUGE


def _value(field: _Field, token: str, item: str, expr: str) -> int:
    if _NUMBER.fullmatch(token):
        number = _whole(token)
    elif token.lower() in field.names:
        return field.names[token.lower()]
    else:
        _reject_special(field, token, item, expr)
        kinds = {"month": "a number or month name (JAN-DEC)", "day-of-week": "a number or day name (SUN-SAT)"}
        expected = kinds.get(field.name, "a number")
        if token == item:
            message = f"{field.name} value '{token}' is not {expected} in '{expr}'"
        else:
            found = f"'{token}'" if token else "a missing number"
            message = f"{field.name} item '{item}' has {found} where {expected} was expected in '{expr}'"
        hint = f"use '*', a value in {field.low}-{field.high}, a range 'a-b', a list 'a,b' or a step '*/n'"
        raise CronError(codes.INVALID_CRON, message, hint, field.name)
    if not field.low <= number <= field.high:
        hint = f"use a value in {field.low}-{field.high}" + (" (0 is Sunday)" if field.name == "day-of-week" else "")
        shown = number if number < _HUGE else f"{token.lstrip('0')[:12]}..."
        message = f"{field.name} value {shown} is out of range {field.low}-{field.high} in '{expr}'"
        raise CronError(codes.INVALID_CRON, message, hint, field.name)
    return number


def _reject_special(field: _Field, token: str, item: str, expr: str) -> None:
    """Name the Quartz/Jenkins extensions (L, W, #, H) that robfig/cron lacks."""
    upper = token.upper()
    special = next((char for char, pattern in _SPECIALS if re.fullmatch(pattern, upper)), None)
    if special is None:
        return
    where = f"'{special}'" if upper == special else f"'{special}' in '{item}'"
    raise CronError(
        codes.UNSUPPORTED_CRON,
        f"{where} is not supported in the {field.name} field (Flyte's scheduler uses robfig/cron, "
        f"which has no L, W, # or H) in '{expr}'",
        _SPECIAL_HINTS[special],
        field.name,
    )
