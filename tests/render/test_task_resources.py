"""unionml's requests and limits (cpu 1, memory 1Gi) are written once, as `resources=`, which flytekit takes for
both: the serialized task specs carry the same requests and limits as `requests=` and `limits=` wrote; a task
that sets one of them keeps it and gets unionml's other one."""

from __future__ import annotations

import shutil

from unionml_codegen.generate import generate

from ..helpers import EXAMPLES
from ..support.flyte_package import load_entities, package

UNIONML = {"cpu": "1", "memory": "1Gi"}


def _resources(spec) -> tuple[dict[str, str], dict[str, str]]:
    resources = spec.template.container.resources
    names = {1: "cpu", 3: "memory"}  # flyteidl ResourceName: CPU = 1, MEMORY = 3
    return (
        {names.get(r.name, str(r.name)): r.value for r in resources.requests},
        {names.get(r.name, str(r.name)): r.value for r in resources.limits},
    )


def test_every_task_requests_and_is_limited_to_unionml_s_resources(tmp_path):
    shutil.copytree(EXAMPLES / "digits", tmp_path / "digits", ignore=shutil.ignore_patterns("flyte*"))
    out = tmp_path / "digits" / "flyte"
    generate(tmp_path / "digits" / "app.py", out)
    workflows = (out / "digits" / "workflows.py").read_text()
    assert "requests=" not in workflows and "limits=" not in workflows
    assert workflows.count('resources=Resources(cpu=("1", "1"), mem=("1Gi", "1Gi"))') >= 4
    entities = load_entities(package(out, "digits", output=tmp_path / "digits.tgz"))
    components = {name: spec for name, spec in entities.tasks.items() if name.startswith("digits.workflows.")}
    assert len(components) >= 4  # the tasks made from the app's components (kickoff's lookup task sets none)
    for name, spec in components.items():
        assert _resources(spec) == (UNIONML, UNIONML), name


def test_a_task_that_sets_its_requests_keeps_them_and_gets_unionml_s_limits(tmp_path):
    shutil.copytree(EXAMPLES / "digits", tmp_path / "digits", ignore=shutil.ignore_patterns("flyte*"))
    app = tmp_path / "digits" / "app.py"
    text = app.read_text()
    assert "@dataset.reader\n" in text
    app.write_text(
        text.replace("@dataset.reader\n", '@dataset.reader(requests=Resources(cpu="2", mem="2Gi"))\n').replace(
            "from unionml import Dataset, Model\n", "from flytekit import Resources\nfrom unionml import Dataset, Model\n"
        )
    )
    out = tmp_path / "digits" / "flyte"
    generate(app, out)
    entities = load_entities(package(out, "digits", output=tmp_path / "digits.tgz"))
    [reader] = [spec for name, spec in entities.tasks.items() if name.endswith("dataset_reader")]
    assert _resources(reader) == ({"cpu": "2", "memory": "2Gi"}, UNIONML)
