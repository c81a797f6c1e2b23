"""Commands that operate a generated project's schedules, reading its manifest, never the app.

`project.py` finds the project and loads its manifest; `kickoffs.py` says when schedules fire;
each command lives in a module of its own and is registered on the `unionml` group in cli.py.
Heavy imports (flytekit, croniter) happen inside the commands that need them.
"""
