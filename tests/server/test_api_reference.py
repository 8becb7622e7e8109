"""docs/api-reference.md is what scripts/gen_api_reference.py makes of the current server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen_api_reference.py"
COMMITTED = ROOT / "docs" / "api-reference.md"


def _generate(tmp_path: Path) -> str:
    out = tmp_path / "api-reference.md"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return out.read_text()


def test_committed_reference_is_up_to_date(tmp_path: Path) -> None:
    fresh = _generate(tmp_path)
    assert COMMITTED.read_text() == fresh, (
        "docs/api-reference.md is stale: run .venv/bin/python scripts/gen_api_reference.py"
    )


def test_reference_covers_every_route_with_schemas(tmp_path: Path) -> None:
    from neurallog.server.app import create_app
    from neurallog.server.config import ServerConfig

    text = _generate(tmp_path)
    app = create_app(ServerConfig(redis_url="redis://127.0.0.1:6379/0"))
    for route in app.router.routes:
        if route.path.startswith("docs"):
            continue
        path = "/" + re.sub(r"<([a-z_]+)(:[a-z]+)?>", r"{\1}", route.path)
        for method in route.methods:
            assert f"## {method} `{path}`" in text, (method, path)
    # a request body and a response schema, flattened, with constraints
    section = text.split("## POST `/api/kek/rotate`", 1)[1].split("\n## ", 1)[0]
    assert "**Request body** (`application/json`)" in section
    assert "| `blobs[].user_id` | string | yes |" in section
    assert "**Response 201** (`application/json`)" in section
    assert "| `version.status` | string | yes | one of `active`, `decrypt-only`" in section
    assert "| 403 | `application/problem+json` | Role not allowed |" in section


def test_check_mode_flags_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "api-reference.md"
    stale.write_text("# API reference\n")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(stale), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "out of date" in result.stderr
