"""`unionml` is this program whichever package pip installed last.

unionml 0.2.1 and unionml-codegen both install a console script named `unionml`, and pip lets the package
installed last own `bin/unionml`. Ours enters through `quick.main` and forwards unionml's own commands to its
CLI (cli.py `_forwarded`); unionml's runs `from unionml.cli import app; sys.exit(app())`, which knows nothing
of `generate`. So the wheel also ships `unionml_codegen_route.pth` (at the top of site-packages), which Python's
`site` runs at every start-up: one comparison of `sys.argv[0]`, and only in a process started as a `unionml`
program does it import this module. Here a finder goes first on `sys.meta_path` and answers the imports of
`unionml` and `unionml.cli` with stand-ins: importing them costs nothing (unionml's own `__init__` imports
flytekit), and the stand-in `app()` takes the finder and the stand-ins away (`release`), then runs
`quick.main`, the program our own console script runs, warm lane included. When that forwards a command to
unionml, `unionml.cli` is imported for real (the finder is gone) and its click group is called through `main`,
never `app()`: nothing routes back here. Our own console script calls `release` first thing, so the real
unionml is what it forwards to in either order.

Standard library only, and nothing at all outside a `unionml` process.
"""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec

STANDINS = ("unionml", "unionml.cli")


class _Loader:
    @staticmethod
    def create_module(spec):
        return None  # the default module

    @staticmethod
    def exec_module(module) -> None:
        if module.__name__ == "unionml.cli":
            module.app = app


class _Finder:
    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname in STANDINS:
            return ModuleSpec(fullname, _Loader, is_package=fullname == "unionml")
        return None


def app(*args, **kwargs):
    """The stand-in for unionml's `unionml.cli:app`, which its console script calls: this program instead."""
    release()
    from .quick import main

    return main()


def release() -> None:
    """Take the finder and the stand-in modules away, so that `import unionml` is the real one (idempotent)."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if finder is not _Finder]
    for name in STANDINS:
        module = sys.modules.get(name)
        if module is not None and getattr(getattr(module, "__spec__", None), "loader", None) is _Loader:
            del sys.modules[name]


def install() -> None:
    if _Finder not in sys.meta_path:
        sys.meta_path.insert(0, _Finder)


install()
