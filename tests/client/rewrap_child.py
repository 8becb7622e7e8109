"""Run a rewrap with the sync client, printing one line per progress call (so the parent
test can kill it mid-way). Usage: ``python rewrap_child.py URL HEADS_FILE CHUNK``; the
API key comes on stdin, never in argv or the environment."""

from __future__ import annotations

import sys

from neurallog import NeuralLogClient, RewrapProgress


def main() -> None:
    url, heads, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3])
    key = sys.stdin.readline().strip()

    def show(p: RewrapProgress) -> None:
        print(f"{p.log} {p.done}/{p.total}", flush=True)

    with NeuralLogClient(url, api_key=key, chain_heads=heads) as client:
        report = client.rewrap(chunk=chunk, progress=show)
    print(f"done {report.moved}", flush=True)


if __name__ == "__main__":
    main()
