"""Table-driven tests for unionml_codegen.cron (robfig/cron v3 ParseStandard rules)."""

from datetime import datetime

import pytest
from croniter import croniter

from unionml_codegen import codes
from unionml_codegen.cron import CronError, CronExpression, parse_cron

FIELDS = {"minute", "hour", "day-of-month", "month", "day-of-week", None}

# Accepted as written: output equals input and there is nothing to report.
VALID = [
    "0 0 * * *",
    "*/15 * * * *",
    "0 9-17/2 * * MON-FRI",
    "0 0 1 jan,jul *",
    "5/10 * * * *",
    "0 0 ? * MON",
    "0 12 * * ?",
    "0 0 1-31/2 * *",
    "59 23 31 12 6",
    "0-59/5 0-23 1-31 1-12 0-6",
    "0 0 * JAN-MAR/2 *",
    "0 0 * * sun,Sat",
    "1,2,3 * * * *",
    "00 07 01 01 00",
    "0 0 * dec/12 *",
    "0 6 * * mon-fri/2",
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
    "@every 1h30m",
    "@every 90s",
    "@every 1.5h",
    "@every 2h",
]

# (input, expected normalized expression, expects a rewrite note)
NORMALIZED = [
    ("@DAILY", "@daily", True),
    ("@Hourly", "@hourly", True),
    ("@MIDNIGHT", "@midnight", True),
    ("@EVERY 1h", "@every 1h", True),
    ("daily", "@daily", True),
    ("DAILY", "@daily", True),
    ("annually", "@annually", True),
    ("midnight", "@midnight", True),
    ("hours", "@hourly", True),
    ("days", "@daily", True),
    ("weeks", "@weekly", True),
    ("Months", "@monthly", True),
    ("years", "@yearly", True),
    ("0 0 * * 7", "0 0 * * 0", True),
    ("0 0 * * 5-7", "0 0 * * 5-6,0", True),
    ("0 0 * * 1,7", "0 0 * * 1,0", True),
    ("0 0 * * 7-7", "0 0 * * 0", True),
    ("0 0 * * FRI-7", "0 0 * * FRI-6,0", True),
    ("0 0 * * 1-7/2", "0 0 * * 1-6/2,0", True),
    ("0 0 * * 2-7/2", "0 0 * * 2-6/2", True),
    ("? ? ? ? ?", "* * ? * ?", True),
    ("?/5 * * * *", "*/5 * * * *", True),
    ("0 0 ?/2 * *", "0 0 */2 * *", True),
    ("  0   0 *\t* *  ", "0 0 * * *", False),
    ("@every   45m", "@every 45m", False),
]

