"""The stable codes of the generator's diagnostics, in one registry.

Every problem `unionml generate` reports carries one of these codes, printed at the end of its
first line (`app.py:3:5: error: MESSAGE [UMG201]`, like mypy's error codes), so a user can look it
up in docs/errors.md (one entry per code, its anchor the code itself) and a tool can match on it.
A code, once released, keeps its meaning: a diagnostic that goes away leaves its number unused.

The hundreds are areas:

- 1xx: the app's structure, its unionml objects and components;
- 2xx: schedules and cron expressions;
- 3xx: values and workflow inputs;
- 4xx: the model a prediction schedule uses;
- 5xx: reading the app, and the Python the generated project copies;
- 6xx: the output directory and writing;
- 7xx: configuration (pyproject.toml, manifests, what to generate); UMG750 to UMG799 are the errors of
  the commands that operate a generated project (deploy, run, backfill, the schedule and run commands),
  printed as `error: MESSAGE [UMG7xx]` and a `hint:` line;
- 8xx: what the Flyte 2 target (`--target flyte2`) cannot carry;
- 9xx: the generator's own failures.

Each place that reports a problem names its `Code` by the constant below; no number appears
anywhere else in the source (tests/cli/test_codes.py checks this, and that docs/errors.md documents
every code and nothing else).

Its length is the registry itself: one entry per code, each with its name, severity and summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AREAS = {
    "1": "App structure and components",
    "2": "Schedules and cron",
    "3": "Values and inputs",
    "4": "Model sources",
    "5": "Reading the app and slicing",
    "6": "Output and writing",
    "7": "Configuration",
    "8": "Flyte 2 target",
    "9": "Internal",
}
OPERATING = "Operating a generated project"  # UMG750 to UMG799, inside the 7xx hundred


@dataclass(frozen=True)
class Code:
    code: str  # "UMG201"
    name: str  # "invalid-cron-expression"
    severity: Literal["error", "warning"]
    summary: str

    @property
    def area(self) -> str:
        return OPERATING if 750 <= int(self.code[3:]) < 800 else AREAS[self.code[3]]

    def __str__(self) -> str:
        return self.code


REGISTRY: dict[str, Code] = {}


def _code(code: str, name: str, severity: Literal["error", "warning"], summary: str) -> Code:
    entry = Code(code, name, severity, summary)
    if code in REGISTRY or any(other.name == name for other in REGISTRY.values()):
        raise ValueError(f"diagnostic code {code} ({name}) is registered twice")
    REGISTRY[code] = entry
    return entry


# 1xx: the app's structure, its unionml objects and components
NO_MODEL = _code("UMG101", "no-model", "error", "the app defines no unionml Model")
UNIONML_OBJECT_NAME = _code(
    "UMG102", "unionml-object-name", "error", "a unionml Dataset or Model is not assigned to one plain name"
)
MODEL_WITHOUT_INIT = _code("UMG103", "model-without-init", "error", "a Model has no `init` to create the model object")
MODEL_WITHOUT_DATASET = _code(
    "UMG104", "model-without-dataset", "error", "a Model is not given a Dataset assigned to a name"
)
INVALID_UNIONML_ARGUMENTS = _code(
    "UMG105",
    "invalid-unionml-arguments",
    "error",
    "a Dataset(...) or Model(...) call has arguments unionml does not take",
)
INVALID_DATASET_COLUMNS = _code(
    "UMG106", "invalid-dataset-columns", "error", "Dataset `features`/`targets` is not a list of column names"
)
MISSING_COMPONENT = _code(
    "UMG107", "missing-component", "error", "a required component (reader, trainer, ...) is missing"
)
COMPONENT_NOT_A_FUNCTION = _code(
    "UMG108", "component-not-a-function", "error", "a registered component is not a function defined in the app"
)
INVALID_REGISTRATION = _code(
    "UMG109", "invalid-registration", "error", "a component is registered by a call without one function by name"
)
CONDITIONAL_UNIONML_CALL = _code(
    "UMG110", "conditional-unionml-call", "error", "a unionml object is created or used inside a block or expression"
)
INVALID_TASK_OPTION = _code(
    "UMG111", "invalid-task-option", "error", "a component's task options are not ones flytekit's @task takes"
)
INVALID_CALLBACKS = _code(
    "UMG112", "invalid-callbacks", "error", "callbacks are given where unionml takes none, or not as a list"
)
UNSUPPORTED_TYPE = _code(
    "UMG113", "unsupported-type", "error", "a workflow input or task output has a type Flyte cannot carry"
)
WORKFLOW_INPUT_CLASH = _code(
    "UMG114", "workflow-input-clash", "error", "a component parameter has the name of another workflow input"
)
DUPLICATE_IDENTIFIER = _code(
    "UMG115", "duplicate-identifier", "warning", "two names give the same Python identifier; one is numbered"
)
COMPONENT_LEFT_OUT = _code(
    "UMG116", "component-left-out", "warning", "an optional component uses a unionml object and is left out"
)
INVALID_PACKAGE_NAME = _code("UMG117", "invalid-package-name", "error", "the generated package's name cannot work")
PREDICTIONS_LEFT_OUT = _code(
    "UMG119",
    "predictions-left-out",
    "warning",
    "a predictor's output type Flyte cannot carry leaves out the predict workflows no schedule runs",
)
UNKNOWN_REGISTRATION = _code(
    "UMG118", "unknown-registration", "error", "a component is registered through an attribute unionml does not have"
)
SQL_TASK_NOT_A_NAME = _code(
    "UMG120", "sql-task-not-a-name", "error", "a SQL dataset is not given a SQL task assigned to a name"
)
INVALID_SQL_TASK = _code("UMG121", "invalid-sql-task", "error", "the generator cannot read the SQL task's inputs")
SQL_TASK_WITHOUT_SCHEMA = _code(
    "UMG122", "sql-task-without-schema", "error", "the SQL task has no `output_schema_type=`"
)
SQL_DATASET_WITH_READER = _code(
    "UMG123", "sql-dataset-with-reader", "error", "a reader is registered on a dataset that reads with a SQL task"
)
SQL_TASK_WITHOUT_DATABASE = _code(
    "UMG124", "sql-task-without-database", "error", "the SQLite3Task has no `task_config=` naming its database"
)
SQL_QUERY_INPUTS = _code("UMG125", "sql-query-inputs", "error", "the SQL query and the SQL task's inputs do not match")
SQL_TASK_CHANGED = _code(
    "UMG126",
    "sql-task-changed",
    "error",
    "a dataset's SQL task is rebound or changed in a way the generator cannot follow",
)
EMPTY_NAME = _code("UMG130", "empty-name", "error", "a Dataset or Model name is empty or not a string")

# 2xx: schedules and cron expressions
INVALID_CRON = _code(
    "UMG201", "invalid-cron-expression", "error", "the cron expression is not one Flyte's scheduler accepts"
)
UNSUPPORTED_CRON = _code(
    "UMG202",
    "unsupported-cron-syntax",
    "error",
    "the cron expression uses syntax Flyte's scheduler lacks (TZ=, L, W, #, H, @reboot, @every)",
)
CRON_NEVER_FIRES = _code("UMG203", "cron-never-fires", "error", "the cron expression names days no month has")
CRON_REWRITTEN = _code(
    "UMG204", "cron-rewritten", "warning", "the cron expression was rewritten to the form Flyte accepts"
)
SCHEDULE_TIMING = _code(
    "UMG205", "schedule-timing", "error", "a schedule gives neither or both of `expression` and `fixed_rate`"
)
FIXED_RATE_TOO_SHORT = _code("UMG206", "fixed-rate-too-short", "error", "a fixed rate is under one minute")
FIXED_RATE_NOT_WHOLE = _code(
    "UMG207", "fixed-rate-not-whole-minutes", "error", "a fixed rate is not a whole number of minutes"
)
OFFSET_IGNORED = _code(
    "UMG208", "offset-ignored", "warning", "the schedule's `offset` is left out: Flyte's scheduler ignores it"
)
FIXED_RATE_KICKOFF = _code(
    "UMG209", "fixed-rate-kickoff-time", "warning", "a fixed-rate schedule's kickoff time is read from the execution"
)
INVALID_SCHEDULE_NAME = _code(
    "UMG210", "invalid-schedule-name", "error", "a schedule name is not a valid launch plan name"
)
SCHEDULE_NAME_TOO_LONG = _code(
    "UMG211", "schedule-name-too-long", "error", "a schedule name is too long for pyflyte package"
)
DUPLICATE_SCHEDULE_NAME = _code("UMG212", "duplicate-schedule-name", "error", "two schedules have the same name")
INVALID_SCHEDULE_ARGUMENT = _code(
    "UMG213",
    "invalid-schedule-argument",
    "error",
    "a schedule_training/schedule_prediction argument has the wrong form",
)
INVALID_LAUNCHPLAN_KWARGS = _code(
    "UMG214",
    "invalid-launchplan-kwargs",
    "error",
    "`launchplan_kwargs` has an option or value LaunchPlan.get_or_create refuses",
)
FIXED_KICKOFF_TIME = _code("UMG215", "fixed-kickoff-time", "error", "`fixed_inputs` fixes the kickoff time input")
UNKNOWN_FIXED_INPUT = _code(
    "UMG216", "unknown-fixed-input", "error", "`fixed_inputs` names an input the workflow lacks"
)
INVALID_READER_TIME_ARG = _code(
    "UMG217",
    "invalid-reader-time-arg",
    "error",
    "`reader_time_arg` is not a datetime parameter of the reader, or is given a value",
)
FIXED_RATE_TOO_LONG = _code(
    "UMG218", "fixed-rate-too-long", "error", "a fixed rate is longer than flyteadmin's scheduler can count"
)

# 3xx: values and workflow inputs
VALUE_NOT_STATIC = _code("UMG301", "value-not-static", "error", "a value cannot be known without running the app")
VALUE_PAST_LIMITS = _code("UMG302", "value-past-limits", "error", "a value or loop is larger than the generator reads")
VALUE_TYPE_MISMATCH = _code(
    "UMG303", "value-type-mismatch", "error", "a value does not fit the type of the input it fills"
)
UNKNOWN_SCHEDULE_ARGUMENT = _code(
    "UMG304", "unknown-schedule-argument", "error", "a schedule argument is neither an option nor a reader parameter"
)
UNBOUND_REQUIRED_INPUT = _code(
    "UMG305", "unbound-required-input", "error", "a schedule leaves a required reader or trainer parameter unbound"
)
UNKNOWN_TRAINER_KWARG = _code(
    "UMG306", "unknown-trainer-kwarg", "error", "`trainer_kwargs` names no keyword-only parameter of the trainer"
)
UNTYPED_WORKFLOW_INPUT = _code(
    "UMG307",
    "untyped-workflow-input",
    "error",
    "a reader parameter or keyword-only trainer parameter has no annotation, or the reader takes *args/**kwargs",
)
NON_STRING_KEYS = _code(
    "UMG308", "non-string-keys", "error", "hyperparameters or *_kwargs have keys that are not strings"
)

# 4xx: the model a prediction schedule uses
UNKNOWN_MODEL_BINDING = _code("UMG401", "unknown-model-binding", "error", "--model names no prediction schedule")
UNKNOWN_MODEL_LOADER = _code(
    "UMG402", "unknown-model-loader", "error", "the generator cannot tell how to load the model file"
)
SEVERAL_MODEL_SOURCES = _code(
    "UMG403",
    "several-model-sources",
    "error",
    "a prediction schedule gives more than one of model_object/model_version/model_file",
)
MODEL_NOT_STATIC = _code(
    "UMG404", "model-not-static", "error", "the model of a prediction schedule is not known statically"
)
MODEL_FILE_OUTSIDE_PROJECT = _code(
    "UMG405", "model-file-outside-project", "error", "a model file the app names is outside its project"
)
UNREADABLE_MODEL_FILE = _code("UMG406", "unreadable-model-file", "error", "the model file cannot be read")
MODEL_PATH_NOT_UTF8 = _code(
    "UMG407", "model-path-not-utf8", "error", "the model file's path has bytes that are not UTF-8"
)
STALE_MODEL_BINDING = _code(
    "UMG409", "stale-model-binding", "warning", "a --model binding the manifest remembers names a schedule now gone"
)
INVALID_MODEL_VERSION = _code(
    "UMG408",
    "invalid-model-version",
    "error",
    "a prediction schedule's model_version is empty, a placeholder or not a string",
)
TRAINING_NOT_STATIC = _code(
    "UMG410", "training-not-static", "error", "--train-models: the model.train(...) a schedule uses is not static"
)
TRAINING_INPUTS_CHANGED = _code(
    "UMG411", "training-inputs-changed", "error", "a trained model was trained from other inputs than the app gives now"
)
TRAINED_MODEL_CHANGED = _code(
    "UMG412", "trained-model-changed", "error", "a trained model file is missing or differs from its record"
)
TRAINING_FAILED = _code("UMG413", "training-failed", "error", "--train-models: the local training run failed")
TRAINED_MODEL_UNSAVABLE = _code(
    "UMG414", "trained-model-unsavable", "error", "--train-models: the generator cannot save a model of this type"
)
BINDING_REPLACED_BY_TRAINING = _code(
    "UMG415", "binding-replaced-by-training", "warning", "--train-models trains a model the manifest bound a file to"
)

# 5xx: reading the app, and the Python the generated project copies
UNREADABLE_APP = _code("UMG501", "unreadable-app", "error", "the app file cannot be read")
INVALID_PYTHON = _code("UMG502", "invalid-python", "error", "CPython rejects the app or a module copied beside it")
NESTED_TOO_DEEPLY = _code("UMG503", "nested-too-deeply", "error", "the code is nested deeper than the generator reads")
PARSER_LIMITATION = _code(
    "UMG504", "parser-limitation", "error", "valid Python the generator's parser (libcst) cannot read"
)
UNDEFINED_NAME = _code("UMG505", "undefined-name", "error", "the components use a name nothing in the app defines")
UNIONML_IN_COMPONENTS = _code(
    "UMG506", "unionml-in-components", "error", "code the project copies uses unionml or its objects"
)
IMPORT_OUTSIDE_APP = _code(
    "UMG507", "import-outside-app", "error", "a relative import the components use reaches outside the app's directory"
)
STAR_IMPORT = _code("UMG508", "star-import", "error", "the app uses `from module import *`")
HELPER_IN_UNIONML_BLOCK = _code(
    "UMG509",
    "helper-in-unionml-block",
    "error",
    "code the components need is in a block that also uses unionml objects",
)
HELPER_IN_WITH_BLOCK = _code(
    "UMG510", "helper-in-with-block", "error", "code the components need is inside a `with` block"
)
UNREADABLE_LOCAL_MODULE = _code(
    "UMG511", "unreadable-local-module", "error", "a local module the components import cannot be copied"
)
MISSING_LOCAL_MODULE = _code(
    "UMG512",
    "missing-local-module",
    "error",
    "an import names a submodule of the app's own package that does not exist",
)
LOCAL_MODULE_IMPORTS_APP = _code(
    "UMG513", "local-module-imports-app", "error", "a module the components need imports the app's own module"
)
BOUND_IN_LEFT_OUT_CODE = _code(
    "UMG515",
    "bound-in-left-out-code",
    "error",
    "the components use a name bound only in code the project leaves out (the `__main__` block, a `:=` in Dataset(...))",
)
DYNAMIC_IMPORT = _code(
    "UMG514", "dynamic-import", "warning", "the components import a module whose name is known only at run time"
)
IMPORTED_MODEL_NOT_FOUND = _code(
    "UMG516",
    "imported-model-not-found",
    "error",
    "a script schedules a model imported from a module that is not the project's or defines no such unionml object",
)
IMPORTED_MODEL_UNSUPPORTED = _code(
    "UMG517",
    "imported-model-unsupported",
    "error",
    "a script uses an imported model in a way the generator does not follow",
)

# 6xx: the output directory and writing
OUTPUT_TOO_BROAD = _code(
    "UMG601", "output-too-broad", "error", "the output directory is the root, the home directory or holds the app"
)
OUTPUT_NOT_A_DIRECTORY = _code("UMG602", "output-not-a-directory", "error", "the output path is not a usable directory")
REFUSING_TO_OVERWRITE = _code(
    "UMG603", "refusing-to-overwrite", "error", "the output holds edited generated files or files in the way"
)
LINK_IN_OUTPUT = _code("UMG604", "link-in-output", "error", "a symbolic link is on the way to a generated file")
ROLLBACK_INCOMPLETE = _code(
    "UMG605", "rollback-incomplete", "error", "a failed or killed write could not be undone completely"
)
CANNOT_WRITE = _code("UMG606", "cannot-write", "error", "the output directory could not be written")
OUTPUT_INSIDE_PACKAGE = _code(
    "UMG607", "output-inside-package", "error", "the output directory is inside a package the project copies"
)
APP_PATH_NOT_UTF8 = _code("UMG608", "app-path-not-utf8", "error", "the app's path has bytes that are not UTF-8")
UNOWNED_MODULE = _code(
    "UMG609", "unowned-module", "error", "the output holds a module, link or config the generator does not write"
)
FOREIGN_RUN_DIRECTORY = _code(
    "UMG610", "foreign-run-directory", "error", "a killed-run directory beside the output was not left by this machine"
)

# 7xx: configuration
NO_OUTPUT_DIRECTORY = _code("UMG701", "no-output-directory", "error", "an app is given but no output directory")
NOTHING_TO_GENERATE = _code(
    "UMG702", "nothing-to-generate", "error", "no app is given, configured or recorded in a manifest"
)
INVALID_CONFIG = _code("UMG703", "invalid-config", "error", "[tool.unionml-codegen] in pyproject.toml cannot be used")
CONFIG_PATH_OUTSIDE_PROJECT = _code(
    "UMG704",
    "config-path-outside-project",
    "error",
    "a path in pyproject.toml or a manifest is unsafe or outside the project",
)
INVALID_MANIFEST = _code("UMG705", "invalid-manifest", "error", "a manifest names an app that is not a Python file")
LINKED_PROJECT_DIRECTORY = _code(
    "UMG706", "linked-project-directory", "error", "a generated project found by its manifest is behind a symbolic link"
)
TOML_PARSER_MISSING = _code(
    "UMG707", "toml-parser-missing", "error", "Python 3.10 without tomli cannot read pyproject.toml"
)

# 750-799: the commands that operate a generated project (operate/): `error: MESSAGE [CODE]` and a hint line
PROJECT_NOT_FOUND = _code(
    "UMG750", "project-not-found", "error", "no generated project is named or found, or the path is not one"
)
PROJECT_NOT_OPERABLE = _code(
    "UMG751", "project-not-operable", "error", "the project is for --target flyte2, or its manifest is old or damaged"
)
PROJECT_NOT_VERIFIED = _code(
    "UMG752", "project-not-verified", "error", "the project is not what `unionml generate` writes from its app now"
)
UNKNOWN_SCHEDULE = _code("UMG753", "unknown-schedule", "error", "the project has no schedule of that name or kind")
FLYTEKIT_MISSING = _code(
    "UMG754", "flytekit-missing", "error", "a cluster command runs where flytekit is not installed"
)
INVALID_CLUSTER_CONFIG = _code(
    "UMG755",
    "invalid-cluster-config",
    "error",
    "the flytekit configuration or a UNIONML_FLYTEADMIN_* value is unusable",
)
FLYTEADMIN_UNREACHABLE = _code("UMG756", "flyteadmin-unreachable", "error", "flyteadmin cannot be reached")
FLYTEADMIN_TIMEOUT = _code("UMG757", "flyteadmin-timeout", "error", "flyteadmin did not answer a call in time")
NOT_ON_CLUSTER = _code("UMG758", "not-on-cluster", "error", "the schedule, version or execution is not on flyteadmin")
FLYTEADMIN_REFUSED = _code("UMG759", "flyteadmin-refused", "error", "flyteadmin refused a call")
REGISTRATION_CONFLICT = _code(
    "UMG760", "registration-conflict", "error", "an entity of this version is registered with other content"
)
PROJECT_CANNOT_LOAD = _code(
    "UMG761", "project-cannot-load", "error", "the generated package cannot be imported in this environment"
)
EXECUTION_NOT_USABLE = _code(
    "UMG762", "execution-not-usable", "error", "the execution is not a succeeded run of the project's workflow"
)
CANNOT_SAVE_MODEL = _code("UMG763", "cannot-save-model", "error", "fetch-model cannot write the model file")
INVALID_COMMAND_LINE = _code(
    "UMG764", "invalid-command-line", "error", "the command line is not the command's (unionml's or flytectl's form)"
)
CONFIRMATION_REQUIRED = _code(
    "UMG765", "confirmation-required", "error", "switching every schedule needs --all, and --yes off a terminal"
)
NO_TASK_IMAGE = _code("UMG766", "no-task-image", "error", "deploy has no task image to register")
NO_SINGLE_ACTIVE_VERSION = _code(
    "UMG767", "no-single-active-version", "error", "no version of the schedule is ACTIVE, or several are"
)
NOT_BACKFILLABLE = _code(
    "UMG768", "not-backfillable", "error", "the schedule's launch plan takes no kickoff time to backfill"
)
PLACEHOLDER_IMAGE = _code(
    "UMG769", "placeholder-image", "error", "deploy would register the placeholder task image the cluster cannot pull"
)
REMOTE_SETTING_UNREAD = _code(
    "UMG770", "remote-setting-unread", "warning", "the app's model.remote(...) gives a project or domain not read"
)
REMOTE_SETTINGS_CONFLICT = _code(
    "UMG771", "remote-settings-conflict", "error", "two models' model.remote(...) name different projects or domains"
)
REMOTE_SETTING_OVERRIDDEN = _code(
    "UMG772", "remote-setting-overridden", "warning", "[tool.unionml-codegen] names another project/domain than the app"
)
FLYTE2_SDK_MISSING = _code(
    "UMG775", "flyte2-sdk-missing", "error", "a command on a flyte2 project finds no interpreter with the flyte 2.x SDK"
)
CONTROL_PLANE_UNREACHABLE = _code(
    "UMG776", "control-plane-unreachable", "error", "the Flyte 2 control plane cannot be reached"
)
CONTROL_PLANE_REFUSED = _code("UMG777", "control-plane-refused", "error", "the Flyte 2 control plane refused a call")
FLYTE2_DRIVER_FAILED = _code(
    "UMG778", "flyte2-driver-failed", "error", "the flyte SDK's interpreter ended without an answer"
)
OPERATE_FAILED = _code(
    "UMG799", "operate-failed", "error", "an operate command cannot go on (a local run, a backfill range)"
)

# 8xx: what the Flyte 2 target cannot carry
FLYTE2_TASK_READER = _code(
    "UMG801", "flyte2-task-reader", "error", "--target flyte2: the dataset's SQL task cannot run without flytekit"
)
FLYTE2_TRIGGER_SETTING = _code(
    "UMG803", "flyte2-trigger-setting", "error", "--target flyte2: a launchplan_kwargs setting a trigger cannot carry"
)
FLYTE2_TASK_OPTION = _code(
    "UMG804", "flyte2-task-option", "error", "--target flyte2: a task option Flyte 2 tasks cannot carry"
)
FLYTE2_TRIGGER_INPUT = _code(
    "UMG805", "flyte2-trigger-input", "error", "--target flyte2: a schedule's value the flyte SDK cannot convert"
)

# 9xx: the generator's own failures
INTERNAL_ERROR = _code("UMG901", "internal-error", "error", "the generator produced code that does not compile (a bug)")


def tagged(message: str, code: Code) -> str:
    """`message [UMG201]`: how every message shows its code."""
    return f"{message} [{code.code}]"
