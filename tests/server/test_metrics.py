"""``GET /metrics`` (Prometheus text) and the JSON access log, against the real server."""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving import Serve, bootstrap, clean_env, cli

from neurallog.server.config import ServerConfig
from neurallog.server.metrics import BUCKETS, MULTIPROC_ENV, Metrics
from neurallog.server.metrics_dir import multiprocess_dir
from tests.server.helpers import (
    add_user,
    bootstrap_tenant,
    create_version,
    live_server,
    opaque,
    version_id,
)

SAMPLE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")
LABEL = re.compile(r'([a-z_]+)="([^"]*)"')


def parse(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples of a Prometheus text exposition; every line must be a comment or a sample."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.fullmatch(line)
        assert match, f"not a Prometheus sample: {line!r}"
        labels = frozenset(LABEL.findall(match["labels"] or ""))
        samples[(match["name"], labels)] = float(match["value"])
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (0 when none)."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


async def scrape(http: httpx.AsyncClient) -> dict[Any, float]:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def test_render_is_valid_prometheus_with_cumulative_buckets() -> None:
    metrics = Metrics()
    for seconds in (0.0001, 0.003, 0.003, 0.2, 30.0):
        metrics.observe("logs.append", 201, seconds)
    metrics.observe("unmatched", 404, None)
    text = metrics.render()
    samples = parse(text)
    name = "neurallog_http_request_duration_seconds"
    buckets = [value(samples, f"{name}_bucket", route="logs.append", le=repr(b)) for b in BUCKETS]
    assert buckets == sorted(buckets), "buckets must be cumulative"
    assert value(samples, f"{name}_bucket", route="logs.append", le="0.0005") == 1
    assert value(samples, f"{name}_bucket", route="logs.append", le="0.005") == 3
    assert value(samples, f"{name}_bucket", route="logs.append", le="10.0") == 4
    assert value(samples, f"{name}_bucket", route="logs.append", le="+Inf") == 5
    assert value(samples, f"{name}_count", route="logs.append") == 5
    assert value(samples, f"{name}_sum", route="logs.append") == pytest.approx(30.2061)
    assert value(samples, "neurallog_http_requests_total", route="unmatched", status="404") == 1
    assert value(samples, f"{name}_count", route="unmatched") == 0  # counted, not timed
    for kind in ("http_requests_total", "kek_rotations_total", "auth_failures_total"):
        assert f"# TYPE neurallog_{kind} counter" in text
    assert f"# TYPE {name} histogram" in text


async def test_counters_and_histogram_move_after_real_requests(redis_url: str) -> None:
    # without the per-tenant key-state gauges (test_rotation_policy.py): nothing names a tenant
    async with live_server(ServerConfig(redis_url=redis_url, metrics_tenants=False)) as server:
        http = server.http
        admin = await bootstrap_tenant(http, redis_url, "acme-metrics", "root")
        await add_user(http, admin, "bob", "member")
        await create_version(http, admin, ["root", "bob"])
        before = await scrape(http)

        for _ in range(3):
            assert (await http.get("/api/kek/versions", headers=admin.headers)).status_code == 200
        bad = {"Authorization": f"Bearer nla1.acme-metrics.{'0' * 32}.{opaque(32)}"}
        assert (await http.get("/api/kek/versions", headers=bad)).status_code == 401
        assert (await http.get("/no/such/route")).status_code == 404
        rotation = {
            "version_id": version_id(),
            "remove_users": ["bob"],
            "blobs": [{"user_id": "root", "blob": opaque(80)}],
            "reason": "metrics test",
        }
        rotated = await http.post("/api/kek/rotate", json=rotation, headers=admin.headers)
        assert rotated.status_code == 201, rotated.text
        after = await scrape(http)
        raw = (await http.get("/metrics")).text

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    route = "kek_versions.list_versions"
    assert delta("neurallog_http_requests_total", route=route, status="200") == 3
    assert delta("neurallog_http_requests_total", route=route, status="401") == 1
    assert delta("neurallog_http_requests_total", route="unmatched", status="404") == 1
    assert delta("neurallog_http_request_duration_seconds_count", route=route) == 4
    assert delta("neurallog_http_request_duration_seconds_bucket", route=route, le="+Inf") == 4
    assert delta("neurallog_http_request_duration_seconds_sum", route=route) > 0
    assert delta("neurallog_kek_rotations_total") == 1
    assert delta("neurallog_auth_failures_total") == 1
    # the scrape before is counted by the scrape after
    assert delta("neurallog_http_requests_total", route="metrics", status="200") == 1
    # nothing about tenants, users, keys or paths
    for leak in ("acme-metrics", "bob", "root", admin.key_id, admin.bearer, "/api/"):
        assert leak not in raw
    labels = {name for (_, ls) in after for name, _ in ls}
    assert labels <= {"worker", "route", "status", "le"}


async def test_metrics_can_be_switched_off(redis_url: str) -> None:
    async with live_server(ServerConfig(redis_url=redis_url, metrics=False)) as server:
        assert (await server.http.get("/metrics")).status_code == 404


def test_access_log_lines_are_json_and_carry_no_secret(redis_url: str, tmp_path: Path) -> None:
    env = clean_env(NEURALLOG_REDIS_URL=redis_url, NEURALLOG_ACCESS_LOG="1")
    created = cli("tenant", "create", "acme-log", env=env)
    assert created.returncode == 0, created.stderr
    bootstrap_token = created.stdout.strip()
    server = Serve(env=env, log_path=tmp_path / "serve.log").start()
    try:
        admin = bootstrap(server.base, "acme-log", bootstrap_token)
        bearer = admin.auth["Authorization"]
        query_secret = secrets.token_urlsafe(24)
        with httpx.Client(base_url=server.base, timeout=10) as http:
            # an undeclared query parameter is a 422 (its value is never echoed or logged)
            refused = http.get(f"/api/kek/versions?token={query_secret}", headers=admin.auth)
            assert refused.status_code == 422 and query_secret not in refused.text, refused.text
            ok = http.get("/api/kek/versions", headers=admin.auth)
            assert ok.status_code == 200, ok.text
            wrong = bearer[:-4] + ("AAAA" if not bearer.endswith("AAAA") else "BBBB")
            denied = http.get("/api/kek/versions", headers={"Authorization": wrong})
            assert denied.status_code == 401
            body_secret = secrets.token_hex(20)
            http.post("/api/kek/rotate", json={"reason": body_secret}, headers=admin.auth)
    finally:
        assert server.terminate() == 0
    log = server.log()
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert len(records) >= 5, log  # readyz polls, bootstrap, three calls
    for record in records:
        assert set(record) == {
            "time",
            "method",
            "route",
            "status",
            "duration_ms",
            "tenant",
            "request_id",
        }
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["time"])
        assert isinstance(record["duration_ms"], float | int) and record["duration_ms"] >= 0
    lists = [r for r in records if r["route"] == "kek_versions.list_versions"]
    assert [(r["method"], r["status"], r["tenant"]) for r in lists] == [
        ("GET", 422, None),
        ("GET", 200, "acme-log"),
        ("GET", 401, None),
    ]
    assert len({r["request_id"] for r in records}) == len(records)
    token = bearer.removeprefix("Bearer ")
    for secret in (token, token.rsplit(".", 1)[1], query_secret, body_secret, bootstrap_token):
        assert secret not in log, "a secret reached the server output"
    assert "token=" not in log and "?" not in "".join(r["route"] for r in records)


