"""`kill -9` while the project is written: the next run recovers, and leaves nothing beside OUT.

SIGKILL runs no handler, so nothing can roll back in the killed process. The test makes the kill
land at a chosen point: a fresh interpreter runs `unionml generate` with the file-system calls of
the commit (`os.replace`, `os.mkdir`, `os.rmdir`, `os.unlink`) counted, and sends itself SIGKILL
right after the N-th one, for every N until a run completes. After each kill, a plain
`unionml generate` (no --force) must succeed, leave exactly the project a clean run writes
(plus a person's own file), and leave no temporary directory beside OUT.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

from ..helpers import EXAMPLES, read_tree, run_cli
from .test_write import FIXED_RATE_SCHEDULE, edit_app, invoke, leftovers

KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from unionml_codegen.cli import main

    count, kill_after = 0, int(sys.argv[1])

    def counted(real):
        def call(*args, **kwargs):
            global count
            result = real(*args, **kwargs)
            count += 1
            if count == kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return result
        return call

    def start_counting():
        for name in ("replace", "mkdir", "rmdir", "unlink"):
            setattr(os, name, counted(getattr(os, name)))

    import unionml_codegen.output as write
    real_write = write.write
    def write_counting(*args, **kwargs):
        start_counting()  # reading and rendering the app make no calls that count
        return real_write(*args, **kwargs)
    write.write = write_counting
    import unionml_codegen.generate as generate
    generate.write = write_counting
    main(["generate", "app.py", "-o", "flyte"], prog_name="unionml")
    """)


@pytest.fixture
def stale(tmp_path):
    """digits/flyte generated, a person's NOTES.md in it, and an app edit that changes, creates and removes files."""
    app_dir = tmp_path / "digits"
    app_dir.mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", app_dir / "app.py")
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=app_dir).returncode == 0
    (app_dir / "flyte" / "NOTES.md").write_text("mine\n")
    edit_app(app_dir, FIXED_RATE_SCHEDULE, "")
    edit_app(app_dir, '"C": 1.0', '"C": 2.0')
    expected = tmp_path / "expected" / "digits"  # the package is named after the app's directory
    shutil.copytree(app_dir, expected)
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=expected).returncode == 0
    return app_dir, read_tree(app_dir / "flyte"), read_tree(expected / "flyte")


def test_a_rerun_after_kill_9_at_any_step_of_the_write_succeeds_without_force(stale, tmp_path):
    app_dir, before, expected = stale
    killed = 0
    for kill_after in range(1, 60):
        work = tmp_path / f"kill-{kill_after}" / "digits"
        shutil.copytree(app_dir, work)
        run = subprocess.run(
            [sys.executable, "-c", KILLED_RUN, str(kill_after)], cwd=work, capture_output=True, text=True, timeout=120
        )
        if run.returncode == 0:
            break  # fewer calls than kill_after: every step has been tried
        assert run.returncode == -signal.SIGKILL, run.stderr
        killed += 1
        rerun = invoke(work, "generate", "app.py", "-o", "flyte")
        assert rerun.exit_code == 0, f"after a kill at call {kill_after}:\n{rerun.stderr}"
        assert read_tree(work / "flyte") == expected, f"after a kill at call {kill_after}"
        assert not leftovers(work), f"after a kill at call {kill_after}"
    assert killed >= 8, f"only {killed} kills landed during the write"
    print(f"{killed} kills")
    assert read_tree(work / "flyte") == expected and not leftovers(work)
    assert before != expected


def test_a_run_that_is_still_going_keeps_its_temporary_directory(stale):
    """Only directories whose owner is gone are recovered: a live run's lock protects it."""
    from unionml_codegen import output as write_module

    app_dir, before, _ = stale
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import fcntl, os, sys, tempfile
            tmp = tempfile.mkdtemp(prefix=".flyte" + sys.argv[1], dir=".")
            fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(fd, fcntl.LOCK_EX)
            print(tmp, flush=True)
            sys.stdin.read()
            """), write_module.TEMP_MARK],
        cwd=app_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        name = holder.stdout.readline().strip()
        assert name
        (app_dir / name / "someone-elses").write_text("in use\n")
        assert write_module.recover(app_dir / "flyte") == []
        assert (app_dir / name / "someone-elses").read_text() == "in use\n"
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    # its owner is gone, but no run of this machine recorded it: it is named, kept and never undone
    with pytest.raises(write_module.WriteRefused) as refused:
        write_module.recover(app_dir / "flyte")
    assert refused.value.code.code == "UMG610"
    assert (app_dir / name / "someone-elses").read_text() == "in use\n"
    assert read_tree(app_dir / "flyte") == before


def test_directories_that_only_look_like_ours_are_left_alone(stale):
    from unionml_codegen import output as write_module

    app_dir, _, _ = stale
    mark = write_module.TEMP_MARK
    (app_dir / f".flyte{mark}a-file").write_text("not a directory\n")
    (app_dir / "elsewhere").mkdir()
    (app_dir / "elsewhere" / "keep").write_text("keep\n")
    (app_dir / f".flyte{mark}a-link").symlink_to("elsewhere")
    (app_dir / f".other{mark}x").mkdir()
    assert write_module.recover(app_dir / "flyte") == []
    assert (app_dir / "elsewhere" / "keep").read_text() == "keep\n"
    assert (app_dir / f".flyte{mark}a-file").is_file() and (app_dir / f".other{mark}x").is_dir()


@pytest.mark.parametrize("kill_after", [1, 2, 6, 12])
def test_a_first_generation_killed_part_way_is_recovered_by_the_next_run(tmp_path, kill_after):
    app_dir = tmp_path / "digits"
    app_dir.mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", app_dir / "app.py")
    expected = tmp_path / "expected" / "digits"
    shutil.copytree(app_dir, expected)
    assert run_cli("generate", "app.py", "-o", "flyte", cwd=expected).returncode == 0
    run = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(kill_after)], cwd=app_dir, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert leftovers(app_dir)
    rerun = invoke(app_dir, "generate", "app.py", "-o", "flyte")
    assert rerun.exit_code == 0, rerun.stderr
    assert read_tree(app_dir / "flyte") == read_tree(expected / "flyte")
    assert not leftovers(app_dir)


def test_check_after_a_kill_says_the_next_run_recovers_and_touches_nothing(stale):
    app_dir, _, _ = stale
    run = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, "4"], cwd=app_dir, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    [left] = leftovers(app_dir)
    half_written = read_tree(app_dir / "flyte")
    check = invoke(app_dir, "generate", "app.py", "-o", "flyte", "--check")
    assert check.exit_code == 1, check.output
    assert f"note: a run killed while writing flyte left {left} beside it" in check.stderr
    assert read_tree(app_dir / "flyte") == half_written and leftovers(app_dir) == [left]
    assert invoke(app_dir, "generate", "app.py", "-o", "flyte").exit_code == 0
    assert not leftovers(app_dir)
