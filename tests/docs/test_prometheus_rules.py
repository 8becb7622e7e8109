"""The shipped Prometheus alerting rules are valid and fire as docs/operations.md says.

``promtool check rules`` and ``promtool test rules`` (deploy/prometheus). A missing
promtool skips with the reason, except in CI (``CI`` or ``NEURALLOG_REQUIRE_PROMTOOL``,
which .ci/run exports after installing Debian's ``prometheus`` package), where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

RULES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = RULES_DIR / "neurallog-alerts.yml"
# the 14-day alert's test evaluates hourly, the others every minute (promtool's
# evaluation interval is one per file)
RULE_TESTS = [RULES_DIR / "neurallog-alerts.test.yml", RULES_DIR / "neurallog-alerts-14d.test.yml"]
OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
METRICS_SOURCES = [
    Path(__file__).resolve().parents[2] / "neurallog" / "server" / name
    for name in ("metrics.py", "tenant_metrics.py")
]


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI") or os.environ.get("NEURALLOG_REQUIRE_PROMTOOL"):
            pytest.fail(
                "promtool is missing; CI must check the alerting rules (.ci/run "
                "installs Debian's prometheus package)"
            )
        pytest.skip("promtool is missing (apt-get install prometheus, or run .ci/run as root)")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_promtool(), *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=120
    )


def test_promtool_check_rules() -> None:
    done = _run("check", "rules", RULES.name)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_unit_tests_of_the_alerts() -> None:
    done = _run("test", "rules", *(path.name for path in RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_is_unit_tested_documented_and_uses_real_metrics() -> None:
    rules = RULES.read_text("utf-8")
    alerts = re.findall(r"^\s+- alert: (\w+)$", rules, re.M)
    assert len(alerts) >= 6
    tested = "".join(path.read_text("utf-8") for path in RULE_TESTS)
    operations = OPERATIONS.read_text("utf-8")
    for alert in alerts:
        assert f"alertname: {alert}" in tested, alert
        assert f"`{alert}`" in operations, alert
    exported = "".join(p.read_text("utf-8") for p in METRICS_SOURCES)
    names = set(re.findall(r"\b(neurallog_[a-z_]*[a-z])(?![a-z_*])", rules))
    assert "neurallog_kek_active_version_age_seconds" in names
    for metric in names:
        assert f'"{metric.removesuffix("_total")}"' in exported, metric