METRICS_TOKEN = "metrics-" + "x" * 24


async def test_metrics_need_the_token_when_one_is_set(redis_url: str) -> None:
    config = ServerConfig(redis_url=redis_url, metrics_token=METRICS_TOKEN)
    assert METRICS_TOKEN not in repr(config)
    async with live_server(config, sanic_config={"REAL_IP_HEADER": "x-real-ip"}) as server:
        r = await server.http.get("/metrics")
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        assert r.headers["content-type"].startswith("application/problem+json")
        wrong = {"Authorization": "Bearer " + "y" * len(METRICS_TOKEN)}
        assert (await server.http.get("/metrics", headers=wrong)).status_code == 401
        right = {"Authorization": f"Bearer {METRICS_TOKEN}", "X-Real-IP": "203.0.113.9"}
        r = await server.http.get("/metrics", headers=right)  # from anywhere, with the token
        assert r.status_code == 200 and "neurallog_http_requests_total" in r.text
        assert METRICS_TOKEN not in r.text


async def test_metrics_without_a_token_answer_loopback_clients_only(redis_url: str) -> None:
    config = ServerConfig(redis_url=redis_url)
    async with live_server(config, sanic_config={"REAL_IP_HEADER": "x-real-ip"}) as server:
        assert (await server.http.get("/metrics")).status_code == 200  # 127.0.0.1
        for address in ("203.0.113.9", "::ffff:10.0.0.1", "not-an-ip"):
            r = await server.http.get("/metrics", headers={"X-Real-IP": address})
            assert r.status_code == 403 and "NEURALLOG_METRICS_TOKEN" in r.json()["detail"]
        r = await server.http.get("/metrics", headers={"X-Real-IP": "::1"})
        assert r.status_code == 200


