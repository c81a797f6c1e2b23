"""Commands that operate a generated project's schedules, reading its manifest, never the app.

`project.py` finds the project and loads its manifest; `kickoffs.py` says when schedules fire;
each command lives in a module of its own and is registered on the `unionml` group in cli.py.
Heavy imports (flytekit, croniter) happen inside the commands that need them.
"""

import os as _os
import sys as _sys

from ..quick import cache_directory as _cache_directory

# The commands import the generated package (run, backfill, deploy, the fetch commands). Its bytecode is cached
# in the user's cache directory, never read from a `__pycache__` beside the package: one committed there would
# run instead of the source that `--check` compared (the image does the same: PYTHONPYCACHEPREFIX).
if _sys.pycache_prefix is None:
    _sys.pycache_prefix = _os.path.join(_cache_directory(), "pycache")
