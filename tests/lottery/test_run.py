"""Drawing the lotteries that are due (`sweep` -> `run_due_draws`) on a real database."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.bookings import lottery
from app.bookings import services as booking_services
from app.bookings.lottery import Entry, draw, verify
from app.bookings.models import Booking, LotteryDraw
from app.bookings.sweeps import sweep
from app.db import serialized_writes
from app.extensions import db
from tests.lottery.conftest import at, draw_time, saturday

pytestmark = pytest.mark.usefixtures("english")  # the reasons are checked in English

DAY = saturday(6)  # the first Saturday of June next year
AFTER = draw_time(DAY) + timedelta(minutes=1)


def the_draw(db, booking) -> LotteryDraw:
    return db.session.get(LotteryDraw, booking.lottery_draw_id)


def test_entries_hold_nothing_until_the_draw(setup):
    a = setup.enter(setup.resident(), DAY, 9, 11)
    b = setup.enter(setup.resident("이서연"), DAY, 9, 11)
    assert (a.status, b.status) == ("entered", "entered")
    assert a.draw_at == draw_time(DAY) == b.draw_at
    assert sweep(now=draw_time(DAY) - timedelta(minutes=1))["drawn"] == 0
    assert (a.status, b.status) == ("entered", "entered")


def test_the_draw_gives_each_time_to_one_entry_and_the_rest_lose(setup, db):
    same_time = [setup.enter(setup.resident(f"김{n}"), DAY, 9, 11) for n in range(3)]
    later = setup.enter(setup.outsider(), DAY, 11, 12)

    assert sweep(now=AFTER)["drawn"] == 1

    winners = [b for b in same_time if b.status == "requested"]
    losers = [b for b in same_time if b.status == "lost"]
    assert len(winners) == 1 and len(losers) == 2
    assert later.status == "requested"  # no overlap with 09-11
    for b in losers:
        assert b.reason == "Not drawn in the lottery: the time went to an entry ranked higher."
        assert b.transitions[-1].from_status == "entered"
        assert b.transitions[-1].actor_id is None
    for b in (*winners, later):
        assert b.current_stage is not None and b.current_stage.state == "pending"
        assert [t.to_status for t in b.transitions] == ["entered", "requested"]
    record = the_draw(db, later)
    assert all(b.lottery_draw_id == record.id for b in (*same_time, later))
    assert record.space_id == setup.space.id and record.draw_at == draw_time(DAY)
    assert record.algorithm == "gonggan-1" and len(record.seed) == 32
    stored = {i["booking"]: i for i in record.result}
    assert {k: v["outcome"] for k, v in stored.items()} == {
        b.id: "won" if b.status == "requested" else "lost" for b in (*same_time, later)
    }
    assert stored[losers[0].id]["why"] == "overlap"


def test_a_second_sweep_draws_nothing(setup, db):
    for n in range(3):
        setup.enter(setup.resident(f"김{n}"), DAY, 9, 11)
    assert sweep(now=AFTER)["drawn"] == 1
    db.session.commit()
    assert sweep(now=AFTER + timedelta(minutes=5))["drawn"] == 0
    assert db.session.scalar(select(func.count(LotteryDraw.id))) == 1


def test_the_stored_draw_verifies_and_can_be_rerun_from_its_seed(setup, db):
    entries = [setup.enter(setup.resident(f"김{n}"), DAY, 9 + n % 2, 11) for n in range(5)]
    entries.append(setup.enter(setup.outsider(), DAY, 9, 10))
    sweep(now=AFTER)
    db.session.commit()
    record = the_draw(db, entries[0])
    assert verify(record)

    # Re-running the pure draw from the stored inputs and the published seed: the same ranks.
    items = record.result
    again = draw(
        [Entry(i["booking"], i["user"], *(b.hold_start, b.hold_end), i["tier"])
         for i in items for b in entries if b.id == i["booking"]],
        record.seed,
        caps={i["user"]: i["cap"] for i in items},
        prior_wins={i["user"]: i["prior"] for i in items},
        busy=[],
    )  # fmt: skip
    assert [(o.booking, o.rank, o.outcome) for o in again] == [
        (i["booking"], i["rank"], i["outcome"]) for i in items
    ]

    # Any change to the stored result is caught.
    flipped = {"won": "lost", "lost": "won"}
    first, last = items[0], items[-1]
    for index, change in (
        (-1, {"outcome": flipped[last["outcome"]]}),
        (0, {"tier": 1}),  # the first ranked, a resident, as if they were not
        (-1, {"key": 0.5}),
        (-1, {"rank": 1}),
        (0, {"busy": [[first["start"], first["end"]]]}),  # the winner's time, as if taken
    ):
        changed = [dict(i) for i in items]
        changed[index].update(change)
        record.result = changed
        assert not verify(record), change
    record.result = items
    record.seed = "0" * 32
    assert not verify(record)
    record.result = "garbage"
    assert not verify(record)


def test_residents_of_the_district_go_first(setup, db):
    outsiders = [setup.enter(setup.outsider(f"박{n}"), DAY, 9, 11) for n in range(4)]
    no_home = setup.enter(setup.outsider("최", home=False), DAY, 9, 11)
    resident = setup.enter(setup.resident(), DAY, 9, 11)
    sweep(now=AFTER)
    assert resident.status == "requested"
    assert all(b.status == "lost" for b in (*outsiders, no_home))
    tiers = {i["booking"]: i["tier"] for i in the_draw(db, resident).result}
    assert tiers[resident.id] == 0
    assert {tiers[b.id] for b in (*outsiders, no_home)} == {1}
    assert the_draw(db, resident).result[0]["booking"] == resident.id


def test_without_resident_priority_everybody_is_one_tier(make_setup, db):
    setup = make_setup(resident_priority=False)
    entries = [setup.enter(setup.resident(), DAY, 9, 11), setup.enter(setup.outsider(), DAY, 9, 11)]
    sweep(now=AFTER)
    assert {i["tier"] for i in the_draw(db, entries[0]).result} == {1}


def test_winners_whose_rules_approve_them_are_approved(make_setup):
    auto = {"stages": [{"approver": "owner_manager"}], "auto_approve": [{"residents_only": True}]}
    setup = make_setup(rules=auto)
    resident = setup.enter(setup.resident(), DAY, 9, 10)
    outsider = setup.enter(setup.outsider(), DAY, 10, 11)
    sweep(now=AFTER)
    assert resident.status == "approved"
    assert resident.decided_at == AFTER and resident.stage_position is None
    assert [t.to_status for t in resident.transitions] == ["entered", "requested", "approved"]
    assert outsider.status == "requested"  # the stage decides for non-residents


@pytest.mark.parametrize("sweeps", [1, 2])
def test_one_win_per_person_per_month_across_draws(setup, db, sweeps):
    first, second = DAY, DAY + timedelta(days=7)  # both Saturdays in June
    lucky = setup.resident("김행운")
    # 11:00, so that the first booking has not begun when the second lottery is drawn (at
    # 10:00 on the first Saturday) and a single late sweep can run both draws.
    won = setup.enter(lucky, first, 11, 12)
    again = setup.enter(lucky, second, 9, 11)
    other = setup.enter(setup.resident("이다른"), second, 9, 11)
    if sweeps == 2:
        assert sweep(now=draw_time(first) + timedelta(minutes=1))["drawn"] == 1
    assert sweep(now=draw_time(second) + timedelta(minutes=1))["drawn"] == 3 - sweeps
    assert won.status == "requested"
    assert (again.status, other.status) == ("lost", "requested")
    assert again.reason == "Not drawn in the lottery: you reached this month's limit of wins here."
    item = next(i for i in the_draw(db, again).result if i["booking"] == again.id)
    assert (item["prior"], item["cap"], item["why"]) == (1, 1, "cap")
    assert verify(the_draw(db, again))


def test_the_cap_is_per_calendar_month(setup):
    lucky = setup.resident("김행운")
    june = setup.enter(lucky, saturday(7, 1) - timedelta(days=7), 11, 12)
    july = setup.enter(lucky, saturday(7, 1), 9, 11)
    sweep(now=draw_time(saturday(7, 1)) + timedelta(minutes=1))
    assert (june.status, july.status) == ("requested", "requested")


def test_a_time_taken_before_the_draw_is_lost_as_taken(setup, db, factories):
    entry = setup.enter(setup.resident(), DAY, 9, 11)
    free = setup.enter(setup.resident("이"), DAY, 11, 12)
    factories.closure(setup.space, at(DAY, 10), at(DAY, 11), reason="점검")
    sweep(now=AFTER)
    assert (entry.status, free.status) == ("lost", "requested")
    assert entry.reason == "Not drawn in the lottery: the time was already taken."
    assert verify(the_draw(db, entry))


@pytest.mark.parametrize("ranked_first", ["refused", "free"])
def test_a_winner_the_database_refuses_is_drawn_again_as_taken(
    setup, db, monkeypatch, ranked_first
):
    """Someone took the time between reading what was busy and placing the winner: PostgreSQL's
    constraint refuses it, and the draw is re-run with that time busy so it still verifies.
    Both orders: the refused winner placed first, or after another winner already placed (whose
    own time must not count as busy in the re-run)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL has the exclusion constraint")
    entry = setup.enter(setup.resident(), DAY, 9, 11)
    free = setup.enter(setup.resident("이"), DAY, 11, 12)
    first = entry.id if ranked_first == "refused" else free.id
    entries = [Entry(b.id, b.user_id, b.hold_start, b.hold_end, 0) for b in (entry, free)]
    seed = next(
        f"{n:032x}" for n in range(1000)
        if draw(entries, f"{n:032x}", caps={}, prior_wins={}, busy=[])[0].booking == first
    )  # fmt: skip
    monkeypatch.setattr(lottery.secrets, "token_hex", lambda _n: seed)
    blocker = Booking(
        space=setup.space, user=setup.outsider(), start_at=at(DAY, 10), end_at=at(DAY, 11),
        hold_start=at(DAY, 10), hold_end=at(DAY, 11), purpose="관리자 예약", attendees=1,
        status="approved",
    )  # fmt: skip
    db.session.add(blocker)
    db.session.flush()
    real = lottery._busy
    calls = []

    def blind_first(*args, **kwargs):
        calls.append(args)
        return [] if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(lottery, "_busy", blind_first)
    assert sweep(now=AFTER)["drawn"] == 1
    assert (entry.status, free.status) == ("lost", "requested")
    record = the_draw(db, entry)
    item = {i["booking"]: i for i in record.result}[entry.id]
    assert (item["outcome"], item["why"]) == ("lost", "taken")
    assert verify(record)
    assert [t.to_status for t in entry.transitions] == ["entered", "lost"]
    assert entry.reason == "Not drawn in the lottery: the time was already taken."
    assert [s.state for s in entry.stages] == ["skipped"]


