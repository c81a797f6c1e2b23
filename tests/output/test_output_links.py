"""Nothing below the output directory is read, written, moved or removed through a symbolic link.

A link in OUT (a pull request can commit one) used to be followed: the generated files landed in
the directory it pointed to, replacing a file there without --force. Every case here must end
in exit 2 with a message naming the link, OUT and the link's target untouched, and no temporary
directory left beside OUT.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from unionml_codegen.output import transaction as write_module
from unionml_codegen.generate import render_app
from unionml_codegen.output import LinkRefused

from ..helpers import EXAMPLES, read_tree
from .test_write import invoke, leftovers


def tree_with_links(root: Path) -> dict[str, object]:
    """Every entry below `root`, links as ("link", target) without following them."""
    found: dict[str, object] = {}
    for directory, dirs, names in os.walk(root):
        for name in sorted(dirs + names):
            path = Path(directory) / name
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[key] = ("link", os.readlink(path))
            elif path.is_file():
                found[key] = path.read_bytes()
            else:
                found[key] = "dir"
    return found


@pytest.fixture
def work(tmp_path):
    """tmp/digits/app.py and a victim directory beside it holding a precious file."""
    (tmp_path / "digits").mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / "digits" / "app.py")
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "workflows.py").write_text("precious\n")
    return tmp_path


def refused(result, link: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    assert f"{link}: a symbolic link" in result.stderr
    assert "never reads, writes or removes anything through a link" in result.stderr


def test_a_linked_directory_in_out_is_refused_and_its_target_untouched(work):
    # the input: mkdir victim out; ln -s ../victim out/digits; unionml generate app.py -o out
    (work / "out").mkdir()
    (work / "out" / "digits").symlink_to("../victim")
    before = tree_with_links(work)
    result = invoke(work, "generate", "digits/app.py", "-o", "out")
    refused(result, "out/digits")
    assert result.stderr.count("out/digits: a symbolic link") == 1
    assert tree_with_links(work) == before
    assert (work / "victim" / "workflows.py").read_text() == "precious\n"
    assert not leftovers(work)


def test_force_does_not_write_through_a_link(work):
    (work / "out").mkdir()
    (work / "out" / "digits").symlink_to("../victim")
    before = tree_with_links(work)
    refused(invoke(work, "generate", "digits/app.py", "-o", "out", "--force"), "out/digits")
    assert tree_with_links(work) == before


@pytest.fixture
def generated(work):
    result = invoke(work, "generate", "digits/app.py", "-o", "out")
    assert result.exit_code == 0, result.stderr
    return work


@pytest.mark.parametrize("target", ["../../victim/workflows.py", "../../victim/nothing-here.py", "workflows.py"])
def test_a_linked_file_in_place_of_a_generated_one_is_refused_even_dangling_or_a_loop(generated, target):
    link = generated / "out" / "digits" / "workflows.py"
    link.unlink()
    link.symlink_to(target)
    (generated / "digits" / "app.py").write_text((generated / "digits" / "app.py").read_text().replace("1.0", "2.0"))
    before = tree_with_links(generated)
    for flags in ([], ["--force"], ["--check"], ["--diff"]):
        result = invoke(generated, "generate", "digits/app.py", "-o", "out", *flags)
        refused(result, "out/digits/workflows.py")
        assert "precious" not in result.stdout + result.stderr  # --diff never shows what a link points to
    assert tree_with_links(generated) == before
    assert not leftovers(generated)


def test_a_linked_manifest_is_refused(generated):
    manifest = generated / "out" / ".unionml-codegen.json"
    shutil.move(manifest, generated / "victim" / "manifest.json")
    manifest.symlink_to("../victim/manifest.json")
    before = tree_with_links(generated)
    refused(invoke(generated, "generate", "digits/app.py", "-o", "out"), "out/.unionml-codegen.json")
    refused(invoke(generated, "generate", "digits/app.py", "-o", "out", "--check"), "out/.unionml-codegen.json")
    assert tree_with_links(generated) == before


def test_an_up_to_date_project_made_of_links_is_not_up_to_date(generated):
    """The shortcut that skips rendering (manifest hashes match) must not read through links either."""
    shutil.move(generated / "out" / "digits", generated / "victim" / "digits")
    (generated / "out" / "digits").symlink_to("../victim/digits")
    refused(invoke(generated, "generate", "digits/app.py", "-o", "out", "--check"), "out/digits")


def test_a_generated_file_no_longer_generated_is_not_removed_through_a_link(generated):
    app = generated / "digits" / "app.py"
    start = app.read_text().index('model.schedule_training(\n    name="fixed_rate')
    end = app.read_text().index(")\n", start) + 2
    app.write_text(app.read_text()[:start] + app.read_text()[end:])
    gone = set(read_tree(generated / "out")) - set(render_app(app, generated / "out").files)
    assert gone == {"digits/kickoff.py"}, gone
    shutil.move(generated / "out" / "digits" / "kickoff.py", generated / "victim" / "kickoff.py")
    (generated / "out" / "digits" / "kickoff.py").symlink_to("../../victim/kickoff.py")
    before = tree_with_links(generated)
    refused(invoke(generated, "generate", "digits/app.py", "-o", "out", "--force"), "out/digits/kickoff.py")
    assert tree_with_links(generated) == before


def test_a_link_planted_after_the_check_is_not_followed_and_the_write_rolls_back(generated, monkeypatch):
    """Deterministic check-then-write race: the link appears after the conflict check and staging."""
    out = generated / "out"
    app = generated / "digits" / "app.py"
    app.write_text(app.read_text().replace("1.0", "2.0"))
    files = render_app(app, out).files
    real_stage = write_module._Transaction._stage

    def stage_then_plant(self, writes):
        real_stage(self, writes)
        shutil.move(out / "digits", generated / "moved-away")
        (out / "digits").symlink_to("../victim")

    monkeypatch.setattr(write_module._Transaction, "_stage", stage_then_plant)
    with pytest.raises(LinkRefused, match="out/digits: a symbolic link"):
        write_module.write(files, out)
    assert (generated / "victim" / "workflows.py").read_text() == "precious\n"
    assert sorted(os.listdir(generated / "victim")) == ["workflows.py"]
    assert os.readlink(out / "digits") == "../victim"
    assert not leftovers(generated)


def test_out_itself_may_be_a_link_to_a_directory_and_the_cli_says_so(work):
    (work / "real-out").mkdir()
    (work / "out").symlink_to("real-out")
    result = invoke(work, "generate", "digits/app.py", "-o", "out")
    assert result.exit_code == 0, result.stderr
    assert "note: out is a symbolic link; using the directory it points to" in result.stderr
    assert (work / "real-out" / "digits" / "workflows.py").is_file()
    assert invoke(work, "generate", "digits/app.py", "-o", "out", "--check").exit_code == 0


def test_out_as_a_dangling_link_is_a_clear_error_and_nothing_is_created(work):
    (work / "out").symlink_to("nowhere/flyte")
    before = tree_with_links(work)
    result = invoke(work, "generate", "digits/app.py", "-o", "out")
    assert result.exit_code == 2
    assert "error: out is a symbolic link to a directory that does not exist ('nowhere/flyte')" in result.stderr
    assert "File exists" not in result.stderr and "Traceback" not in result.stderr
    assert tree_with_links(work) == before


def test_a_fifo_in_place_of_a_generated_file_is_never_opened(generated):
    """Only regular files are read in OUT: a FIFO would block a read forever."""
    fifo = generated / "out" / "digits" / "workflows.py"
    fifo.unlink()
    os.mkfifo(fifo)
    check = invoke(generated, "generate", "digits/app.py", "-o", "out", "--check")
    assert check.exit_code == 1 and "changed: digits/workflows.py" in check.stderr, check.output
    refused = invoke(generated, "generate", "digits/app.py", "-o", "out")
    assert refused.exit_code == 2 and "out/digits/workflows.py: generated earlier and edited since" in refused.stderr
    forced = invoke(generated, "generate", "digits/app.py", "-o", "out", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert fifo.is_file() and not leftovers(generated)
