"""Fill a database with a city's worth of data for the benchmarks.

    .venv/bin/python -m bench.generate [--database-url URL] [--spaces 5000] [--bookings 200000]

The database is WIPED first (its name must contain "bench" unless --force), migrated with the
project's migrations, then filled with bulk inserts (SQLAlchemy Core executemany): the 25 districts
of Seoul and the education office, owner organisations with a manager each, residents, 5,000
spaces with opening hours, amenities and closures, and 200,000 bookings in every state with their
transition history. Bookings never overlap within a space (the PostgreSQL exclusion constraint is
in place during the load and checks it). A set of always-open "bench" spaces gets no future
bookings, so `bench.run` can create bookings there; their ids, the search query and an API token
are written to bench/results/fixture.json (the token also to bench/results/token.txt).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import secrets
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import make_url, text

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/gg_bench"
RESULTS = Path(__file__).resolve().parent / "results"
FIXTURE = RESULTS / "fixture.json"
SEARCH_QUERY = "체육관"
BENCH_PASSWORD = "gonggan-bench"
ZONE = ZoneInfo("Asia/Seoul")
CHUNK = 10_000
WINDOW_DAYS = 84  # bookings from 12 weeks ago to 12 weeks ahead

DISTRICTS = (  # slug, name, name_en, latitude, longitude of the district office
    ("jongno", "종로구", "Jongno-gu", 37.5735, 126.9790),
    ("jung", "중구", "Jung-gu", 37.5641, 126.9979),
    ("yongsan", "용산구", "Yongsan-gu", 37.5326, 126.9905),
    ("seongdong", "성동구", "Seongdong-gu", 37.5634, 127.0369),
    ("gwangjin", "광진구", "Gwangjin-gu", 37.5385, 127.0823),
    ("dongdaemun", "동대문구", "Dongdaemun-gu", 37.5744, 127.0400),
    ("jungnang", "중랑구", "Jungnang-gu", 37.6066, 127.0927),
    ("seongbuk", "성북구", "Seongbuk-gu", 37.5894, 127.0167),
    ("gangbuk", "강북구", "Gangbuk-gu", 37.6397, 127.0256),
    ("dobong", "도봉구", "Dobong-gu", 37.6688, 127.0471),
    ("nowon", "노원구", "Nowon-gu", 37.6542, 127.0568),
    ("eunpyeong", "은평구", "Eunpyeong-gu", 37.6027, 126.9291),
    ("seodaemun", "서대문구", "Seodaemun-gu", 37.5791, 126.9368),
    ("mapo", "마포구", "Mapo-gu", 37.5662, 126.9019),
    ("yangcheon", "양천구", "Yangcheon-gu", 37.5170, 126.8664),
    ("gangseo", "강서구", "Gangseo-gu", 37.5510, 126.8495),
    ("guro", "구로구", "Guro-gu", 37.4954, 126.8874),
    ("geumcheon", "금천구", "Geumcheon-gu", 37.4568, 126.8955),
    ("yeongdeungpo", "영등포구", "Yeongdeungpo-gu", 37.5264, 126.8962),
    ("dongjak", "동작구", "Dongjak-gu", 37.5124, 126.9393),
    ("gwanak", "관악구", "Gwanak-gu", 37.4784, 126.9516),
    ("seocho", "서초구", "Seocho-gu", 37.4837, 127.0324),
    ("gangnam", "강남구", "Gangnam-gu", 37.5172, 127.0473),
    ("songpa", "송파구", "Songpa-gu", 37.5145, 127.1059),
    ("gangdong", "강동구", "Gangdong-gu", 37.5301, 127.1238),
)

TYPE_NAMES = {
    "classroom": "교실", "gym": "체육관", "auditorium": "강당", "rooftop": "옥상",
    "meeting_room": "회의실", "kitchen": "공유부엌", "studio": "스튜디오",
    "sports_field": "운동장",
}
TYPES_BY_ORG = {
    "school": ("classroom", "classroom", "gym", "sports_field", "auditorium"),
    "community_center": ("meeting_room", "meeting_room", "kitchen", "rooftop", "auditorium",
                         "studio"),
    "company": ("rooftop", "meeting_room", "studio"),
    "nonprofit": ("kitchen", "studio", "meeting_room"),
    "district_office": ("auditorium", "sports_field", "meeting_room"),
    "other": ("studio", "auditorium", "rooftop"),
}
ORG_KINDS = (("school", 30), ("community_center", 30), ("company", 10), ("nonprofit", 15),
             ("district_office", 5), ("other", 10))
CAPACITY = {"classroom": (15, 40), "gym": (40, 200), "auditorium": (60, 300), "rooftop": (6, 30),
            "meeting_room": (6, 40), "kitchen": (6, 20), "studio": (4, 30),
            "sports_field": (10, 100)}
PURPOSES = ("배드민턴 동호회 정기 모임", "주민자치회 회의", "어린이 코딩 교실", "김장 나눔 행사",
            "독서 모임", "마을 합창단 연습", "풋살 친선 경기", "요가 수업", "영상 편집 워크숍",
            "청소년 밴드 연습", "반찬 나눔 요리 교실", "사진전 준비 회의", "어르신 스마트폰 교실",
            "육아 품앗이 모임", "주민 인문학 강좌", "Language exchange meetup")
CLOSURE_REASONS = ("시설 점검", "시험 기간", "학교 행사", "방역 소독", "설 연휴 휴관")
REJECT_REASONS = ("학교 행사와 겹칩니다.", "영리 목적의 행사는 대관하지 않습니다.",
                  "시설 보수 일정과 겹칩니다.")


BENCH_DISTRICT = 8  # 강북구: the always-open bench spaces are there


def _h(hour: float) -> int:
    return int(hour * 60)


HOURS = {
    "school": {**{d: (_h(18), _h(22)) for d in range(5)}, 5: (_h(9), _h(18)), 6: (_h(9), _h(18))},
    "daylight": {d: (_h(10), _h(19)) for d in range(7)},
    "regular": {**{d: (_h(9), _h(22)) for d in range(5)}, 5: (_h(10), _h(18)), 6: (_h(10), _h(18))},
    "always": {d: (0, 1440) for d in range(7)},
}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    p.add_argument("--spaces", type=int, default=5000)
    p.add_argument("--bookings", type=int, default=200_000)
    p.add_argument("--residents", type=int, default=2000)
    p.add_argument("--booking-spaces", type=int, default=200,
                   help="always-open spaces left free for the booking benchmark")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--force", action="store_true",
                   help="wipe the database even if its name does not contain 'bench'")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        fixture = generate(
            args.database_url,
            spaces=args.spaces,
            bookings=args.bookings,
            residents=args.residents,
            booking_spaces=args.booking_spaces,
            seed=args.seed,
            force=args.force,
        )
    except Exception as exc:  # a clear one-line message beats a traceback for a missing server
        print(f"bench.generate: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(
        f"{fixture['spaces']:,} spaces, {fixture['bookings']:,} bookings in "
        f"{fixture['seconds']}s; token in {RESULTS / 'token.txt'}, fixture in {FIXTURE}"
    )
    return 0


def _sqlalchemy_url(url: str) -> str:
    from config import _normalise_url

    return _normalise_url(url)


def _wipe(url: str, force: bool) -> None:
    parsed = make_url(url)
    name = parsed.database or ""
    if "bench" not in Path(name).name and not force:
        raise SystemExit(
            f"refusing to wipe database {name!r}: its name does not contain 'bench' "
            "(pass --force to wipe it anyway)"
        )
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        return
    from sqlalchemy import create_engine

    _create_database(parsed)
    engine = create_engine(_sqlalchemy_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _create_database(parsed) -> None:
    """Create the PostgreSQL database if it does not exist yet."""
    from sqlalchemy import create_engine

    server = create_engine(
        _sqlalchemy_url(parsed.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with server.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            ).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        server.dispose()


def generate(
    url: str,
    *,
    spaces: int = 5000,
    bookings: int = 200_000,
    residents: int = 2000,
    booking_spaces: int = 200,
    seed: int = 42,
    force: bool = False,
    results: Path = RESULTS,
) -> dict:
    """Wipe, migrate and fill the database at `url`; return the fixture and save it (and the
    token) in `results`."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    started = time.monotonic()
    _wipe(url, force)
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": _sqlalchemy_url(url)})
    with app.app_context():
        upgrade()
        print(f"migrated in {time.monotonic() - started:.1f}s", flush=True)
        data = Generator(random.Random(seed), datetime.now(UTC).replace(microsecond=0))
        booking_spaces = max(1, min(booking_spaces, spaces // 2))
        rows = data.build(spaces, bookings, residents, booking_spaces)
        with db.engine.begin() as conn:
            for table, table_rows in rows.items():
                t = time.monotonic()
                insert = db.metadata.tables[table].insert()
                for i in range(0, len(table_rows), CHUNK):
                    conn.execute(insert, table_rows[i : i + CHUNK])
                print(f"{table}: {len(table_rows):,} rows in {time.monotonic() - t:.1f}s",
                      flush=True)
            if conn.dialect.name == "postgresql":
                for table in rows:
                    if "id" in db.metadata.tables[table].c:
                        conn.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))"
                        ))
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        db.engine.dispose()
    fixture = {
        "database_url": url,
        "token": data.token,
        "space_id_min": 1,
        "space_id_max": spaces,
        "booking_space_ids": data.booking_space_ids,
        "search_query": SEARCH_QUERY,
        "district": "gangbuk",
        "spaces": spaces,
        "bookings": len(rows["bookings"]),
        "generated_at": data.now.isoformat(),
        "seconds": round(time.monotonic() - started, 1),
    }
    results.mkdir(parents=True, exist_ok=True)
    (results / "token.txt").write_text(data.token + "\n")
    (results / FIXTURE.name).write_text(json.dumps(fixture, ensure_ascii=False, indent=2) + "\n")
    return fixture


