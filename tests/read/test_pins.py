"""pins.py reads the app's project files like the other readers (inputs.py): only bounded regular
files inside the app's repository, links resolved, never a repository at the home directory or the
file system's root (a dotfiles repository there must not make the user's every file "the project")."""

from __future__ import annotations

import os

from unionml_codegen.requirements import find_pins


def test_pins_are_read_up_to_the_repository_root(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "shop").mkdir()
    (tmp_path / "repo" / "requirements.txt").write_text("pandas==2.2.3\n")
    (tmp_path / "requirements.txt").write_text("scikit-learn==0.1\n")  # above the repository
    assert find_pins(tmp_path / "repo" / "shop") == {"pandas": "pandas==2.2.3"}


def test_a_requirements_file_linked_out_of_the_repository_is_not_read(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "shop").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "requirements.txt").write_text("pandas==9.9.9\n")
    (tmp_path / "outside" / "pyproject.toml").write_text('[project]\ndependencies = ["numpy==9.9.9"]\n')
    os.symlink(tmp_path / "outside" / "requirements.txt", tmp_path / "repo" / "shop" / "requirements.txt")
    os.symlink(tmp_path / "outside" / "pyproject.toml", tmp_path / "repo" / "pyproject.toml")
    assert find_pins(tmp_path / "repo" / "shop") == {}


def test_a_requirements_file_linked_inside_the_repository_is_read(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "shop").mkdir()
    (tmp_path / "repo" / "base.txt").write_text("pandas==2.2.3\n")
    os.symlink(tmp_path / "repo" / "base.txt", tmp_path / "repo" / "shop" / "requirements.txt")
    assert find_pins(tmp_path / "repo" / "shop") == {"pandas": "pandas==2.2.3"}


def test_a_requirements_file_linked_to_a_proc_file_or_a_fifo_is_not_read(tmp_path):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    os.symlink("/proc/self/environ", tmp_path / "repo" / "requirements.txt")
    os.mkfifo(tmp_path / "repo" / "requirements.in")  # opening it for reading would wait for a writer
    assert find_pins(tmp_path / "repo") == {}


def test_a_repository_at_the_home_directory_is_not_the_apps_project(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".git").mkdir(parents=True)
    (home / "requirements.txt").write_text("pandas==0.0.1\n")  # a dotfiles repository's file
    (home / "projects" / "shop").mkdir(parents=True)
    (home / "projects" / "shop" / "requirements.txt").write_text("scikit-learn==1.5.2\n")
    (home / "projects" / "requirements.txt").write_text("numpy==1.0\n")
    monkeypatch.setenv("HOME", str(home))
    assert find_pins(home / "projects" / "shop") == {"scikit-learn": "scikit-learn==1.5.2"}
