"""Issue 21, items 5 and 6 against the flyteadmin STAND-IN (tests/support/flyteadmin_standin.py), through flytekit's
real client: where the cluster commands go, set the way a user sets it (the app's `model.remote(project=...,
domain=...)`, `project`/`domain` in `[tool.unionml-codegen]`, `-p/--project` and `-d/--domain`), and what deploy
registers (refusing the placeholder image unless asked, naming the entities, version, image and project/domain).

Two copies of the digits_batch example: one whose app says `model.remote(project="digits", domain="staging",
config_file="team.yaml")` (a config file pointing nowhere: the commands must not read it), one configured by
pyproject.toml with `project = "team-ml"`. The stand-in has the projects flytesnacks, digits and team-ml."""

from __future__ import annotations

import json
import shutil
import types
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from ..helpers import EXAMPLES, run_cli
from ..support.flyteadmin_standin import FlyteAdminStandin, forget_package

IMAGE = "ghcr.io/acme/digits-batch:1f2e3d4"
PLACEHOLDER = "ghcr.io/your-org/your-app:latest"
SCHEDULES = ("weekly_retraining", "daily_predictions", "hourly_predictions_with_latest_model")
TRAINED_AT = datetime(2026, 11, 30, 3, tzinfo=timezone.utc)
REMOTE = '\nmodel.remote(dockerfile="Dockerfile", project="digits", domain="staging", config_file="team.yaml")\n'
PYPROJECT = f"""[tool.unionml-codegen]
app = "app.py"
output = "flyte"
image = "{IMAGE}"
project = "team-ml"
"""


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    root = tmp_path_factory.mktemp("remote")
    ignore = shutil.ignore_patterns("flyte", "flyte2")
    by_app, by_config = root / "by_app", root / "by_config"
    shutil.copytree(EXAMPLES / "digits_batch", by_app, ignore=ignore)
    shutil.copytree(EXAMPLES / "digits_batch", by_config, ignore=ignore)
    (by_app / "app.py").write_text((by_app / "app.py").read_text() + REMOTE)
    (by_config / "pyproject.toml").write_text(PYPROJECT)
    generated = run_cli("generate", str(by_app / "app.py"), "-o", str(by_app / "flyte"))  # the placeholder image
    assert generated.returncode == 0, generated.stderr
    generated = run_cli("generate", cwd=by_config)  # everything from [tool.unionml-codegen]
    assert generated.returncode == 0, generated.stderr
    with FlyteAdminStandin(root / "blob", projects=("flytesnacks", "digits", "team-ml")) as standin:
        config = standin.write_config(root / "config.yaml")
        # the app's config file names a flyteadmin nobody serves: a command that read it could not connect
        (by_app / "team.yaml").write_text("admin:\n  endpoint: dns:///127.0.0.1:9\n  insecure: true\n")
        standin.add_image(IMAGE, by_app / "flyte")
        standin.add_image(PLACEHOLDER, by_app / "flyte")
        yield types.SimpleNamespace(standin=standin, config=config, by_app=by_app / "flyte",
                                    by_config=by_config / "flyte", root=root)  # fmt: skip
    forget_package("by_app")
    forget_package("by_config")


def _in_process(*args: str, env: dict | None = None, ok: bool = True):
    from unionml_codegen.cli import main

    result = CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)
    assert (result.exit_code == 0) == ok, result.output
    return result


def test_the_app_model_remote_is_recorded_and_deploy_registers_there_whatever_the_environment_says(clusters):
    manifest = json.loads((clusters.by_app / ".unionml-codegen.json").read_text())
    assert manifest["remote"] == {"project": "digits", "domain": "staging", "config_file": "team.yaml"}
    standin = clusters.standin
    deployed = run_cli("deploy", str(clusters.by_app), "--version", "v1", "--image", IMAGE, "--config",
                       str(clusters.config), env={"FLYTE_DEFAULT_PROJECT": "flytesnacks",
                                                  "FLYTE_DEFAULT_DOMAIN": "development"})  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr
    lines = deployed.stdout.splitlines()
    assert lines[:3] == [
        "registered by_app version v1 in digits/staging: 7 tasks, 5 workflows, 8 launch plans",
        f"  image         {IMAGE}",
        "  where         digits/staging (project and domain from the app's model.remote(...))",
    ]
    assert lines[-3:] == [f"{name}: ACTIVE at version v1" for name in SCHEDULES]
    assert standin.active("digits", "staging") == {name: "v1" for name in SCHEDULES}
    assert standin.launch_plan_states("flytesnacks", "development") == {}  # nothing went to the environment's
    tasks = {key[2] for key in standin.tasks if key[:2] == ("digits", "staging")}
    assert lines[3] == "  tasks         " + ", ".join(sorted(tasks)) and len(tasks) == 7
    registered = {row.spec.template.container.image for key, row in standin.tasks.items() if key[0] == "digits"}
    assert registered == {IMAGE}