class Generator:
    """Builds every row in memory with explicit ids (the database is empty)."""

    def __init__(self, rng: random.Random, now: datetime):
        self.rng = rng
        self.now = now
        self.today = now.astimezone(ZONE).date()
        self.token = "ggn_" + secrets.token_urlsafe(32)
        self.booking_space_ids: list[int] = []

    def build(self, n_spaces: int, n_bookings: int, n_residents: int, n_free: int) -> dict:
        from werkzeug.security import generate_password_hash

        from app.spaces.models import AMENITIES

        rng, now = self.rng, self.now
        rows: dict[str, list[dict]] = {}
        # Jurisdictions: Seoul, its 25 districts, the education office.
        rows["jurisdictions"] = [dict(id=1, slug="seoul", name="서울특별시", name_en="Seoul",
                                      kind="metropolitan", parent_id=None)]
        for i, (slug, name, name_en, _lat, _lon) in enumerate(DISTRICTS, start=2):
            rows["jurisdictions"].append(
                dict(id=i, slug=slug, name=name, name_en=name_en, kind="district", parent_id=1)
            )
        edu_id = len(DISTRICTS) + 2
        rows["jurisdictions"].append(dict(id=edu_id, slug="seoul-edu", name="서울특별시교육청",
                                          name_en="Seoul Metropolitan Office of Education",
                                          kind="education_office", parent_id=1))

        # Organisations, each in a district; the last one runs the always-open bench spaces.
        n_orgs = max(10, (n_spaces - n_free) // 5)
        kinds = [k for k, weight in ORG_KINDS for _ in range(weight)]
        orgs = []
        for i in range(1, n_orgs + 1):
            kind = rng.choice(kinds)
            district = rng.randrange(len(DISTRICTS))
            orgs.append((i, kind, district))
        bench_org = n_orgs + 1
        rows["organisations"] = [
            dict(id=i, slug=f"org-{i}", name=self._org_name(i, kind, district), kind=kind,
                 contact_email=f"org{i}@example.kr", contact_phone=None, created_at=now)
            for i, kind, district in orgs
        ] + [dict(id=bench_org, slug="bench-org", name="벤치마크 공간 운영", kind="other",
                  contact_email=None, contact_phone=None, created_at=now)]

        # Users: one password hash for all (hashing thousands would dominate the run).
        password_hash = generate_password_hash(BENCH_PASSWORD)
        users = []

        def user(email, name, **kw):
            users.append(dict(id=len(users) + 1, email=email, name=name,
                              password_hash=password_hash, locale="ko", phone=None,
                              home_district_id=kw.get("home"), is_admin=kw.get("admin", False),
                              is_active_account=True, created_at=now,
                              # Confirmed addresses: the booking benchmark books through the API.
                              email_verified_at=now))
            return len(users)

        # A resident of 강북구, where the bench spaces are, so residents-first rules let it book.
        bench_user = user("bench@gonggan.kr", "벤치마크 사용자", home=BENCH_DISTRICT + 2)
        user("admin@gonggan.kr", "운영자", admin=True)
        managers = {i: user(f"manager{i}@example.kr", f"담당자 {i}") for i, _k, _d in orgs}
        managers[bench_org] = user("manager-bench@example.kr", "벤치 담당자")
        officers = [user(f"officer-{slug}@example.kr", f"{name} 담당자")
                    for slug, name, *_ in DISTRICTS]
        resident_ids = [user(f"resident{i}@example.kr", f"주민 {i}",
                             home=2 + rng.randrange(len(DISTRICTS)))
                        for i in range(1, n_residents + 1)]
        rows["users"] = users
        rows["org_memberships"] = [
            dict(id=n, user_id=uid, organisation_id=org_id, role="manager")
            for n, (org_id, uid) in enumerate(managers.items(), start=1)
        ]
        rows["jurisdiction_memberships"] = [
            dict(id=n, user_id=uid, jurisdiction_id=n + 1, role="officer")
            for n, uid in enumerate(officers, start=1)
        ]
        rows["api_tokens"] = [dict(
            id=1, user_id=bench_user, name="bench", prefix=self.token[:10],
            token_hash=hashlib.sha256(self.token.encode()).hexdigest(), created_at=now,
            last_used_at=None, revoked_at=None)]

        # Spaces with hours, amenities, jurisdictions and a few closures.
        spaces, hours, amenities, tags, closures = [], [], [], [], []
        amenity_codes = sorted(AMENITIES)
        plans = []  # (space id, weekly hours, buffer, max minutes, price, mode, capacity, org)
        for sid in range(1, n_spaces + 1):
            is_bench = sid > n_spaces - n_free
            if is_bench:
                org_id, kind, district = bench_org, "other", BENCH_DISTRICT
                stype, hours_kind = "studio", "always"
            else:
                org_id, kind, district = orgs[rng.randrange(n_orgs)]
                stype = rng.choice(TYPES_BY_ORG[kind])
                hours_kind = ("school" if kind == "school"
                              else "daylight" if stype == "rooftop" else "regular")
            slug, dname, _en, lat, lon = DISTRICTS[district]
            capacity = 50 if is_bench else rng.randint(*CAPACITY[stype])
            price = 0 if is_bench or rng.random() < 0.4 else rng.randrange(5000, 50001, 5000)
            mode = "instant" if is_bench or rng.random() < 0.4 else "request"
            buffer = 0 if is_bench else rng.choice((0, 0, 10, 15, 30))
            min_minutes = 30 if is_bench else 60
            max_minutes = 240 if is_bench else rng.choice((120, 180, 240))
            org_name = rows["organisations"][org_id - 1]["name"]
            spaces.append(dict(
                id=sid, owner_id=org_id, name=f"{org_name} {TYPE_NAMES[stype]} {sid}", type=stype,
                description=f"{dname} {org_name}의 {TYPE_NAMES[stype]}입니다. 최대 {capacity}명.",
                capacity=capacity, address=f"서울특별시 {dname} 벤치로 {sid}",
                latitude=round(lat + rng.gauss(0, 0.008), 6),
                longitude=round(lon + rng.gauss(0, 0.008), 6), timezone="Asia/Seoul",
                price_per_hour=price, currency="KRW", min_minutes=min_minutes,
                max_minutes=max_minutes, buffer_minutes=buffer, booking_mode=mode,
                published=True, created_at=now, updated_at=now))
            weekly = HOURS[hours_kind]
            for weekday, (open_minute, close_minute) in weekly.items():
                hours.append(dict(id=len(hours) + 1, space_id=sid, weekday=weekday,
                                  open_minute=open_minute, close_minute=close_minute))
            for code in rng.sample(amenity_codes, rng.randint(2, 5)):
                amenities.append(dict(space_id=sid, code=code))
            tags.append(dict(space_id=sid, jurisdiction_id=district + 2))
            if kind == "school":
                tags.append(dict(space_id=sid, jurisdiction_id=edu_id))
            closed_day = None
            if not is_bench and rng.random() < 0.1:
                closed_day = self.today + timedelta(days=rng.randint(-WINDOW_DAYS, WINDOW_DAYS))
                start, end = self._instant(closed_day, 0), self._instant(closed_day, 1440)
                closures.append(dict(id=len(closures) + 1, space_id=sid, start_at=start,
                                     end_at=end, reason=rng.choice(CLOSURE_REASONS),
                                     created_at=now, created_by_id=managers[org_id]))
            if is_bench:
                self.booking_space_ids.append(sid)
            else:
                plans.append((sid, weekly, buffer, max_minutes, price, mode, capacity, org_id,
                              closed_day))
        rows["spaces"] = spaces
        rows["opening_hours"] = hours
        rows["space_amenities"] = amenities
        rows["space_jurisdictions"] = tags
        rows["closures"] = closures

        bookings, transitions = [], []
        per_space, extra = divmod(n_bookings, max(1, len(plans)))
        for index, plan in enumerate(plans):
            count = per_space + (1 if index < extra else 0)
            self._space_bookings(plan, count, resident_ids, managers, bookings, transitions)
        rows["bookings"] = bookings
        rows["booking_transitions"] = transitions
        rows["rule_sets"] = self._rule_sets(edu_id, orgs)
        return rows

    def _rule_sets(self, edu_id: int, orgs) -> list[dict]:
        """Rule sets as a city would have them, so every request is judged by real rules: the
        education office's for schools, one per district (residents first, a monthly quota —
        generous enough not to refuse the benchmark's own requests, but its usage query runs on
        every booking — and refund tiers) and a two-stage chain for every school."""
        since = self.now - timedelta(days=365)
        school_hours = {
            **{str(d): [[18 * 60, 22 * 60]] for d in range(5)},
            **{str(d): [[9 * 60, 18 * 60]] for d in (5, 6)},
        }
        district_rules = {
            "eligibility": "residents_first",
            "residents_first_days": 14,
            "quotas": [{"per": "user", "period": "month", "max_hours": 744}],
            "refund_tiers": [{"days_before": 7, "percent": 100}, {"days_before": 2, "percent": 50},
                             {"days_before": 0, "percent": 0}],
        }  # fmt: skip
        school_chain = {"stages": [
            {"approver": "owner_manager", "deadline_days": 3, "on_deadline": "escalate"},
            {"approver": "owner_principal", "deadline_days": 2, "on_deadline": "expire"},
        ]}  # fmt: skip
        scopes = [("jurisdiction_id", edu_id, {
            "allowed_hours": school_hours, "refused_purposes": ["commercial", "political"],
            "waivers": {"nonprofit": 50, "disabled": 100},
            "no_show": {"count": 2, "within_days": 90, "ban_days": 30},
        })]  # fmt: skip
        scopes += [("jurisdiction_id", i + 2, district_rules) for i in range(len(DISTRICTS))]
        scopes += [("organisation_id", org_id, school_chain)
                   for org_id, kind, _district in orgs if kind == "school"]  # fmt: skip
        rows = []
        for n, (column, ident, body) in enumerate(scopes, start=1):
            row = dict(id=n, jurisdiction_id=None, organisation_id=None, space_id=None,
                       version=1, effective_from=since, body=body, note="bench",
                       created_at=since, created_by_id=None, replaces_id=None)  # fmt: skip
            row[column] = ident
            rows.append(row)
        return rows

    @staticmethod
    def _org_name(i: int, kind: str, district: int) -> str:
        short = DISTRICTS[district][1][:-1]
        return {
            "school": f"{short}제{i}{('초등', '중', '고등')[i % 3]}학교",
            "community_center": f"{short}{i}동 주민센터",
            "company": f"(주){short} 오피스 {i}",
            "nonprofit": f"{short} 마을 협동조합 {i}",
            "district_office": f"{short}구 시설관리 {i}",
            "other": f"{short} 작은공간 {i}",
        }[kind]

    @staticmethod
    def _instant(day: date, minute: int) -> datetime:
        wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
        return wall.replace(tzinfo=ZONE).astimezone(UTC)

    def _space_bookings(self, plan, count, resident_ids, managers, bookings, transitions):
        """`count` bookings on distinct (day, lane) slots, so no two holds ever overlap."""
        rng, now = self.rng, self.now
        sid, weekly, buffer, max_minutes, price, mode, capacity, org_id, closed_day = plan
        days = [self.today + timedelta(days=d) for d in range(-WINDOW_DAYS, WINDOW_DAYS + 1)]
        days = [d for d in days if d.weekday() in weekly and d != closed_day]
        lanes = 1
        while lanes < 4 and lanes * len(days) < count:
            lanes += 1
        slots = [(d, lane) for d in days for lane in range(lanes)]
        manager = managers[org_id]
        half = timedelta(seconds=buffer * 30)
        for day, lane in sorted(rng.sample(slots, min(count, len(slots)))):
            open_minute, close_minute = weekly[day.weekday()]
            # Lanes are separated by one full buffer, so the holds of neighbours never touch.
            width = (close_minute - open_minute) // lanes
            lane_open = open_minute + lane * width
            lane_close = lane_open + width - (buffer if lane < lanes - 1 else 0)
            longest = min(max_minutes, (lane_close - lane_open) // 30 * 30)
            if longest < 60:
                continue
            minutes = rng.choice([m for m in (60, 90, 120, 180) if m <= longest])
            first = -(-lane_open // 30) * 30
            last = lane_close - minutes
            if last < first:
                continue
            start_minute = first + 30 * rng.randint(0, (last - first) // 30)
            start = self._instant(day, start_minute)
            end = start + timedelta(minutes=minutes)
            created = start - timedelta(days=rng.randint(1, 21), hours=rng.randint(0, 12))
            if created > now - timedelta(hours=1):
                # Asked for during the last four weeks (not all in the hour before the run:
                # that piled half the requests of the city onto one day).
                created = now - timedelta(hours=rng.randint(1, 24 * 28))
            user = rng.choice(resident_ids)
            status, path = self._history(mode, start, end, now)
            booking_id = len(bookings) + 1
            decided_at = decided_by = reason = None
            at = created
            for from_status, to_status in zip([None, *path], path, strict=False):
                actor = user
                note = None
                if to_status in ("approved", "rejected"):
                    at = min(created + timedelta(hours=rng.randint(1, 48)), start, now)
                    actor, decided_at, decided_by = manager, at, manager
                    if to_status == "rejected":
                        note = reason = rng.choice(REJECT_REASONS)
                elif to_status in ("completed", "no_show"):
                    at, actor = min(end + timedelta(hours=1), now), manager
                elif to_status == "expired":
                    at, actor, note = start, None, "시작 시각까지 처리되지 않음"
                    reason = note
                elif to_status == "cancelled":
                    at = max(at, min(at + timedelta(hours=rng.randint(1, 24)),
                                     start - timedelta(hours=1), now))
                transitions.append(dict(id=len(transitions) + 1, booking_id=booking_id,
                                        from_status=from_status, to_status=to_status,
                                        actor_id=actor, at=at, reason=note))
            bookings.append(dict(
                id=booking_id, space_id=sid, user_id=user, start_at=start, end_at=end,
                hold_start=start - half, hold_end=end + half, purpose=rng.choice(PURPOSES),
                attendees=rng.randint(1, min(capacity, 30)), status=status,
                price_amount=price * minutes // 60, currency="KRW", created_at=created,
                decided_at=decided_at, decided_by_id=decided_by, reason=reason))

    def _history(self, mode: str, start: datetime, end: datetime, now: datetime):
        """Final status and the path of states that led to it."""
        r = self.rng.random()
        first = "confirmed" if mode == "instant" else "requested"
        accepted = [first] if mode == "instant" else ["requested", "approved"]
        if end <= now:
            if r < 0.72:
                path = [*accepted, "completed"]
            elif r < 0.80:
                path = [*accepted, "cancelled"]
            elif r < 0.85:
                path = [*accepted, "no_show"]
            elif mode == "request" and r < 0.92:
                path = ["requested", "rejected"]
            elif mode == "request":
                path = ["requested", "expired"]
            else:
                path = [*accepted, "completed"]
        elif start <= now:  # happening right now
            path = accepted
        elif r < 0.12:
            path = [*accepted, "cancelled"]
        elif mode == "request" and r < 0.20:
            path = ["requested", "rejected"]
        elif mode == "request" and r < 0.55:
            path = ["requested"]
        else:
            path = accepted
        return path[-1], path


if __name__ == "__main__":
    sys.exit(main())
