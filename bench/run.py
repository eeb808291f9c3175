"""Load-test the app with wrk and compare every endpoint with a bare Flask app.

    make bench                       # or: .venv/bin/python -m bench.run [options]
    make bench BENCH_ARGS="--duration 30 --only bare,availability_api"

Starts gunicorn twice on free loopback ports with the same workers: the real app (wsgi:app on
the benchmark database, production config) and bench/bare_app.py. For each endpoint wrk runs a
short warm-up and then a fixed-length measurement. Results (requests/s, p50/p99 latency, status
mix, throughput as a ratio to the bare endpoint measured in the same run) are printed as a table
and written to bench/results/latest.json and latest.md.

Needs wrk (Debian: `sudo apt-get install wrk`) and the benchmark database; when the database has
not been generated (see bench/generate.py) it is generated first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.generate import DEFAULT_DATABASE_URL, FIXTURE, RESULTS

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent
BENCH_PURPOSE = "bench: wrk booking"
HOST = "127.0.0.1"


@dataclass
class Endpoint:
    name: str
    label: str
    server: str  # "bare" or "app"
    path: str  # fixed path, or the probe path for scripted endpoints
    script: str | None = None
    script_args: list[str] = field(default_factory=list)
    method: str = "GET"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                            DEFAULT_DATABASE_URL))
    p.add_argument("--duration", type=int, default=10, help="seconds per endpoint (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="warm-up seconds per endpoint")
    p.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers, both servers")
    p.add_argument("--worker-class", default="gthread", choices=("sync", "gthread"))
    p.add_argument("--worker-threads", type=int, default=4, help="threads per gthread worker")
    p.add_argument("--only", help="comma-separated endpoint names (bare is always measured)")
    p.add_argument("--regenerate", action="store_true", help="regenerate the database first")
    p.add_argument("--spaces", type=int, default=5000, help="when generating")
    p.add_argument("--bookings", type=int, default=200_000, help="when generating")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench: wrk is not installed. Install it with `sudo apt-get install wrk` (Debian/"
              "Ubuntu) or `brew install wrk` (macOS), then run `make bench` again.",
              file=sys.stderr)
        return 2
    try:
        fixture = ensure_database(args)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"bench: the benchmark database at {args.database_url} is not usable: {reason}\n"
              "Start PostgreSQL (or pass --database-url) and try again.", file=sys.stderr)
        return 2

    servers: dict[str, Server] = {}
    try:
        servers["bare"] = Server.start("bare", "bench.bare_app:app", args, {})
        servers["app"] = Server.start("app", "wsgi:app", args, {
            "DATABASE_URL": args.database_url,
            "GONGGAN_CONFIG": "production",
            "SESSION_COOKIE_SECURE": "0",
            "SECRET_KEY": secrets.token_hex(16),
            "GEOCODER": "none",
            "BASE_URL": "http://bench.invalid",  # production asks for it; the bench sends no email
        })
        results = run_all(wrk, args, fixture, servers)
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        for server in servers.values():
            server.stop()
        clean_bench_bookings(args.database_url)
    report = build_report(args, fixture, results)
    write_report(report)
    return 0


# --- Database ------------------------------------------------------------------------------


def _engine(url: str):
    from sqlalchemy import create_engine

    from config import _normalise_url

    return create_engine(_normalise_url(url))


def ensure_database(args) -> dict:
    """The fixture of a generated database at args.database_url, generating it if needed."""
    from sqlalchemy import text

    from bench.generate import generate

    fixture = json.loads(FIXTURE.read_text()) if FIXTURE.exists() else None
    fresh = (
        not args.regenerate
        and fixture is not None
        and fixture.get("database_url") == args.database_url
    )
    if fresh:
        import hashlib

        engine = _engine(args.database_url)
        try:
            with engine.connect() as conn:
                digest = hashlib.sha256(fixture["token"].encode()).hexdigest()
                fresh = bool(conn.execute(
                    text("SELECT count(*) FROM api_tokens WHERE token_hash = :h"), {"h": digest}
                ).scalar())
        except Exception:
            fresh = False
        finally:
            engine.dispose()
    if not fresh:
        print(f"generating the benchmark database at {args.database_url} ...", flush=True)
        fixture = generate(args.database_url, spaces=args.spaces, bookings=args.bookings)
    clean_bench_bookings(args.database_url)
    return fixture


def clean_bench_bookings(url: str) -> None:
    """Remove the bookings earlier runs created, so the slots booking.lua asks for are free."""
    from sqlalchemy import text

    engine = _engine(url)
    try:
        with engine.begin() as conn:
            ids = "SELECT id FROM bookings WHERE purpose = :p"
            conn.execute(text(f"DELETE FROM booking_transitions WHERE booking_id IN ({ids})"),
                         {"p": BENCH_PURPOSE})
            conn.execute(text("DELETE FROM bookings WHERE purpose = :p"), {"p": BENCH_PURPOSE})
    finally:
        engine.dispose()


# --- Servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @classmethod
    def start(cls, name: str, target: str, args, env: dict[str, str]) -> Server:
        port = free_port()
        RESULTS.mkdir(parents=True, exist_ok=True)
        log = RESULTS / f"gunicorn-{name}.log"
        command = [str(BIN / "gunicorn"), "--bind", f"{HOST}:{port}",
                   "--workers", str(args.workers), "--worker-class", args.worker_class,
                   "--threads", str(args.worker_threads), "--timeout", "30", target]
        with log.open("w") as out:
            process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                       stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        server = cls(name, process, port, log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text()[-2000:]
                raise RuntimeError(f"gunicorn ({name}) exited; see {log}:\n{tail}")
            if http_status(server.url + "/") is not None:
                return server
            time.sleep(0.2)
        server.stop()
        raise RuntimeError(f"gunicorn ({name}) did not answer within 30 s; see {log}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def http_status(url: str, method: str = "GET", body: bytes | None = None,
                headers: dict | None = None) -> int | None:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


# --- Measurements --------------------------------------------------------------------------


def endpoints(fixture: dict) -> list[Endpoint]:
    q = urllib.parse.quote(fixture["search_query"])
    first, last = fixture["space_id_min"], fixture["space_id_max"]
    tomorrow = (datetime.now(UTC) + timedelta(hours=9) + timedelta(days=1)).date().isoformat()
    return [
        Endpoint("bare", "bare Flask GET / (baseline)", "bare", "/"),
        Endpoint("search_page", f"search page GET /spaces?q={fixture['search_query']}", "app",
                 f"/spaces?q={q}"),
        Endpoint("search_api", f"API GET /api/v1/spaces?q={fixture['search_query']}", "app",
                 f"/api/v1/spaces?q={q}"),
        Endpoint("search_free_api", "API search by district and free time (18–20 h tomorrow)",
                 "app", f"/api/v1/spaces?district={fixture['district']}&date={tomorrow}"
                 "&from_time=18:00&to_time=20:00"),
        Endpoint("space_page", "space page GET /spaces/<random id>", "app", f"/spaces/{first}",
                 "random_space.lua", [str(first), str(last), "/spaces/%d"]),
        Endpoint("availability_api", "API GET /api/v1/spaces/<random id>/availability", "app",
                 f"/api/v1/spaces/{first}/availability", "random_space.lua",
                 [str(first), str(last), "/api/v1/spaces/%d/availability"]),
        Endpoint("booking_api", "API POST /api/v1/bookings (distinct free slots)", "app",
                 "/api/v1/bookings", "booking.lua", [], method="POST"),
    ]


def probe(endpoint: Endpoint, server: Server, token: str) -> int | None:
    """Status of one request, to skip endpoints that do not exist (yet)."""
    if endpoint.method == "POST":
        # An empty JSON body: an existing endpoint refuses it (400/422) and creates nothing.
        return http_status(server.url + endpoint.path, "POST", b"{}",
                           {"Authorization": f"Bearer {token}",
                            "Content-Type": "application/json"})
    return http_status(server.url + endpoint.path)


def run_all(wrk: str, args, fixture: dict, servers: dict) -> list[dict]:
    chosen = set((args.only or "").split(",")) - {""}
    results = []
    for endpoint in endpoints(fixture):
        if chosen and endpoint.name not in chosen and endpoint.name != "bare":
            continue
        server = servers[endpoint.server]
        status = probe(endpoint, server, fixture["token"])
        ok = status is not None and (status < 400 or (endpoint.method == "POST" and status in
                                                       (400, 422)))
        if not ok:
            print(f"  {endpoint.name:<17} skipped: probe answered {status}", flush=True)
            results.append({"name": endpoint.name, "label": endpoint.label,
                            "skipped": f"probe answered {status}"})
            continue
        for phase, seconds in (("warm-up", args.warmup), ("measure", args.duration)):
            if seconds <= 0:
                continue
            if endpoint.method == "POST":
                clean_bench_bookings(args.database_url)
            result = run_wrk(wrk, endpoint, server, fixture, args, seconds, phase)
        result.update(name=endpoint.name, label=endpoint.label, path=endpoint.path)
        results.append(result)
        print(f"  {endpoint.name:<17} {result['rps']:>9.1f} req/s  p50 {result['p50_ms']:.1f} ms"
              f"  p99 {result['p99_ms']:.1f} ms  {result['statuses']}", flush=True)
    return results


def run_wrk(wrk: str, endpoint: Endpoint, server: Server, fixture: dict, args,
            seconds: int, phase: str) -> dict:
    script_args = list(endpoint.script_args)
    if endpoint.script == "booking.lua":
        # The warm-up books half a year later than the measurement: requests still in flight
        # when a wrk run ends may commit after the clean-up and must not take measured slots.
        base = (datetime.now(UTC) + timedelta(days=1 if phase == "measure" else 180)).replace(
            hour=0, minute=0, second=0, microsecond=0)
        script_args = [fixture["token"], str(int(base.timestamp())), str(args.threads),
                       *map(str, fixture["booking_space_ids"])]
    source = (BENCH / "report.lua").read_text()
    if endpoint.script:
        source += "\n" + (BENCH / endpoint.script).read_text()
        url = server.url
    else:
        url = server.url + endpoint.path
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(source)
    command = [wrk, "--threads", str(args.threads), "--connections", str(args.connections),
               "--duration", f"{seconds}s", "--timeout", "5s", "--script", script.name, url]
    if script_args:
        command += ["--", *script_args]
    try:
        completed = subprocess.run(command, capture_output=True, text=True,
                                   timeout=seconds + 30, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"wrk did not finish for {endpoint.name}") from exc
    finally:
        os.unlink(script.name)
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH_RESULT ")),
                None)
    if completed.returncode != 0 or line is None:
        output = completed.stderr or completed.stdout
        raise RuntimeError(f"wrk failed for {endpoint.name}: {output}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "seconds": round(seconds_run, 2),
        "rps": round(raw["requests"] / seconds_run, 1) if seconds_run else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "statuses": dict(sorted(raw["statuses"].items())),
        "errors": {k: v for k, v in raw["errors"].items() if v},
    }


# --- Report --------------------------------------------------------------------------------


def build_report(args, fixture: dict, results: list[dict]) -> dict:
    bare = next((r for r in results if r["name"] == "bare" and "rps" in r), None)
    for result in results:
        if "rps" in result and bare and bare["rps"]:
            result["ratio_to_bare"] = round(result["rps"] / bare["rps"], 4)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True, check=False).stdout.strip()
    return {
        "when": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "commit": commit or None,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "database": _redact(args.database_url),
        "data": {"spaces": fixture.get("spaces"), "bookings": fixture.get("bookings")},
        "gunicorn": {"workers": args.workers, "worker_class": args.worker_class,
                     "threads": args.worker_threads if args.worker_class == "gthread" else 1},
        "wrk": {"threads": args.threads, "connections": args.connections,
                "duration_s": args.duration, "warmup_s": args.warmup},
        "results": results,
    }


def _redact(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


def markdown(report: dict) -> str:
    g, w, d = report["gunicorn"], report["wrk"], report["data"]
    lines = [
        f"Benchmark of {report['when']} (commit {report['commit']}), "
        f"{report['machine']['cpus']} CPUs, {report['database']} with {d['spaces']:,} spaces "
        f"and {d['bookings']:,} bookings.",
        f"gunicorn {g['workers']} workers × {g['threads']} threads ({g['worker_class']}); "
        f"wrk {w['threads']} threads, {w['connections']} connections, {w['duration_s']} s per "
        f"endpoint after a {w['warmup_s']} s warm-up.",
        "",
        "| endpoint | req/s | × bare | p50 ms | p99 ms | statuses |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in report["results"]:
        if "skipped" in r:
            lines.append(f"| {r['label']} | – | – | – | – | skipped ({r['skipped']}) |")
            continue
        statuses = ", ".join(f"{code}: {n:,}" for code, n in r["statuses"].items())
        if r["errors"]:
            statuses += "; errors " + ", ".join(f"{k} {v}" for k, v in r["errors"].items())
        ratio = r.get("ratio_to_bare")
        lines.append(
            f"| {r['label']} | {r['rps']:,.1f} | {ratio:.3f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {statuses} |" if ratio is not None else
            f"| {r['label']} | {r['rps']:,.1f} | – | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{statuses} |"
        )
    return "\n".join(lines) + "\n"


def write_report(report: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    text_md = markdown(report)
    (RESULTS / "latest.md").write_text(text_md)
    print()
    print(text_md)
    print(f"written to {RESULTS / 'latest.json'} and {RESULTS / 'latest.md'}")


if __name__ == "__main__":
    sys.exit(main())
