"""unionml-codegen: generate reviewable Flyte projects from UnionML apps, statically."""

import sys as _sys

if _sys.argv[:1] == ["-m"] and _sys.path:  # `python -m unionml_codegen`, while runpy imports this package
    import os as _os  # already imported by the interpreter's start-up: not looked up on sys.path

    # -m put the working directory first on sys.path, so a repository holding `json.py` or `shlex.py` would
    # have the generator import it. Take it off, so `python -m unionml_codegen` imports what the `unionml`
    # console script imports (Python 3.11's -P does the same).
    if _sys.path[0] in ("", _os.getcwd()):
        del _sys.path[0]

__version__ = "0.1.0"

__all__ = ["__version__", "generate"]


def __getattr__(name: str):
    if name == "generate":  # keep `import unionml_codegen` light for the CLI's start-up
        from .generate import generate

        return generate
    raise AttributeError(name)
