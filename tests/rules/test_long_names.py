"""Schedule names long enough to pass the launch plan name rule but too long for `pyflyte package`.

pyflyte package writes each launch plan to `<index>_<name>_3.pb` (flytekit's
serialize_helpers.persist_registrable_entities); a file name has at most 255 bytes, so a name of
248-255 characters used to generate (exit 0) a project that then failed to package ("File name
too long"). Names are now at most 240 characters (room for any index), refused at the name.
"""

from __future__ import annotations

import shutil

import pytest

from ..helpers import EXAMPLES
from ..support.flyte_package import load_entities, package
from ..output.test_write import invoke

OLD_NAME = 'name="fixed_rate_training_schedule"'


@pytest.fixture
def app_dir(tmp_path):
    (tmp_path / "digits").mkdir()
    shutil.copy(EXAMPLES / "digits" / "app.py", tmp_path / "digits" / "app.py")
    return tmp_path / "digits"


def named(app_dir, name: str) -> int:
    app = app_dir / "app.py"
    text = app.read_text()
    assert OLD_NAME in text
    app.write_text(text.replace(OLD_NAME, f"name={name!r}"))
    return text[: text.index(OLD_NAME)].count("\n") + 1


@pytest.mark.parametrize("length", [241, 248, 255])
def test_a_schedule_name_too_long_for_pyflyte_is_an_error_at_the_name(app_dir, length):
    line = named(app_dir, "s" * length)
    result = invoke(app_dir, "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 2, result.output
    assert f"app.py:{line}:10: error: schedule name is {length} characters long; at most 240" in result.stderr
    assert "Traceback" not in result.stderr and not (app_dir / "flyte").exists()


def test_a_schedule_name_of_240_characters_packages(app_dir):
    named(app_dir, "s" * 240)
    result = invoke(app_dir, "generate", "app.py", "-o", "flyte")
    assert result.exit_code == 0, result.stderr
    entities = load_entities(package(app_dir / "flyte", "digits"))
    assert "s" * 240 in entities.launch_plans
