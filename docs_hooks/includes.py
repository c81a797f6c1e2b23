"""mkdocs hooks of the documentation site (mkdocs.yml `hooks:`).

Code on the site is taken from the committed examples, never pasted, so it cannot drift from
what the generator writes (tests/test_examples.py keeps the examples regenerated):

- inside a fenced code block, a line `#include PATH [SELECTOR ...]` is replaced by code of PATH
  (relative to the repository root). For a Python file a SELECTOR names a top-level `def` or
  `class`, a top-level assignment to that name, or the top-level statement holding a call with
  `name="SELECTOR"` (a schedule); a SELECTOR that is not a name (`model.train(`) picks the
  top-level statement starting with that text. The comment lines right above it come along. For a Markdown file
  a SELECTOR is a heading line (`"## Schedules"`): that section, up to the next heading of the
  same or a higher level. No SELECTOR: the whole file. A selector that matches nothing, or more
  than one thing, stops the build.
- outside code blocks, a line `#include-markdown PATH "HEADING"` is replaced by the body of that
  section of PATH (without its heading), indented as the line is (so it can sit in an admonition),
  with links to `docs/X.md` made relative to the site.

Pages other work is adding may be in the nav before they exist: those listed under
`extra: pages_that_may_not_exist_yet` in mkdocs.yml are left out of the nav while missing (any other
missing page still fails the strict build).

The site is self-contained when UNIONML_DOCS_MERMAID_JS names a local mermaid.min.js (see
scripts/check-site, scripts/build-docs): it is copied into the built site and loaded before
mkdocs-material's bundle looks for `mermaid`, so nothing is fetched from a CDN. Without it,
mkdocs-material loads mermaid from its CDN as usual. The offline build (UNIONML_DOCS_OFFLINE, the
offline plugin) also needs UNIONML_DOCS_IFRAME_WORKER_JS, iframe-worker's shim, which search needs
from disk: it replaces the plugin's CDN address.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError

REPO = Path(__file__).resolve().parents[1]
MERMAID_ENV = "UNIONML_DOCS_MERMAID_JS"
MERMAID_SITE_PATH = "assets/javascripts/mermaid.min.js"
SHIM_ENV = "UNIONML_DOCS_IFRAME_WORKER_JS"
SHIM_SITE_PATH = "assets/javascripts/iframe-worker-shim.js"

_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})")
_CODE_INCLUDE = re.compile(r"^(?P<indent>\s*)#include (?P<args>.+)$")
_MARKDOWN_INCLUDE = re.compile(r"^(?P<indent>\s*)#include-markdown (?P<args>.+)$")
_HEADING = re.compile(r"^(#{1,6}) ")


def on_config(config, **kwargs):
    from unionml_codegen.cli import main

    main.load_all()  # the CLI reference (mkdocs-click) reads main.commands; cli.py imports commands lazily
    if os.environ.get(MERMAID_ENV):
        config.extra_javascript.insert(0, MERMAID_SITE_PATH)
    if os.environ.get("UNIONML_DOCS_OFFLINE", "").lower() in ("1", "true", "yes"):
        if not (os.environ.get(SHIM_ENV) and os.environ.get(MERMAID_ENV)):
            raise PluginError(f"an offline build needs {MERMAID_ENV} and {SHIM_ENV} (scripts/build-docs sets both)")
        # before or after the offline plugin's on_config: its CDN address is replaced by the site's copy
        polyfills = [url for url in config.extra.get("polyfills", []) if "iframe-worker" not in url]
        config.extra["polyfills"] = [*polyfills, SHIM_SITE_PATH]
    optional = set(config.extra.get("pages_that_may_not_exist_yet", []))
    config.nav = _without_missing(config.nav, optional, Path(config.docs_dir))
    return config


def _without_missing(nav, optional: set[str], docs: Path):
    """The nav without the entries of `optional` pages that are not in docs/ (yet)."""
    if isinstance(nav, list):
        kept = [_without_missing(item, optional, docs) for item in nav]
        return [item for item in kept if item is not None]
    if isinstance(nav, dict):
        kept = {title: _without_missing(value, optional, docs) for title, value in nav.items()}
        return {title: value for title, value in kept.items() if value is not None and value != []} or None
    if isinstance(nav, str) and nav in optional and not (docs / nav).is_file():
        return None
    return nav


def on_post_build(config, **kwargs):
    for env, path in ((MERMAID_ENV, MERMAID_SITE_PATH), (SHIM_ENV, SHIM_SITE_PATH)):
        source = os.environ.get(env)
        if source:
            target = Path(config.site_dir) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def on_page_markdown(markdown: str, page, **kwargs) -> str:
    where = page.file.src_uri
    try:
        return expand(markdown)
    except IncludeError as exc:
        raise PluginError(f"{where}: {exc}") from None


class IncludeError(Exception):
    pass


def expand(markdown: str) -> str:
    """The page's Markdown with every include directive replaced by what it names."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        opened = _FENCE.match(line)
        if fence is None:
            if opened:
                fence = opened.group("fence")
            elif match := _MARKDOWN_INCLUDE.match(line):
                path, *selectors = _arguments(match.group("args"))
                if len(selectors) != 1:
                    raise IncludeError(f"#include-markdown takes a path and one heading: {line!r}")
                indent = match.group("indent")
                body = markdown_section_body(path, selectors[0])
                out.extend(indent + text if text else text for text in body.split("\n"))
                continue
        elif opened and opened.group("fence")[0] == fence[0] and len(opened.group("fence")) >= len(fence):
            if line.strip() == opened.group("fence"):
                fence = None
        elif match := _CODE_INCLUDE.match(line):
            path, *selectors = _arguments(match.group("args"))
            code = code_of(path, selectors)
            indent = match.group("indent")
            out.extend(indent + text if text else text for text in code.split("\n"))
            continue
        out.append(line)
    if fence is not None:
        raise IncludeError(f"a code block opened with {fence} is never closed")
    return "\n".join(out)


