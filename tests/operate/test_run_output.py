"""`unionml run --json` and `unionml backfill --json` keep the app's own output off stdout (issue 19,
item 11): every pictionary reader prints "Downloading...", from Python and, in other apps, from native
code or a child process; stdout must parse as the one JSON document, the app's output goes to stderr."""

from __future__ import annotations

import json

from ..helpers import EXAMPLES, run_cli

READER = "    data = load_digits(as_frame=True).frame.head(snapshot_size(time))\n"
NOISY = (
    "    print('Downloading the snapshot...')\n"
    "    import os, subprocess, sys\n"
    "    os.write(1, b'written to descriptor 1\\n')\n"
    "    subprocess.run([sys.executable, '-c', 'print(\"from a child process\")'], check=True)\n" + READER
)


def test_run_and_backfill_json_carry_only_the_document_on_stdout(tmp_path):
    source = (EXAMPLES / "digits" / "app.py").read_text()
    assert READER in source
    (tmp_path / "app.py").write_text(source.replace(READER, NOISY).replace("    print(metrics)\n", "    pass\n"))
    generated = run_cli("generate", "app.py", "-o", "flyte", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr

    run = run_cli("run", "flyte", "cron_daily_training", "--at", "2026-11-29T00:00:00Z", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)  # nothing else on stdout
    assert document["ok"] is True and set(document["outputs"]["metrics"]) == {"train", "test"}
    for line in ("Downloading the snapshot...", "written to descriptor 1", "from a child process"):
        assert line in run.stderr

    backfill = run_cli("backfill", "flyte", "cron_daily_training", "--from", "2026-11-28", "--to", "2026-11-29",
                       "--json", cwd=tmp_path)  # fmt: skip
    assert backfill.returncode == 0, backfill.stderr
    report = json.loads(backfill.stdout)
    assert report["ok"] == 2 and backfill.stderr.count("Downloading the snapshot...") == 2

    text = run_cli("run", "flyte", "cron_daily_training", "--at", "2026-11-29T00:00:00Z", cwd=tmp_path)
    assert text.returncode == 0 and "Downloading" not in text.stdout and "metrics" in text.stdout


def test_fetch_model_prints_metrics_in_unionmls_order_whatever_order_the_map_comes_back_in(capsys):
    """A map literal from the control plane has no set order (issue 21 item 12: three runs, two orders): the text
    line and --json both give unionml's order, train then test, then any other metric by name."""
    from unionml_codegen.operate.runs import print_model

    summary = {"execution": "e1", "launch_plan": "weekly", "app_version": "v1", "file": "m.joblib",
               "model_type": "x.Model", "hyperparameters": {"C": 1.0}}  # fmt: skip
    for order in (("test", "train", "f1"), ("f1", "train", "test"), ("train", "test", "f1")):
        metrics = {name: {"train": 0.9, "test": 0.8, "f1": 0.7}[name] for name in order}
        print_model({**summary, "metrics": metrics}, "Model", "joblib", "m.joblib", as_json=False)
        print_model({**summary, "metrics": metrics}, "Model", "joblib", "m.joblib", as_json=True)
        text, document = capsys.readouterr().out.split("\n", 3)[2:]
        assert text == "metrics: train 0.9, test 0.8, f1 0.7", order
        assert list(json.loads(document)["metrics"]) == ["train", "test", "f1"], order
