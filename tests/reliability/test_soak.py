"""The soak campaign (``bench/soak.py``) for 20 seconds, so CI covers it.

Two ``neurallog serve`` processes (2 + 1 workers) on one embedded Redis, members logging
and reading, an admin rotating every 3 s, auditors reading and verifying the audit chain.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_soak_20_seconds(tmp_path: Path) -> None:
    report_path = tmp_path / "soak.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak.py"), "--duration", "20",
         "--json", str(report_path)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )  # fmt: skip
    assert report_path.exists(), result.stderr[-3000:]
    report = json.loads(report_path.read_text())
    assert result.returncode == 0, json.dumps(report["violations"], indent=1)
    assert report["violations"] == []
    assert report["server_errors"] == 0
    assert not [s for s in report["statuses"] if int(s) >= 500]
    assert report["rotations"] >= 4
    assert report["entries_checked"] == report["entries_acknowledged"] > 100
    assert report["audit_reads"] > 0 and report["version_checks"] > 10
    assert report["audit_broken_mid_run"] == 0
    assert all(kib > 0 for kib in report["rss_start_kib"] + report["rss_end_kib"])
