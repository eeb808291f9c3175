"""`make prod-check`: run the production configuration for real and book once through it.

What it does, each step timed, stopping at the first failure with a clear message:
1. a fresh PostgreSQL database on 127.0.0.1 (`gg_prodcheck_<random>`), Redis database 14 on
   127.0.0.1:6379 (emptied), and an SMTP sink (aiosmtpd) on a free port in this process;
2. `flask db upgrade`, `flask seed demo`, a resident and an API token from `flask users`;
3. gunicorn (`wsgi:app`, gunicorn.conf.py) and one RQ worker (`flask jobs worker`), both with
   GONGGAN_CONFIG=production and a generated SECRET_KEY; SESSION_COOKIE_SECURE=0 since it is
   plain http on the loopback;
4. waits for /readyz and /healthz (with the worker registered) to answer 200;
5. books a free slot of a free instant space through the API and waits for the confirmation
   email to reach the SMTP sink — delivered by the worker, whose log line for the delivery
   carries the booking request's id;
6. checks that every line gunicorn and the worker printed is a JSON object;
7. stops everything and drops the database, also after a failure or Ctrl-C.

Exit status 0 when all of it worked, 1 with "prod-check FAILED: ..." otherwise (the processes'
logs are kept and their path printed). Options: --pg-url, --redis-url, --keep-logs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_DEFAULT = "redis://127.0.0.1:6379/14"
HOST = "127.0.0.1"


class Failed(Exception):
    """A step did not work; the message says which and why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Clock:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.steps: list[tuple[str, float]] = []

    def step(self, name: str):
        clock = self

        class _Step:
            def __enter__(self):
                self.t = time.perf_counter()
                print(f"· {name} …", flush=True)

            def __exit__(self, kind, _exc, _tb):
                took = time.perf_counter() - self.t
                clock.steps.append((name, took))
                if kind is None:
                    print(f"  ok ({took:.1f} s)", flush=True)

        return _Step()

    def total(self) -> float:
        return time.perf_counter() - self.started