def _arguments(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise IncludeError(f"cannot read include arguments {text!r}: {exc}") from None


def read(path: str) -> str:
    file = (REPO / path).resolve()
    if REPO not in file.parents or not file.is_file():
        raise IncludeError(f"cannot include {path!r}: not a file of the repository")
    return file.read_text(encoding="utf-8")


def code_of(path: str, selectors: list[str]) -> str:
    """The text an include names: the whole file, or the parts its selectors pick."""
    text = read(path)
    if not selectors:
        return text.rstrip("\n")
    if path.endswith(".py"):
        parts = [python_part(path, text, selector) for selector in selectors]
    elif path.endswith(".md"):
        parts = [markdown_section(path, text, selector) for selector in selectors]
    else:
        raise IncludeError(f"cannot select parts of {path!r}: only .py and .md files have selectors")
    return "\n\n".join(parts)


def python_part(path: str, text: str, selector: str) -> str:
    lines = text.split("\n")
    if selector.isidentifier():
        found = [node for node in ast.parse(text).body if _matches(node, selector)]
    else:  # a statement's opening text, `model.train(`
        found = [node for node in ast.parse(text).body if lines[node.lineno - 1].startswith(selector)]
    if len(found) != 1:
        raise IncludeError(f"{path}: selector {selector!r} matches {len(found)} top-level statements, not one")
    node = found[0]
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "\n".join(lines[start : node.end_lineno])


def _matches(node: ast.stmt, selector: str) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == selector
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
        if any(isinstance(name, ast.Name) and name.id == selector for name in names):
            return True
    if isinstance(node, (ast.Expr, ast.With)):
        return any(_names_schedule(call, selector) for call in ast.walk(node) if isinstance(call, ast.Call))
    return False


def _names_schedule(call: ast.Call, name: str) -> bool:
    values = [k.value for k in call.keywords if k.arg == "name"] + call.args[:1]
    return any(isinstance(v, ast.Constant) and v.value == name for v in values)


def markdown_section(path: str, text: str, heading: str) -> str:
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == heading.strip()]
    if len(starts) != 1:
        raise IncludeError(f"{path}: heading {heading!r} occurs {len(starts)} times, not once")
    start = starts[0]
    level = len(_HEADING.match(lines[start]).group(1)) if _HEADING.match(lines[start]) else 7
    end = len(lines)
    fence = False
    for i in range(start + 1, len(lines)):
        if _FENCE.match(lines[i]):
            fence = not fence
        heading_match = None if fence else _HEADING.match(lines[i])
        if heading_match and len(heading_match.group(1)) <= level:
            end = i
            break
    return "\n".join(lines[start:end]).strip("\n")


def markdown_section_body(path: str, heading: str) -> str:
    section = markdown_section(path, read(path), heading)
    body = section.split("\n", 1)[1] if "\n" in section else ""
    # links that are relative to the repository root point into the site's own pages
    return re.sub(r"\]\(docs/([^)]+)\)", r"](\1)", body).strip("\n")