def test_an_entry_made_after_its_draw_loses(setup, db):
    early = setup.enter(setup.resident(), DAY, 9, 11)
    sweep(now=AFTER)
    late = setup.enter(setup.resident("이"), DAY, 11, 12)  # entered "before" the draw time
    assert late.status == "entered"
    assert sweep(now=AFTER + timedelta(minutes=1))["drawn"] == 0
    assert late.status == "lost" and late.lottery_draw_id is None
    assert early.status == "requested"


def test_two_workers_at_once_draw_once(app, setup, db):
    entries = [setup.enter(setup.resident(f"김{n}"), DAY, 9, 11) for n in range(4)]
    ids = [b.id for b in entries]
    db.session.commit()
    barrier = threading.Barrier(2)
    drawn, errors = [], []

    def worker():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                with serialized_writes():
                    drawn.append(lottery.run_due_draws(AFTER))
                    db.session.commit()
            except Exception as exc:  # reported below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(drawn) == [0, 1]
    db.session.expire_all()
    statuses = sorted(db.session.get(Booking, i).status for i in ids)
    assert statuses == ["lost", "lost", "lost", "requested"]
    assert db.session.scalar(select(func.count(LotteryDraw.id))) == 1


def _selects(count_queries, setup, n):
    day = saturday(6, n)
    for k in range(n * 3):
        setup.enter(setup.resident(f"김{n}{k}"), day, 9 + k % 3, 12)
    db.session.commit()  # each draw in a transaction of its own, as the sweep runs it
    with count_queries() as q:
        assert lottery.run_due_draws(draw_time(day) + timedelta(minutes=1)) == 1
    return sum(1 for s in q.statements if s.lstrip().upper().startswith("SELECT"))


def test_reading_for_a_draw_takes_the_same_queries_for_few_or_many_entries(setup, count_queries):
    assert _selects(count_queries, setup, 1) == _selects(count_queries, setup, 4)


def test_the_database_keeps_one_entry_per_person_per_draw(setup, monkeypatch, db):
    """Two requests racing past the service's check still leave one entry: a unique index."""
    from app.errors import ValidationFailed

    person = setup.resident()
    day = saturday(6, 2)
    setup.enter(person, day, 9, 11)
    db.session.commit()
    monkeypatch.setattr(booking_services, "_refuse_second_entry", lambda *args: None)
    with pytest.raises(ValidationFailed) as raised:
        setup.enter(person, day, 11, 13)
    assert "already entered this draw" in raised.value.message
    db.session.rollback()
    entries = db.session.scalars(select(Booking).where(Booking.user_id == person.id)).all()
    assert [b.status for b in entries] == ["entered"]