# (input, field, substring of the message)
INVALID = [
    ("0 0 0 * * *", None, "expected 5 fields (minute hour day-of-month month day-of-week), got 6"),
    ("0 0 0 * * * 2024", None, "got 7"),
    ("0 0 * *", None, "got 4"),
    ("minutes", None, "got 1"),
    (
        "0 0 L * *",
        "day-of-month",
        "'L' is not supported in the day-of-month field (Flyte's scheduler uses robfig/cron, which has no L, W, # or H)",
    ),
    ("0 0 L-3 * *", "day-of-month", "'L' is not supported"),
    ("0 0 15W * *", "day-of-month", "'W' in '15W' is not supported in the day-of-month field"),
    ("0 0 LW * *", "day-of-month", "'L' in 'LW'"),
    ("0 0 * * 5#3", "day-of-week", "'#' in '5#3' is not supported in the day-of-week field"),
    ("0 0 * * 5L", "day-of-week", "'L' in '5L'"),
    ("H * * * *", "minute", "'H' is not supported in the minute field"),
    ("H(0-29)/10 * * * *", "minute", "'H' in 'H(0-29)/10'"),
    ("60 * * * *", "minute", "minute value 60 is out of range 0-59"),
    ("* 24 * * *", "hour", "hour value 24 is out of range 0-23"),
    ("* * 0 * *", "day-of-month", "day-of-month value 0 is out of range 1-31"),
    ("* * * 13 *", "month", "month value 13 is out of range 1-12"),
    ("* * * 0 *", "month", "month value 0 is out of range 1-12"),
    ("* * * * 8", "day-of-week", "day-of-week value 8 is out of range 0-6 in '* * * * 8'"),
    ("* * * * 7/2", "day-of-week", "day-of-week value 7 is out of range 0-6"),
    ("5-1 * * * *", "minute", "minute range 5-1 starts after it ends"),
    ("0 0 * JUL-MAR *", "month", "month range JUL-MAR starts after it ends"),
    ("*/0 * * * *", "minute", "minute step must be a whole number of at least 1, got '*/0'"),
    ("*/x * * * *", "minute", "minute step must be a whole number of at least 1, got '*/x'"),
    ("0 0 * * */", "day-of-week", "got '*/'"),
    ("*/5/2 * * * *", "minute", "too many '/'"),
    ("1-2-3 * * * *", "minute", "too many '-'"),
    ("-5 * * * *", "minute", "has a missing number"),
    ("1,,2 * * * *", "minute", "empty list item in minute field '1,,2'"),
    ("a * * * *", "minute", "minute value 'a' is not a number in 'a * * * *'"),
    ("1-a * * * *", "minute", "minute item '1-a' has 'a' where a number was expected"),
    ("* * * * monday", "day-of-week", "day-of-week value 'monday' is not a number or day name (SUN-SAT)"),
    ("* * * july *", "month", "month value 'july' is not a number or month name (JAN-DEC)"),
    ("* * * * jan", "day-of-week", "'jan'"),
    ("+5 * * * *", "minute", "'+5'"),
    ("@reboot", None, "'@reboot' is not supported"),
    ("@REBOOT", None, "'@REBOOT' is not supported"),
    ("@every", None, "'@every' needs a duration"),
    ("@every 5x", None, "'5x' is not a valid duration"),
    ("@every 1h 30m", None, "'1h 30m' is not a valid duration"),
    ("@every 0s", None, "must be greater than zero"),
    ("@every -1h", None, "not a valid duration"),
    ("@fortnightly", None, "unknown descriptor '@fortnightly'"),
    ("@hours", None, "unknown descriptor '@hours'"),
    ("@daily 0", None, "unexpected text '0' after '@daily'"),
    ("TZ=UTC 0 0 * * *", None, "time zones are not supported per schedule"),
    ("CRON_TZ=Europe/Paris 0 0 * * *", None, "time zones are not supported per schedule"),
    ("", None, "empty"),
    ("   ", None, "empty"),
]


def croniter_accepts(expression: str) -> bool:
    return expression.startswith("@every ") or croniter.is_valid(expression)


@pytest.mark.parametrize("text", VALID)
def test_valid_expressions_are_kept_as_written(text):
    result = parse_cron(text)
    assert result == CronExpression(text, ())
    assert croniter_accepts(result.expression)


@pytest.mark.parametrize("text, expected, noted", NORMALIZED)
def test_normalized_expressions(text, expected, noted):
    result = parse_cron(text)
    assert result.expression == expected
    assert bool(result.rewrites) == noted
    assert all(isinstance(note, str) and "rewritten" in note for note in result.rewrites)
    assert croniter_accepts(result.expression)
    assert parse_cron(result.expression) == CronExpression(expected, ())  # normal form is a fixed point


# croniter reads '7-7' as '*' (every day), so that case cannot be compared against croniter's own reading.
SUNDAY_SEVEN = [case for case in NORMALIZED if case[0].startswith("0 0 * * ") and "7" in case[0]]
SUNDAY_SEVEN = [case for case in SUNDAY_SEVEN if "7-7" not in case[0]]


@pytest.mark.parametrize("text, expected, noted", SUNDAY_SEVEN)
def test_sunday_seven_rewrite_keeps_the_schedule(text, expected, noted):
    """croniter reads 7 as Sunday; the rewritten form must fire at the same times."""
    start = datetime(2024, 1, 1)
    before, after = croniter(text, start), croniter(expected, start)
    assert [before.get_next(datetime) for _ in range(30)] == [after.get_next(datetime) for _ in range(30)]


