"""What the generated README shows a reviewer at a glance: each schedule's timing in words, and
Mermaid diagrams of the workflows' nodes and of which launch plan starts which workflow.

- Cron expressions are put in words by cron-descriptor (imported here only, when a README is
  rendered), always in English with a 12-hour clock whatever the machine's locale, so the text
  is the same on every machine. robfig's `@` descriptors (the only ones that reach a launch plan)
  are described by the five fields they stand for. An expression cron-descriptor cannot read gets
  no words rather than wrong ones.
- Fixed rates are put in words here ("Every 1 day 6 hours").
- The workflow diagrams are read from the generated `workflows.py` itself (`ast`), so they show
  exactly the calls each workflow makes and the values that flow between them.
- Every Mermaid node id is made here (`i0`, `t1`, `p2`...), never taken from the app; every label is
  written character by character: letters, digits and a few safe signs as they are, anything else
  as a Mermaid entity code (`#34;`), so no name or value from the app can close a label or a block.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..cron import DESCRIPTOR_FIELDS
from ..names import literal
from .escape import _escaped

#: More launch plans than this: no diagram (GitHub refuses large Mermaid diagrams), a sentence instead.
MAX_DIAGRAM_PLANS = 100
#: Fixed inputs shown per launch plan in the diagram, and the length of each shown value.
MAX_SHOWN_INPUTS = 6
MAX_VALUE_CHARS = 40

_SAFE = re.compile(r"[A-Za-z0-9 _.,:=/()\[\]{}*+@'-]")  # safe inside a quoted Mermaid label


@lru_cache(maxsize=None)
def cron_in_words(expression: str) -> str:
    """'At 02:30 AM, only on Monday' for '30 2 * * 1'; '' when cron-descriptor cannot read it.
    Kept per expression: cron-descriptor reads its locale file for each description (half a
    millisecond), and an app's schedules often share expressions."""
    from cron_descriptor import CasingTypeEnum, DescriptionTypeEnum, ExpressionDescriptor, Options

    options = Options(
        casing_type=CasingTypeEnum.Sentence,
        verbose=False,
        day_of_week_start_index_zero=True,  # robfig: 0 is Sunday (7 was rewritten to 0 by cron.py)
        use_24hour_time_format=False,
        locale_code="en_US",  # never the machine's locale: the README is the same everywhere
    )
    fields = DESCRIPTOR_FIELDS.get(expression, expression)
    try:
        return ExpressionDescriptor(fields, options).get_description(DescriptionTypeEnum.FULL)
    except Exception:  # a spelling robfig accepts and cron-descriptor does not: no words, no wrong words
        return ""


def rate_in_words(rate: dt.timedelta) -> str:
    """'Every 1 day', 'Every 1 hour 30 minutes' (rules/schedules.py keeps rates to whole minutes)."""
    minutes = rate // dt.timedelta(minutes=1)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = ((days, "day"), (hours, "hour"), (minutes, "minute"))
    return "Every " + " ".join(f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in units if n)


def markdown_words(text: str) -> str:
    """Words for a Markdown table cell: one line, the characters Markdown or a table reads escaped
    (the words are cron-descriptor's, but escaped all the same)."""
    return re.sub(r"([\\`*_\[\]<>|#~])", r"\\\1", _escaped(text))


def mermaid_label(text: str) -> str:
    """Text to place inside a Mermaid `["..."]` label: one line, only safe characters as they are."""
    shown = (ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode() for ch in text)
    return "".join(ch if _SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in "".join(shown))


def _node(node_id: str, lines: list[str], shape: str = "box") -> str:
    label = "<br/>".join(mermaid_label(line) for line in lines)
    return f'    {node_id}(["{label}"])' if shape == "round" else f'    {node_id}["{label}"]'


def workflow_diagrams(workflows_source: str) -> list[tuple[str, str]]:
    """(workflow name, Mermaid flowchart) for each `@workflow` of a generated workflows.py."""
    diagrams = []
    for statement in ast.parse(workflows_source).body:
        if isinstance(statement, ast.FunctionDef) and any(_named(d, "workflow") for d in statement.decorator_list):
            diagrams.append((statement.name, _workflow_diagram(statement)))
    return diagrams


def _named(decorator: ast.expr, name: str) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Name) and target.id == name


def _workflow_diagram(function: ast.FunctionDef) -> str:
    lines = ["flowchart LR"]
    sources: dict[str, str] = {}  # a name in the workflow -> the node that gives it
    arguments = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
    for number, argument in enumerate(arguments):
        node_id = f"i{number}"
        annotation = f": {ast.unparse(argument.annotation)}" if argument.annotation is not None else ""
        lines.append(_node(node_id, [f"{argument.arg}{annotation}"], "round"))
        sources[argument.arg] = node_id
    edges: list[str] = []
    calls = 0
    for statement in function.body:
        value = getattr(statement, "value", None)
        if not isinstance(statement, (ast.Assign, ast.Return)) or value is None:
            continue  # the docstring
        if isinstance(value, ast.Call):
            node_id = f"t{calls}"
            calls += 1
            lines.append(_node(node_id, [ast.unparse(value.func)]))
            used = [n.id for n in ast.walk(value) if isinstance(n, ast.Name) and n.id in sources]
            edges += [f"    {sources[name]} --> {node_id}" for name in dict.fromkeys(used)]
            given = node_id
        elif isinstance(value, ast.Name) and value.id in sources:
            given = sources[value.id]
        else:
            continue
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        sources[name.id] = given
        else:
            returns = ast.unparse(function.returns) if function.returns is not None else "outputs"
            lines.append(_node("o", [f"outputs: {returns}"], "round"))
            edges.append(f"    {given} --> o")
    return "\n".join(lines + edges)


@dataclass(frozen=True)
class PlanNode:
    """What the launch plan diagram shows of one launch plan."""

    name: str
    workflow: str
    when: str  # "cron 0 0 * * *" or "every 1 day"
    kickoff: str | None  # "time = the kickoff time", or None
    fixed_inputs: dict[str, Any]


def plans_diagram(plans: list[PlanNode]) -> str | None:
    """A Mermaid flowchart: each launch plan, its timing and fixed inputs, and the workflow it starts;
    None past `MAX_DIAGRAM_PLANS` (or with no plan)."""
    if not plans or len(plans) > MAX_DIAGRAM_PLANS:
        return None
    lines = ["flowchart LR"]
    workflows: dict[str, str] = {}
    edges = []
    for number, plan in enumerate(plans):
        shown = [plan.name, plan.when]
        if plan.kickoff:
            shown.append(plan.kickoff)
        items = list(plan.fixed_inputs.items())
        shown += [f"{key} = {_short(literal(value))}" for key, value in items[:MAX_SHOWN_INPUTS]]
        if len(items) > MAX_SHOWN_INPUTS:
            shown.append(f"... {len(items) - MAX_SHOWN_INPUTS} more fixed inputs")
        lines.append(_node(f"p{number}", shown))
        if plan.workflow not in workflows:
            workflows[plan.workflow] = f"w{len(workflows)}"
            lines.append(_node(workflows[plan.workflow], [plan.workflow], "round"))
        edges.append(f"    p{number} --> {workflows[plan.workflow]}")
    return "\n".join(lines + edges)


def _short(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."