def test_the_later_commands_find_what_deploy_registered_without_p_or_d_and_never_read_the_apps_config(clusters):
    standin = clusters.standin
    trained = standin.fire("weekly_retraining", TRAINED_AT, project="digits", domain="staging")
    assert standin.execution(trained, "digits", "staging").phase == 4  # SUCCEEDED
    env = {"FLYTECTL_CONFIG": str(clusters.config)}  # the user's config; the app's team.yaml points nowhere
    # an earlier command of this process had flytekit look for its config with no FLYTECTL_CONFIG (it caches the
    # answer): the commands must read the variable as it is now (remote.forget_config_file)
    from flytekit.configuration import file as flytekit_config_file

    with __import__("unittest.mock").mock.patch.dict("os.environ", {"FLYTECTL_CONFIG": ""}):
        flytekit_config_file.get_config_file(None)
    runs = _in_process("list-scheduled-training-runs", str(clusters.by_app), "weekly_retraining", "--json", env=env)
    assert [run["execution"] for run in json.loads(runs.stdout)] == [trained]
    assert runs.stderr == (
        "note: the app's model.remote(config_file='team.yaml') is not read (a Flyte config names the endpoint "
        "credentials go to, and can run a command): pass --config team.yaml to use it\n"
    )
    versions = _in_process("list-model-versions", str(clusters.by_app), "--json", env=env)
    assert [v["model_version"] for v in json.loads(versions.stdout)] == [trained]
    model = clusters.root / "model.joblib"
    fetched = _in_process("fetch-model", str(clusters.by_app), trained, "-o", str(model), "--config",
                          str(clusters.config))  # fmt: skip
    assert fetched.stdout.startswith(f"wrote {model}: LogisticRegression") and model.stat().st_size > 0
    assert "not read" not in fetched.stderr  # --config given: nothing to say about the app's
    # a local run of the model-version schedule looks the training up where the app deploys (issue 21, item 1)
    local = run_cli("run", str(clusters.by_app), "hourly_predictions_with_latest_model", "--at",
                    "2026-11-30T07:00:00Z", "--json", "--config", str(clusters.config))  # fmt: skip
    assert local.returncode == 0, local.stderr
    assert json.loads(local.stdout)["ok"] and len(json.loads(local.stdout)["outputs"]["predictions"]) == 100


def test_flags_override_the_app_for_one_command(clusters):
    standin = clusters.standin
    deployed = run_cli("deploy", str(clusters.by_app), "--version", "v2", "--image", IMAGE, "--no-schedule", "-p",
                       "flytesnacks", "-d", "production", "--config", str(clusters.config))  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.splitlines()[2] == (
        "  where         flytesnacks/production (project from -p/--project, domain from -d/--domain)"
    )
    assert set(standin.launch_plan_states("flytesnacks", "production").values()) == {"INACTIVE"}
    assert len(standin.launch_plan_states("flytesnacks", "production")) == 8
    assert standin.active("digits", "staging") == {name: "v1" for name in SCHEDULES}  # the app's, untouched
    only_domain = _in_process("activate-schedules", str(clusters.by_app), "weekly_retraining", "-d", "production",
                              "--config", str(clusters.config), ok=False)  # fmt: skip
    # -d alone: the app's project with the flag's domain, where nothing was deployed
    assert "schedule 'weekly_retraining' is not deployed in digits/production [UMG758]" in only_domain.output


def test_project_in_pyproject_places_a_project_whose_app_says_nothing(clusters):
    manifest = json.loads((clusters.by_config / ".unionml-codegen.json").read_text())
    assert "remote" not in manifest and manifest["options"]["project"] == "team-ml"
    cwd = clusters.by_config.parent  # the project is found through [tool.unionml-codegen]: no OUT, no -p/-d
    deployed = run_cli("deploy", "--version", "v1", "--config", str(clusters.config), cwd=cwd)
    assert deployed.returncode == 0, deployed.stderr
    assert deployed.stdout.splitlines()[:3] == [
        "registered by_config version v1 in team-ml/development: 7 tasks, 5 workflows, 8 launch plans",
        f"  image         {IMAGE}",
        "  where         team-ml/development (project from [tool.unionml-codegen], domain by default)",
    ]
    assert clusters.standin.active("team-ml", "development") == {name: "v1" for name in SCHEDULES}
    off = run_cli("deactivate-schedules", "weekly_retraining", "--config", str(clusters.config), cwd=cwd)
    assert off.returncode == 0 and off.stdout == "weekly_retraining: INACTIVE (was active at version v1)\n", off
    assert "weekly_retraining" not in clusters.standin.active("team-ml", "development")
    # FLYTE_DEFAULT_DOMAIN still chooses what nothing above it names
    staging = run_cli("list-model-versions", "--config", str(clusters.config), cwd=cwd,
                      env={"FLYTE_DEFAULT_DOMAIN": "staging"})  # fmt: skip
    assert staging.stdout == "no successful training execution of by_config in team-ml/staging\n", staging


