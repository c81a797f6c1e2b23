"""The documentation site: it builds with `mkdocs build --strict`, its pages render what their
Markdown says (tabs, Mermaid diagrams, no raw fences), its CLI reference covers every command,
and every code block that is an app or a command runs (tests/support/docs_blocks.py).

What a browser shows is checked by scripts/check-site (headless Chromium), not here.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.support import docs_blocks
from tests.support.docs_blocks import Block

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
PAGES = sorted(p.name for p in DOCS.glob("*.md"))
BLOCKS = {page: docs_blocks.blocks_of(DOCS / page, f"docs/{page}") for page in PAGES}
#: Pages whose code blocks another test runs, each in its own way: page -> that test file.
DELEGATED = {"errors.md": "tests/cli/test_codes.py"}


def _load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks_includes", REPO / "docs_hooks" / "includes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = _load_hooks()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(REPO / "mkdocs.yml"), "-d", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "UNIONML_DOCS_MERMAID_JS": ""},
    )  # fmt: skip
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


def _page_html(site: Path, page: str) -> str:
    name = page.removesuffix(".md")
    path = site / "index.html" if name == "index" else site / name / "index.html"
    return path.read_text(encoding="utf-8")


def _article(page_html: str) -> str:
    match = re.search(r"<article[^>]*>(.*)</article>", page_html, re.DOTALL)
    assert match, "no <article> in the page"
    return match.group(1)


def test_every_page_is_built_with_the_navigation(site):
    for page in PAGES:
        text = _page_html(site, page)
        assert 'class="md-nav' in text, page
        for other in set(PAGES) - {page}:  # every page is reachable from every other page's navigation
            name = other.removesuffix(".md")
            target = r"\.\." if name == "index" else rf"(\.\./)?{re.escape(name)}/"
            assert re.search(rf'href="{target}"', text), (page, other)


def test_pages_show_no_raw_markdown_fences_markers_or_directives(site):
    for page in PAGES:
        article = _article(_page_html(site, page))
        text = re.sub(r"<pre.*?</pre>|<code.*?</code>", "", article, flags=re.DOTALL)
        shown = html.unescape(re.sub(r"<!--.*?-->|<[^>]+>", "", text, flags=re.DOTALL))
        assert "```" not in shown and "<!-- test" not in shown and "#include" not in shown, page


def test_each_mermaid_block_becomes_a_diagram(site):
    seen = 0
    for page in PAGES:
        source = hooks.expand((DOCS / page).read_text(encoding="utf-8"))
        fences = sum(block.language == "mermaid" for block in docs_blocks.blocks_of_text(source))
        diagrams = len(re.findall(r'<pre class="mermaid"><code>', _page_html(site, page)))
        assert diagrams == fences, page
        seen += fences
    assert seen >= 2


def test_scheduling_shows_app_and_generated_code_in_tabs(site):
    article = _article(_page_html(site, "scheduling.md"))
    sets = re.findall(r'<div class="tabbed-set.*?<div class="tabbed-content">', article, re.DOTALL)
    assert len(sets) >= 10
    for tabs in sets:
        labels = re.findall(r"<label[^>]*>(.*?)</label>", tabs, re.DOTALL)
        assert len(labels) >= 2 and "app.py" in labels[0], labels


def test_cli_reference_covers_every_command(site):
    from unionml_codegen.cli import main

    article = html.unescape(re.sub(r"<[^>]+>", "", _article(_page_html(site, "cli.md"))))

    def walk(command: click.Command, path: str):
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    for path, command in walk(main, "unionml"):
        assert f"Usage:\n{path} " in article, path
        for param in command.params:
            for opt in param.opts if isinstance(param, click.Option) else []:
                assert opt in article, (path, opt)


def test_code_blocks_are_marked_for_the_tests():
    blocks = [block for page in PAGES if page not in DELEGATED for block in BLOCKS[page]]
    assert docs_blocks.problems(blocks) == []
    kinds = {block.kind for block in blocks}
    assert {"run", "app", "skip", "include", "output"} <= kinds, kinds


def test_pages_whose_blocks_another_test_runs_name_it():
    for page, test in DELEGATED.items():
        if (DOCS / page).exists():
            assert page in (REPO / test).read_text(encoding="utf-8"), (page, test)


def _steps() -> list[tuple[Block, Block | None]]:
    steps = []
    for page in PAGES:
        if page in DELEGATED:
            continue
        blocks = BLOCKS[page]
        for index, block in enumerate(blocks):
            if block.kind in ("run", "app", "write", "parse"):
                following = blocks[index + 1] if index + 1 < len(blocks) else None
                steps.append((block, following if following is not None and following.kind == "output" else None))
    return steps


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory):
    made: dict[str, Path] = {}
    unionml_bin = docs_blocks.make_unionml_bin(tmp_path_factory.mktemp("bin"))

    def workspace(page: str) -> tuple[Path, Path]:
        if page not in made:
            root = tmp_path_factory.mktemp("workspace")
            shutil.copytree(REPO / "examples", root / "examples", ignore=shutil.ignore_patterns("__pycache__"))
            made[page] = root
        return made[page], unionml_bin

    return workspace


@pytest.mark.parametrize("block,output", _steps(), ids=lambda value: value.id if isinstance(value, Block) else "")
def test_code_block_runs(block: Block, output: Block | None, workspaces):
    workspace, unionml_bin = workspaces(block.page)
    outcome = docs_blocks.run_block(block, workspace, unionml_bin)
    if outcome is None:
        return
    shown = f"{block.id} exited {outcome.returncode}:\n{outcome.output}"
    assert outcome.returncode == docs_blocks.expected_exit(block), shown
    if output is not None:
        assert docs_blocks.output_matches(
            output.body, outcome.output
        ), f"{shown}\nexpected ({output.id}):\n{output.body}"


def test_the_runner_can_fail(tmp_path):
    unionml_bin = docs_blocks.make_unionml_bin(tmp_path / "bin")
    failing = Block("docs/x.md", 1, "bash", "true\nexit 3\n")
    assert docs_blocks.run_block(failing, tmp_path, unionml_bin).returncode == 3
    assert docs_blocks.output_matches("a ... c", "a b\nb c")
    assert not docs_blocks.output_matches("a ... c", "a b d")
    unmarked = docs_blocks.blocks_of_text("```bash\nls\n```\n\n```\nls\n```\n<!-- test: skip -->\n```bash\nls\n```\n")
    assert [b.kind for b in unmarked] == ["run", "shown", "skip"]
    assert len(docs_blocks.problems(unmarked)) == 2  # a block without a language, a skip without a reason


def test_includes_pick_exactly_one_part():
    text = hooks.code_of("examples/seed_guide/app.py", ["daily_predictions_with_model_file"])
    assert text.startswith("# prediction with a model file") and "with NamedTemporaryFile() as saved:" in text
    assert hooks.code_of("examples/seed_guide/flyte/seed_guide/launch_plans.py", ["cron_daily_training"]).startswith(
        "cron_daily_training = LaunchPlan.get_or_create("
    )
    for selectors in (["no_such_schedule"], ["reader", "no_such_function"]):
        with pytest.raises(hooks.IncludeError, match="matches 0"):
            hooks.code_of("examples/seed_guide/app.py", selectors)
    with pytest.raises(hooks.IncludeError, match="not a file of the repository"):
        hooks.code_of("../outside.py", [])
    with pytest.raises(hooks.IncludeError, match="occurs 0 times"):
        hooks.code_of("examples/digits/flyte/README.md", ["## No such section"])


def test_only_pages_announced_as_coming_may_be_missing_from_the_nav(tmp_path):
    (tmp_path / "here.md").write_text("# here\n")
    nav = [{"Home": "here.md"}, {"Later": "later.md"}, {"Reference": [{"Gone": "gone.md"}, {"Later": "later.md"}]}]
    assert hooks._without_missing(nav, {"later.md"}, tmp_path) == [
        {"Home": "here.md"},
        {"Reference": [{"Gone": "gone.md"}]},
    ]


def test_a_block_left_to_another_test_names_a_test_that_runs_its_commands():
    """`<!-- test: skip ... tests/test_x.py runs these ... -->`: that file exists and runs each `unionml` command."""
    named = 0
    for page in PAGES:
        for block in BLOCKS[page]:
            reason = block.marker.get("reason", "") if block.kind == "skip" else ""
            for test in re.findall(r"tests/\S+\.py", reason):
                text = (REPO / test).read_text(encoding="utf-8")
                for command in re.findall(r"^\s*unionml ([a-z-]+)", block.body, re.MULTILINE):
                    assert f'"{command}"' in text, (block.id, test, command)
                    named += 1
    assert named >= 5


def test_pages_load_the_layout_rules_that_keep_output_and_names_whole(site):
    """Output blocks wrap rather than clip, a name in a table never breaks mid-word (the embedded README's
    launch plan table), and the grid is wide enough for 120-column code at 1280 px (docs/stylesheets)."""
    css = (site / "stylesheets" / "extra.css").read_text()
    rules = {m.group(1).strip(): m.group(2) for m in re.finditer(r"([^{}/]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S))}
    assert "white-space: pre-wrap" in rules[".md-typeset .language-text pre > code"]
    assert "white-space: nowrap" in rules[".md-typeset table:not([class]) td code"]
    # mkdocs-material's 61rem grid leaves a code block about 720 px at a 1280 px window: 120 columns need more
    assert float(re.search(r"max-width:\s*([\d.]+)rem", rules[".md-grid"]).group(1)) >= 75
    for page in PAGES:
        assert re.search(r'<link rel="stylesheet" href="(\.\./)*stylesheets/extra\.css"', _page_html(site, page)), page
    assert re.search(r"<td><code>[a-z_]+</code></td>", _page_html(site, "scheduling.md"))  # names in table cells


def test_the_offline_build_links_pages_as_files_and_draws_diagrams_with_its_own_mermaid(tmp_path):
    """What scripts/build-docs builds (a site read from disk): page links are files, mermaid.js and
    iframe-worker's shim (search from disk) are the site's own copies, and no page loads a script from elsewhere."""
    mermaid = tmp_path / "mermaid.min.js"
    mermaid.write_text("window.mermaid = {};  /* a stand-in for the npm file */\n")
    shim = tmp_path / "shim.js"
    shim.write_text("/* a stand-in for iframe-worker's shim */\n")
    out = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(REPO / "mkdocs.yml"), "-d", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "UNIONML_DOCS_OFFLINE": "true",
             "UNIONML_DOCS_MERMAID_JS": str(mermaid), "UNIONML_DOCS_IFRAME_WORKER_JS": str(shim)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    index = (out / "index.html").read_text()
    assert 'href="quickstart.html"' in index and (out / "quickstart.html").is_file()
    assert (out / "assets/javascripts/mermaid.min.js").read_bytes() == mermaid.read_bytes()
    assert (out / "assets/javascripts/iframe-worker-shim.js").read_bytes() == shim.read_bytes()
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', index)
    assert "assets/javascripts/iframe-worker-shim.js" in scripts, scripts
    assert "assets/javascripts/mermaid.min.js" in scripts, scripts  # a plain script: defined before the page loads
    assert not [s for s in scripts if "//" in s], scripts
