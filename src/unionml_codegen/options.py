"""What a generation is asked for: the target, the image, the package name, the model bindings.

`Options` is what `generate()` takes (from the command line, `[tool.unionml-codegen]` and the
manifest; config.py merges them); `RenderOptions` is the part the renderers need. The templates
each target renders with live in `templates_dir()` (`templates/`, and `templates/flyte2/` for the
flyte2 target); quick.py defines it, since the warm `--check` hashes the templates before it
imports anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .quick import templates_dir

__all__ = ["DEFAULT_IMAGE", "DEFAULT_TARGET", "TARGETS", "Options", "RenderOptions", "templates_dir"]

#: What `--target` names: flyte1 (flytekit 1.x, the default) or flyte2 (the `flyte` 2.x SDK).
TARGETS = ("flyte1", "flyte2")
DEFAULT_TARGET = "flyte1"
#: The task image when none is given: a placeholder to replace with the image the tasks run in.
DEFAULT_IMAGE = "ghcr.io/your-org/your-app:latest"


@dataclass(frozen=True)
class Options:
    image: str = DEFAULT_IMAGE
    package: str | None = None
    models: dict[str, str] = field(default_factory=dict)  # --model SCHEDULE=PATH (relative to the cwd)
    target: str = DEFAULT_TARGET  # --target: flyte1 (flytekit 1.x) or flyte2 (the flyte 2.x SDK)
    # the --model bindings only a manifest gave (config.py): one whose prediction schedule the app no longer
    # has is dropped with a warning, not refused as a flag the user typed
    remembered: frozenset[str] = frozenset()
    # --train-models: train the models the app trains in memory (train.py); never with --check / --diff
    train_models: bool = False
    # project / domain in [tool.unionml-codegen]: where the operate commands deploy when the app's model.remote(...)
    # says nothing (operate/remote.py `namespace`); recorded in the manifest's options
    project: str | None = None
    domain: str | None = None

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"unknown target {self.target!r}; the targets are {', '.join(TARGETS)}")


@dataclass(frozen=True)
class RenderOptions:
    source: str  # the app's path relative to the output directory, for headers
    image: str = DEFAULT_IMAGE
    project: str | None = None  # project / domain of [tool.unionml-codegen] (the app's model.remote(...) wins)
    domain: str | None = None