def test_deploy_refuses_the_placeholder_image_unless_asked_and_json_says_what_was_registered(clusters):
    standin = clusters.standin
    before = dict(standin.tasks)
    for args in ([], ["--image", PLACEHOLDER]):  # the project's image, or given on the command line
        refused = run_cli("deploy", str(clusters.by_app), "--version", "v3", *args, "--config", str(clusters.config))
        assert refused.returncode == 2 and refused.stdout == "", refused
        assert refused.stderr.splitlines() == [
            f"error: the task image is the placeholder {PLACEHOLDER}, which no cluster can pull: every run would "
            "fail [UMG769]",
            "  hint: build and push the project's Dockerfile and give its image: `unionml generate --image IMAGE` "
            "(or image in [tool.unionml-codegen]), or `unionml deploy --image IMAGE`; --allow-placeholder-image "
            "registers it anyway",
        ]
    assert standin.tasks == before  # nothing was sent
    allowed = run_cli("deploy", str(clusters.by_app), "--version", "v3", "--allow-placeholder-image", "--json",
                      "--config", str(clusters.config))  # fmt: skip
    assert allowed.returncode == 0, allowed.stderr
    report = json.loads(allowed.stdout)
    namespace = {"project": "digits", "domain": "staging", "project_from": "the app's model.remote(...)",
                 "domain_from": "the app's model.remote(...)"}  # fmt: skip
    assert {key: report[key] for key in ("package", "version", "image", *namespace)} == {
        "package": "by_app", "version": "v3", "image": PLACEHOLDER, **namespace}  # fmt: skip
    for kind, rows in (("tasks", standin.tasks), ("workflows", standin.workflows),
                       ("launch_plans", standin.launch_plans)):  # fmt: skip
        assert report["registered"][kind] == sorted(key[2] for key in rows if key[:2] == ("digits", "staging")
                                                    and key[3] == "v3")  # fmt: skip
    assert [(s["name"], s["state"], s["version"], s["changed"]) for s in report["schedules"]] == [
        (name, "ACTIVE", "v3", True) for name in SCHEDULES
    ]
    assert report["not_activated"] == [] and report["ok"] is True
    # the lines a person reads went to stderr, the progress line first
    assert allowed.stderr.splitlines()[1] == "registered by_app version v3 in digits/staging: 7 tasks, 5 workflows, " \
                                             "8 launch plans"  # fmt: skip
    assert allowed.stderr.splitlines()[2] == f"  image         {PLACEHOLDER}"


@pytest.mark.parametrize(
    "app, configured, flags, env, expected",
    [
        ({}, {}, (None, None), {}, ("flytesnacks", "development", "the default", "the default")),
        ({}, {}, (None, None), {"FLYTE_DEFAULT_PROJECT": "p", "FLYTE_DEFAULT_DOMAIN": "d"},
         ("p", "d", "FLYTE_DEFAULT_PROJECT", "FLYTE_DEFAULT_DOMAIN")),
        ({}, {"project": "team"}, (None, None), {"FLYTE_DEFAULT_PROJECT": "p"},
         ("team", "development", "[tool.unionml-codegen]", "the default")),
        ({"project": "digits"}, {"project": "team", "domain": "staging"}, (None, None), {"FLYTE_DEFAULT_PROJECT": "p"},
         ("digits", "staging", "the app's model.remote(...)", "[tool.unionml-codegen]")),
        ({"project": "digits", "domain": "staging"}, {}, ("x", None), {},
         ("x", "staging", "-p/--project", "the app's model.remote(...)")),
    ],
)  # fmt: skip
def test_each_of_project_and_domain_comes_from_the_first_source_that_gives_it(app, configured, flags, env, expected,
                                                                                 monkeypatch):  # fmt: skip
    from unionml_codegen.operate.where import namespace

    for name in ("FLYTE_DEFAULT_PROJECT", "FLYTE_DEFAULT_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    where = namespace(types.SimpleNamespace(remote=app, configured=configured), *flags)
    assert (where.project, where.domain, where.project_from, where.domain_from) == expected


def test_a_project_the_app_gives_unread_is_noted_when_only_a_default_chose_one(monkeypatch):
    from unionml_codegen.operate.where import namespace, unread_note

    monkeypatch.delenv("FLYTE_DEFAULT_PROJECT", raising=False)
    generated = types.SimpleNamespace(remote={"domain": "staging", "unread": ["project"]}, configured={})
    assert unread_note(generated, namespace(generated, None, None)) == (
        "note: the app's model.remote(...) gives project as an expression the generator cannot read; using project "
        "flytesnacks (from the default): pass -p/--project if unionml would deploy elsewhere"
    )
    assert unread_note(generated, namespace(generated, "digits", None)) is None  # the flag chose it