@pytest.mark.parametrize("text, field, fragment", INVALID)
def test_invalid_expressions(text, field, fragment):
    with pytest.raises(CronError) as caught:
        parse_cron(text)
    error = caught.value
    assert error.field == field
    assert fragment in error.message
    assert str(error) == error.message
    assert error.hint


def test_out_of_range_message_is_exact():
    with pytest.raises(CronError) as caught:
        parse_cron("0 0 * * 8")
    assert caught.value.message == "day-of-week value 8 is out of range 0-6 in '0 0 * * 8'"
    assert caught.value.field == "day-of-week"


@pytest.mark.parametrize(
    "text, hint_fragment",
    [
        ("0 0 0 * * *", "drop the seconds field"),
        ("0 0 0 * * * 2024", "drop the seconds and year fields"),
        ("@reboot", "fixed_rate=timedelta(...)"),
        ("TZ=UTC 0 0 * * *", "TZ="),
        ("@every 5x", "1h30m"),
    ],
)
def test_hints_are_actionable(text, hint_fragment):
    with pytest.raises(CronError) as caught:
        parse_cron(text)
    assert hint_fragment in caught.value.hint


def test_cron_error_is_a_value_error():
    error = CronError(codes.INVALID_CRON, "bad", "fix it", "minute")
    assert isinstance(error, ValueError)
    assert (error.message, error.hint, error.field) == ("bad", "fix it", "minute")
    assert error.code is codes.INVALID_CRON
    assert CronError(codes.INVALID_CRON, "bad", "fix it").field is None


def test_descriptor_rewrite_note_names_both_spellings():
    (note,) = parse_cron("@DAILY").rewrites
    assert note == "'@DAILY' was rewritten to '@daily': Flyte's scheduler only knows lower-case descriptors"


# Differential: what parse_cron accepts, flyteadmin (robfig ParseStandard, tests/support) and flytekit
# (CronSchedule, which also asks croniter for the next run) accept; and a 5-field expression both accept,
# parse_cron accepts too.
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from ..fuzz.strategies import CRON as CRON_TEXTS, VALID_CRON  # noqa: E402
from ..support.flyte_package import robfig_parse_standard_error  # noqa: E402

_DAYS_AND_MONTHS = st.tuples(
    st.sampled_from(["28", "29", "30", "31", "30,31", "29-31", "*/30", "31/2", "1"]),
    st.sampled_from(["2", "4", "2,4", "4-6/2", "FEB", "apr,jun", "*/2", "9-11/2", "1", "*"]),
    st.sampled_from(["*", "?", "MON", "0-6", "*/1"]),
).map(lambda t: f"0 0 {t[0]} {t[1]} {t[2]}")


def _flytekit_accepts(text: str) -> bool:
    from flytekit import CronSchedule

    try:
        CronSchedule(schedule=text)
    except Exception:
        return False
    return True


@settings(max_examples=300, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(CRON_TEXTS, VALID_CRON, _DAYS_AND_MONTHS))
def test_parse_cron_accepts_what_flyteadmin_and_flytekit_both_accept(text):
    try:
        expression = parse_cron(text).expression
    except CronError:
        assert robfig_parse_standard_error(text) is not None or not _flytekit_accepts(text), text
        return
    assert robfig_parse_standard_error(expression) is None, (text, expression)
    assert _flytekit_accepts(expression), (text, expression)


@pytest.mark.parametrize("text", ["0 0 31 4 *", "0 0 30 2 ?", "0 0 30,31 FEB *", "0 0 31 2,4,6 *", "0 0 31 9-11/2 *"])
def test_a_day_no_listed_month_has_is_refused(text):
    with pytest.raises(CronError) as raised:
        parse_cron(text)
    assert "never fires" in raised.value.message and raised.value.field == "day-of-month"
    assert robfig_parse_standard_error(text) is None and not _flytekit_accepts(text)
