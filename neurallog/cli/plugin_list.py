"""``neurallog plugins``: which KDFs and ciphers this installation can use, and from where.

Lives in the CLI (not the server) because the server must never import the crypto plugins.
"""

from __future__ import annotations

import json

__all__ = ["plugin_rows", "run_plugins"]


def plugin_rows() -> list[dict[str, str]]:
    """Every registered KDF then cipher as plain dicts (name, kind, origin, plugin)."""
    from neurallog.plugins import list_ciphers, list_kdfs

    return [
        {"name": info.name, "kind": info.kind, "origin": info.origin, "plugin": info.plugin}
        for info in [*list_kdfs(), *list_ciphers()]
    ]


def run_plugins(as_json: bool) -> int:
    """Print the table (or one JSON object ``{"kdfs": [...], "ciphers": [...]}``)."""
    rows = plugin_rows()
    if as_json:
        print(
            json.dumps(
                {
                    "kdfs": [row for row in rows if row["kind"] == "kdf"],
                    "ciphers": [row for row in rows if row["kind"] == "cipher"],
                },
                sort_keys=True,
            )
        )
        return 0
    headers = ("KIND", "NAME", "ORIGIN", "PLUGIN")
    table = [headers] + [(r["kind"], r["name"], r["origin"], r["plugin"]) for r in rows]
    widths = [max(len(line[col]) for line in table) for col in range(len(headers))]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )
    return 0
