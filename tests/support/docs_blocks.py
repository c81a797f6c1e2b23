"""The code blocks of the documentation site (docs/*.md), and how the tests run them.

Every fenced block has a language. Blocks of a command language (bash, sh, python) run
unless the line before them says otherwise, in an HTML comment the site does not show:

    <!-- test: skip REASON -->         not run here; the reason is required (a cluster, an install)
    <!-- test: cwd=PATH exit=N -->     run in PATH of the page's workspace; expect exit code N (0)
    <!-- test: app exit=N args=... --> a Python block that is a UnionML app: written to app.py and
                                       generated with `unionml generate app.py -o flyte ARGS`
    <!-- test: write=PATH -->          the block's text is written to PATH of the workspace
    <!-- test: output -->              the expected output (stderr, then stdout) of the block before;
                                       `...` matches any text, trailing spaces are ignored

A block whose body is an `#include` directive shows committed code (docs_hooks/includes.py):
the site build resolves it and tests/e2e/test_examples.py keeps the file current. toml, yaml and
json blocks are parsed. Other languages (text, mermaid, markdown) are shown, not run.

Each page gets a workspace: a temporary copy of examples/, in which its blocks run in order.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import yaml

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

COMMAND_LANGUAGES = {"bash", "sh", "python"}
PARSED_LANGUAGES = {"toml", "yaml", "json"}
SHOWN_LANGUAGES = {"text", "mermaid", "markdown"}

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>.*)$")
_MARKER = re.compile(r"^\s*<!-- test: (?P<spec>.*?) -->\s*$")


@dataclass
class Block:
    page: str  # docs/NAME.md
    line: int  # 1-based line of the opening fence
    language: str
    body: str
    marker: dict[str, str] = field(default_factory=dict)  # {"kind": ..., key: value}

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def kind(self) -> str:
        if self.marker.get("kind"):
            return self.marker["kind"]
        if "write" in self.marker:
            return "write"
        if self.body.lstrip().startswith("#include "):
            return "include"
        if self.language in COMMAND_LANGUAGES:
            return "run"
        if self.language in PARSED_LANGUAGES:
            return "parse"
        return "shown"


def blocks_of(path: Path, page: str) -> list[Block]:
    """The fenced blocks of a Markdown page, with the marker on the line before each."""
    return blocks_of_text(path.read_text(encoding="utf-8"), page)


def blocks_of_text(text: str, page: str = "docs/page.md") -> list[Block]:
    lines = text.split("\n")
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opened = _FENCE.match(lines[i])
        if not opened:
            i += 1
            continue
        indent, fence, info = opened.group("indent"), opened.group("fence"), opened.group("info")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            body.append(lines[j])
            j += 1
        if j == len(lines):
            raise ValueError(f"{page}:{i + 1}: a code block is never closed")
        previous = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        marker = _MARKER.match(previous)
        blocks.append(
            Block(
                page=page,
                line=i + 1,
                language=(info.split() or [""])[0].lstrip("{.").rstrip("}"),
                body=textwrap.dedent(
                    "\n".join(line[len(indent) :] if line.startswith(indent) else line for line in body)
                ),
                marker=parse_marker(marker.group("spec")) if marker else {},
            )
        )
        i = j + 1
    return blocks


def parse_marker(spec: str) -> dict[str, str]:
    words = shlex.split(spec)
    if words and words[0] == "skip":
        return {"kind": "skip", "reason": " ".join(words[1:])}
    marker: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition("=")
        if sep:
            marker[key] = value
        elif "kind" in marker:
            raise ValueError(f"two kinds in test marker {spec!r}")
        else:
            marker["kind"] = key
    return marker


def problems(blocks: list[Block]) -> list[str]:
    """What is wrong with how the blocks are marked (not with what they do)."""
    out = []
    for index, block in enumerate(blocks):
        known = COMMAND_LANGUAGES | PARSED_LANGUAGES | SHOWN_LANGUAGES
        if block.language not in known:
            out.append(f"{block.id}: code block language {block.language!r} is none of {sorted(known)}")
        kind = block.marker.get("kind", "")
        if kind not in ("", "skip", "app", "run", "output", "write"):
            out.append(f"{block.id}: unknown test marker kind {kind!r}")
        if kind == "skip" and not block.marker["reason"].strip():
            out.append(f"{block.id}: `test: skip` needs a reason")
        if kind == "app" and block.language != "python":
            out.append(f"{block.id}: an app block must be python")
        if kind == "output" and (index == 0 or blocks[index - 1].kind not in ("run", "app")):
            out.append(f"{block.id}: an output block must follow a block that runs")
    return out


@dataclass
class Outcome:
    returncode: int
    output: str  # stderr, then stdout


def run_block(block: Block, workspace: Path, unionml_bin: Path) -> Outcome | None:
    """Run (or write, or parse) one block in the page's workspace; None when nothing ran."""
    kind = block.kind
    if kind in ("skip", "include", "shown", "output"):
        return None
    if kind == "parse":
        {"toml": tomllib.loads, "yaml": yaml.safe_load, "json": json.loads}[block.language](block.body)
        return None
    if kind == "write":
        target = workspace / block.marker["write"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.body, encoding="utf-8")
        return None
    cwd = workspace / block.marker.get("cwd", ".")
    env = {
        **os.environ,
        "PATH": f"{unionml_bin}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    }
    if kind == "app":
        cwd.mkdir(parents=True, exist_ok=True)
        (cwd / "app.py").write_text(block.body, encoding="utf-8")
        command = [
            str(unionml_bin / "unionml"),
            "generate",
            "app.py",
            "-o",
            "flyte",
            *shlex.split(block.marker.get("args", "")),
        ]
    elif block.language == "python":
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(cwd), env.get("PYTHONPATH", "")) if p)
        command = [sys.executable, "-c", block.body]
    else:
        command = ["bash", "-euo", "pipefail", "-c", block.body]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    return Outcome(result.returncode, result.stderr + result.stdout)


def expected_exit(block: Block) -> int:
    return int(block.marker.get("exit", "0"))


def output_matches(expected: str, actual: str) -> bool:
    """`...` in the expected text matches any text (also across lines); trailing spaces do not count."""

    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))

    pattern = ".*?".join(re.escape(part) for part in norm(expected).split("..."))
    return re.fullmatch(pattern, norm(actual), re.DOTALL) is not None


def make_unionml_bin(directory: Path) -> Path:
    """A `unionml` on PATH that runs this checkout's generator with the test's interpreter."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "unionml"
    script.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m unionml_codegen "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return directory
