"""Check a read `App` against unionml's rules and what Flyte accepts and runs (docs/rules.md).

Every problem is reported at the app's line and column, with a code and a hint; spellings with one
clear meaning are rewritten with a warning. validate.py runs the rules in order; schedules.py,
inputs.py, flyte_values.py, launchplan_kwargs.py, model_sources.py, clashes.py and flyte2.py hold them.
"""

from .validate import validate

__all__ = ["validate"]
