"""App source -> `spec.App`, read statically with libcst: the app is never imported or run.

app.py reads in order (parse, extract, assemble, slice); cpython.py gates the source with CPython's
parser first; walker.py, bindings.py, effects.py and values.py follow the module's top-level code as
Python would; unionml_api.py, schedules.py and sql_tasks.py read the unionml calls; imported.py follows
a script's imported model; slicing.py and reach.py cut out the code the components need; imports.py
and local_modules.py sort the imports into copied modules and requirements; positions.py finds the
line and column a message points at.
"""

from .app import read_app, unscanned
from .imports import package_name, package_problem

__all__ = ["package_name", "package_problem", "read_app", "unscanned"]
