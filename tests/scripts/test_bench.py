"""The benchmark scripts run end to end on small sizes and say what they
measured; the figures themselves are for the README, never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_builds_each_size_and_worker_count_and_compares_their_bytes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench"), "--sizes", "40", "--workers", "1,2", "--added", "4", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "bench.json").read_text())
    (size,) = results["sizes"]
    assert size["documents"] == 40 and [r["workers"] for r in size["runs"]] == [1, 2]
    assert size["identical_parquet"] is True
    assert all(r["wall_seconds"] > 0 and r["peak_rss_bytes"] > 0 and r["topics_f1"] is not None for r in size["runs"])
    assert size["langdetect"]["documents_timed"] == 40
    assert "| 40 | 2 |" in done.stdout and "speed-up of 2 workers over 1 at 40" in done.stdout
    # The rebuild after adding 4, and the one with nothing changed, against the clean build.
    rebuild = size["rebuild"]
    assert rebuild["added"] == 4 and rebuild["identical_parquet"] is True
    assert rebuild["first"]["data_sha256"] != rebuild["rebuild"]["data_sha256"]
    assert rebuild["rebuild"]["cache"]["docs_misses"] >= 4 and rebuild["unchanged"]["cache"]["docs_misses"] == 0
    assert "rebuild with nothing changed / clean build at 40" in done.stdout


def test_bench_refuses_a_bad_size_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "bench"), "--sizes", "ten", "--out", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["bench: --sizes and --workers take comma-separated integers, e.g. --sizes 1000,10000"]


@pytest.mark.integration
def test_bench_labelstudio_pushes_and_pulls_every_task(labelstudio_server, tmp_path: Path) -> None:
    url, key = labelstudio_server
    env = dict(os.environ, LABEL_STUDIO_URL=url, LABEL_STUDIO_API_KEY=key)
    python = Path(sys.executable)
    done = subprocess.run([str(python), str(REPO / "scripts" / "bench-labelstudio"), "--tasks", "12", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "labelstudio.json").read_text())
    assert result["tasks"] == 12 and result["server"] == url
    assert "12 new task(s) pushed" in result["push_said"]
    assert "documents: 12 added" in result["pull_said"]
    assert "| 12 |" in done.stdout