# --------------------------------------------------------------------------- SMTP sink
class Sink:
    """An SMTP server that accepts everything and remembers who each message was for."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port()
        self.received: list[tuple[list[str], bytes]] = []
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                with sink.lock:
                    sink.received.append((list(envelope.rcpt_tos), envelope.content))
                return "250 2.0.0 OK"

        self.controller = Controller(Handler(), hostname=HOST, port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[bytes]:
        with self.lock:
            return [content for rcpts, content in self.received if address in rcpts]


# --------------------------------------------------------------------------- processes
class Processes:
    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.running[name] = proc
        return proc

    def check_alive(self) -> None:
        for name, proc in self.running.items():
            if proc.poll() is not None:
                raise Failed(f"{name} exited with status {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 25) -> str:
        path = self.logs / f"{name}.log"
        if not path.exists():
            return "(no output)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_all(self) -> None:
        # SIGTERM to each process we started (gunicorn's master stops its own workers); each
        # runs in a session of its own, so whatever is left after 15 s is killed as a group.
        for proc in self.running.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.running.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            # Whatever of its session is still there (a stuck worker, an orphaned child).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)


def run(command: list[str], env: dict, what: str, timeout: float = 600) -> str:
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise Failed(f"{what} took more than {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise Failed(f"{what} failed (status {done.returncode}):\n"
                     f"{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


# --------------------------------------------------------------------------- HTTP
def http(method: str, url: str, body: dict | None = None, token: str | None = None,
         timeout: float = 30) -> tuple[int, dict, dict]:
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, got = exc.read(), exc.code, dict(exc.headers)
    try:
        payload = json.loads(raw) if raw else {}
    except ValueError:
        payload = {"_text": raw[:500].decode(errors="replace")}
    return status, payload, got


def wait_until_ready(base: str, procs: Processes, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            ready, ready_body, _ = http("GET", f"{base}/readyz", timeout=5)
            health, health_body, headers = http("GET", f"{base}/healthz", timeout=5)
        except OSError as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            workers = health_body.get("checks", {}).get("queue", {}).get("workers", 0)
            if ready == 200 and health == 200 and workers >= 1:
                if not headers.get("X-Request-ID"):
                    raise Failed("/healthz answered without an X-Request-ID header")
                return health_body
            last = (f"/readyz {ready} {json.dumps(ready_body)}; /healthz {health} "
                    f"{json.dumps(health_body)}")
        time.sleep(0.3)
    raise Failed(f"the app was not ready within {timeout:.0f} s; last: {last}")


def book_once(base: str, token: str, procs: Processes) -> tuple[dict, str]:
    """Book a free hour at a free instant space, from three days ahead (clear of notice rules).
    Returns the booking and the request id the server gave the request."""
    status, page, _ = http("GET", f"{base}/api/v1/spaces?per_page=100", token=token)
    if status != 200:
        raise Failed(f"GET /api/v1/spaces answered {status}: {page}")
    candidates = [s for s in page.get("items", [])
                  if s.get("booking_mode") == "instant"
                  and not (s.get("price_per_hour") or {}).get("amount")]
    if not candidates:
        raise Failed("the demo data has no free instant space to book")
    first = date.today() + timedelta(days=3)
    refusals = []
    # At most four tries: the booking limit per account is five a minute.
    for space in candidates[:4]:
        procs.check_alive()
        status, free, _ = http(
            "GET", f"{base}/api/v1/spaces/{space['id']}/availability"
                   f"?from={first.isoformat()}&to={(first + timedelta(days=6)).isoformat()}",
            token=token)
        if status != 200:
            raise Failed(f"availability of space {space['id']} answered {status}: {free}")
        slot = _an_hour(free.get("free", []))
        if slot is None:
            refusals.append(f"space {space['id']}: no free hour")
            continue
        body = {"space_id": space["id"], "start": slot[0].isoformat(),
                "end": slot[1].isoformat(), "purpose": "prod-check meeting", "attendees": 2}
        status, booking, headers = http("POST", f"{base}/api/v1/bookings", body, token=token)
        if status == 201:
            return booking, headers.get("X-Request-ID", "")
        refusals.append(f"space {space['id']} at {body['start']}: {status} {booking}")
    raise Failed("no booking could be made:\n" + "\n".join(refusals))


def _an_hour(spans: list[dict]) -> tuple[datetime, datetime] | None:
    for span in spans:
        start, end = datetime.fromisoformat(span["start"]), datetime.fromisoformat(span["end"])
        # A whole hour in the daytime, local to the space (its offset is in the string).
        begin = start.replace(minute=0, second=0, microsecond=0)
        if begin < start:
            begin += timedelta(hours=1)
        while begin + timedelta(hours=1) <= end:
            if 10 <= begin.hour <= 16:
                return begin, begin + timedelta(hours=1)
            begin += timedelta(hours=1)
    return None


def wait_for_email(sink: Sink, address: str, procs: Processes, timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sink.to(address)
        if got:
            return got[0]
        procs.check_alive()
        time.sleep(0.2)
    raise Failed(f"no email reached the SMTP sink for {address} within {timeout:.0f} s "
                 f"(it received {len(sink.received)} for others).\n"
                 f"worker log:\n{procs.tail('worker')}")


def json_lines(procs: Processes, name: str) -> list[dict]:
    """Every line the process printed, each of which must be one JSON object."""
    records = []
    text = (procs.logs / f"{name}.log").read_text(errors="replace")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise Failed(f"{name} printed a line that is not JSON (line {number}): "
                         f"{line[:300]}") from None
        if not isinstance(record, dict):
            raise Failed(f"{name} printed JSON that is not an object (line {number})")
        records.append(record)
    return records


# --------------------------------------------------------------------------- the check
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("PROD_CHECK_PG_URL", PG_DEFAULT),
                        help="a PostgreSQL URL allowed to create and drop databases")
    parser.add_argument("--redis-url",
                        default=os.environ.get("PROD_CHECK_REDIS_URL", REDIS_DEFAULT),
                        help="a Redis database the check may empty (default db 14)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the logs on success")
    args = parser.parse_args(argv)

    # SIGTERM (a CI timeout, kill) cleans up as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    clock = Clock()
    logs = Path(tempfile.mkdtemp(prefix="gonggan-prod-check-"))
    procs = Processes(logs)
    sink = None
    database = f"gg_prodcheck_{secrets.token_hex(4)}"
    created = False
    ok = False
    try:
        import psycopg
        from redis import Redis

        with clock.step("PostgreSQL and Redis reachable; a fresh database, Redis db emptied"):
            if not (BIN / "gunicorn").exists():
                raise Failed(f"gunicorn is not installed in {BIN} (make prod-check installs it)")
            try:
                with psycopg.connect(args.pg_url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'CREATE DATABASE "{database}"')
                    created = True
            except psycopg.Error as exc:
                raise Failed(f"PostgreSQL at {args.pg_url}: {exc}") from exc
            try:
                redis = Redis.from_url(args.redis_url, socket_connect_timeout=3)
                redis.flushdb()
            except Exception as exc:
                raise Failed(f"Redis at {args.redis_url}: {exc}") from exc

        with clock.step("SMTP sink"):
            sink = Sink()
            sink.start()

        port = free_port()
        base = f"http://{HOST}:{port}"
        pg = psycopg.conninfo.conninfo_to_dict(args.pg_url)
        pg["dbname"] = database
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("STRIPE_", "MAIL_", "TEST_", "RATELIMIT_", "LOG_"))}
        env.update(
            FLASK_APP="wsgi",
            GONGGAN_CONFIG="production",
            SECRET_KEY=secrets.token_hex(32),
            DATABASE_URL=_url(pg),
            REDIS_URL=args.redis_url,
            SESSION_COOKIE_SECURE="0",
            MAIL_SERVER=HOST, MAIL_PORT=str(sink.port), MAIL_USE_TLS="0", MAIL_USE_SSL="0",
            BASE_URL=base,
            GEOCODER="none",
            PYTHONUNBUFFERED="1",
        )
        flask = str(BIN / "flask")

        with clock.step("flask db upgrade"):
            run([flask, "db", "upgrade"], env, "flask db upgrade")
        with clock.step("flask seed demo"):
            run([flask, "seed", "demo"], env, "flask seed demo")
        with clock.step("a resident and an API token (flask users)"):
            email = f"prod-check-{secrets.token_hex(3)}@example.org"
            run([flask, "users", "create", email, "--name", "Prod Check",
                 "--password", secrets.token_urlsafe(16)], env, "flask users create")
            token = run([flask, "users", "token", email], env,
                        "flask users token").strip().splitlines()[-1]

        with clock.step(f"gunicorn and an RQ worker; /readyz and /healthz answer 200 ({base})"):
            procs.start("worker", [flask, "jobs", "worker", "--name", f"prod-check-{port}"], env)
            procs.start("web", [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py",
                                "--bind", f"{HOST}:{port}", "--workers", "2", "wsgi:app"], env)
            health = wait_until_ready(base, procs)
        print(f"  /healthz: {json.dumps(health['checks'], sort_keys=True)}")

        with clock.step("one booking through the API; its email delivered by the worker"):
            booking, request_id = book_once(base, token, procs)
            print(f"  booking {booking.get('id')} {booking.get('status')} at "
                  f"{booking.get('space', {}).get('name', '?')} {booking.get('start')}")
            message = wait_for_email(sink, email, procs)
            subject = next((line for line in message.decode(errors="replace").splitlines()
                            if line.lower().startswith("subject:")), "Subject: ?")
            print(f"  email to {email}: {subject[:120]}")

        with clock.step("logs: one JSON object per line, the request id from web to worker"):
            web = json_lines(procs, "web")
            worker = json_lines(procs, "worker")
            if not any(r.get("request_id") == request_id and r.get("route") == "/api/v1/bookings"
                       for r in web):
                raise Failed(f"no request line with the booking's id {request_id} in the web log")
            delivered = [r for r in worker if r.get("message") == "job notifications.deliver done"
                         and r.get("request_id") == request_id and r.get("job_id")]
            if not delivered:
                raise Failed("the worker logged no delivery job carrying the booking request's "
                             f"id {request_id}:\n{procs.tail('worker')}")
            print(f"  {len(web)} web lines, {len(worker)} worker lines; "
                  f"{len(delivered)} deliveries for request {request_id[:12]}")
        ok = True
    except Failed as exc:
        print(f"\nprod-check FAILED: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nprod-check interrupted", file=sys.stderr)
    finally:
        with clock.step("stop everything, drop the database"):
            procs.stop_all()
            if sink is not None:
                sink.stop()
            if created:
                _drop(args.pg_url, database)
            try:
                from redis import Redis

                Redis.from_url(args.redis_url, socket_connect_timeout=3).flushdb()
            except Exception as exc:  # reported, not fatal: the next run empties it first
                print(f"  (could not empty {args.redis_url}: {exc})", file=sys.stderr)
    print("\ntimings: " + ", ".join(f"{name.split(';')[0].split(' (')[0]} {took:.1f} s"
                                    for name, took in clock.steps))
    if ok:
        print(f"prod-check passed in {clock.total():.1f} s")
        if args.keep_logs:
            print(f"logs kept in {logs}")
        else:
            shutil.rmtree(logs, ignore_errors=True)
        return 0
    print(f"prod-check failed after {clock.total():.1f} s; the processes' logs are in {logs}",
          file=sys.stderr)
    return 1


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _url(pg: dict) -> str:
    user = pg.get("user", "postgres")
    password = f":{pg['password']}" if pg.get("password") else ""
    host, port = pg.get("host", HOST), pg.get("port", "5432")
    return f"postgresql://{user}{password}@{host}:{port}/{pg['dbname']}"


def _drop(pg_url: str, database: str) -> None:
    import psycopg

    try:
        with psycopg.connect(pg_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    except psycopg.Error as exc:
        print(f"  (could not drop the database {database}: {exc})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
