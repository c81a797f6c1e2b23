"""One escaping function per place app text lands in a generated file.

App text (a model's name, a dataset's description, a schedule's name) is written into docstrings,
comments, Markdown, HTML comments, shell words and requirement lines; each place has its own
function here, and the templates reach them as filters (templates.py). Nothing from the app is
written anywhere without going through one of them or through `names.literal`.
"""

from __future__ import annotations

import re


def _escaped(text: str, special: str = "") -> str:
    """`text` on one printable line: backslash, the characters in `special`, and every character that is
    not printable (newlines, NUL, other control characters, line separators, lone surrogates) escaped
    as in a Python string literal."""
    out = []
    for char in text:
        if char == "\\" or char in special:
            out.append("\\" + char)
        elif char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF:
            out.append(char)
        else:
            out.append(repr(char)[1:-1] if char != "'" else char)
    return "".join(out)


def python_docstring(text: str) -> str:
    """Text to place inside a `\"\"\"docstring\"\"\"`: the docstring's value is `text` shown on one printable
    line (as `_escaped` shows it), so a lone surrogate or NUL never reaches the value flytekit serializes."""
    return _escaped(_escaped(text), special='"')


def python_comment(text: str) -> str:
    """Text to place after `#` in Python (also a Dockerfile or requirements.txt comment): one line."""
    return _escaped(text)


def markdown_code(text: str) -> str:
    """An inline code span showing `text`, safe in a Markdown table cell."""
    shown = _escaped(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if longest or shown.startswith(" ") or shown.endswith(" ") else ""
    return f"{fence}{padding}{shown}{padding}{fence}"


def markdown_text(text: str) -> str:
    """Plain Markdown text showing `text`: every ASCII punctuation character backslash-escaped."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", _escaped(text))


def html_comment(text: str) -> str:
    """Text to place inside `<!-- ... -->`: one line, no `--`."""
    shown = _escaped(text)
    while "--" in shown:
        shown = shown.replace("--", "- -")
    return shown


def shell_word(text: str) -> str:
    """One shell word (for commands shown in the generated README)."""
    import shlex

    return shlex.quote(_escaped(text))


REQUIREMENT = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9,._-]+\])?([<>=!~][A-Za-z0-9.*+!_,<>=~-]*)?"
)


def requirement(text: str) -> str:
    """A requirements.txt line: a distribution name with an optional version specifier, nothing else."""
    if not REQUIREMENT.fullmatch(text):
        raise ValueError(f"not a requirement: {text!r}")
    return text