def test_metrics_token_from_the_environment() -> None:
    env = {"NEURALLOG_METRICS_TOKEN": f" {METRICS_TOKEN} "}
    assert ServerConfig.from_env(env).metrics_token == METRICS_TOKEN
    assert ServerConfig.from_env({}).metrics_token == ""
    with pytest.raises(ValueError, match="NEURALLOG_METRICS_TOKEN"):
        ServerConfig.from_env({"NEURALLOG_METRICS_TOKEN": "short"})


def _answered_by(log: str, route: str) -> list[str]:
    """Worker pids of the access-log lines of ``route`` (request ids are ``<pid>-<n>``)."""
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    return [r["request_id"].split("-")[0] for r in records if r["route"] == route]


def test_one_scrape_sums_every_worker(redis_url: str, tmp_path: Path) -> None:
    env = clean_env(NEURALLOG_REDIS_URL=redis_url, NEURALLOG_ACCESS_LOG="1")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the default: a private directory per run
    server = Serve(env=env, log_path=tmp_path / "serve.log", workers=2).start()
    route = "health.healthz"
    try:
        sent = 0
        # fresh connections until both workers have answered some of the requests
        while len(set(_answered_by(server.log(), route))) < 2 and sent < 400:
            for _ in range(20):
                assert httpx.get(server.base + "/healthz", timeout=10).status_code == 200
                sent += 1
        assert len(set(_answered_by(server.log(), route))) == 2, "one worker took every request"
        scrapes: list[dict[Any, float]] = []
        while len(set(_answered_by(server.log(), "metrics"))) < 2 and len(scrapes) < 60:
            answer = httpx.get(server.base + "/metrics", timeout=10)
            assert answer.status_code == 200, answer.text
            scrapes.append(parse(answer.text))
    finally:
        assert server.terminate() == 0
    assert len(set(_answered_by(server.log(), "metrics"))) == 2, "one worker took every scrape"
    assert len(scrapes) >= 2
    for samples in scrapes:  # whichever worker answered, the sum over both
        assert value(samples, "neurallog_http_requests_total", route=route, status="200") == sent
        assert value(samples, "neurallog_http_request_duration_seconds_count", route=route) == sent
        starts = [ls for (n, ls) in samples if n == "neurallog_worker_start_time_seconds"]
        assert len(starts) == 2, "one start-time sample per live worker"


def test_the_run_directory_starts_empty_and_is_tidied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with multiprocess_dir() as private:
        assert os.environ[MULTIPROC_ENV] == str(private) and private.is_dir()
        (private / "counter_1.db").write_bytes(b"")
    assert not private.exists() and MULTIPROC_ENV not in os.environ

    given = tmp_path / "prom"
    given.mkdir()
    (given / "counter_999999.db").write_bytes(b"stale counts of an earlier run")
    (given / "keep.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROC_ENV, str(given))
    with multiprocess_dir() as path:
        assert path == given and not list(given.glob("*.db"))
        (given / "counter_2.db").write_bytes(b"")
    assert sorted(p.name for p in given.iterdir()) == ["keep.txt"]
