"""unionml-codegen: generate reviewable Flyte projects from UnionML apps, statically."""

__version__ = "0.1.0"

__all__ = ["__version__", "generate"]


def __getattr__(name: str):
    if name == "generate":  # keep `import unionml_codegen` light for the CLI's start-up
        from .generate import generate

        return generate
    raise AttributeError(name)
