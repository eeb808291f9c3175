"""My spaces, and the space editor with geocoding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.spaces.models import Space
from tests.conftest import next_weekday
from tests.fake_nominatim import fake_nominatim_for
from tests.manage.helpers import text_of

ADDRESS = "서울특별시 강북구 오현로 25"


def form_data(org=None, **changes) -> dict:
    data = {
        "name": "과학실",
        "type": "classroom",
        "description": "실험대가 있는 교실",
        "capacity": "30",
        "address": "",
        "latitude": "",
        "longitude": "",
        "timezone": "Asia/Seoul",
        "price_per_hour": "10000",
        "min_minutes": "60",
        "max_minutes": "180",
        "buffer_minutes": "15",
        "booking_mode": "request",
        "amenities": ["wifi", "projector"],
        "published": "y",
    }
    if org is not None:
        data["owner_id"] = str(org.id)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_my_spaces_lists_only_my_organisations_with_pending_counts(
    factories, login, client, manager, org, other_org, db
):
    mine = factories.space(owner=org, name="내 강당")
    factories.space(owner=org, name="내 회의실")
    factories.space(owner=other_org, name="남의 체육관")
    start = next_weekday(1, 10)
    for hours in (0, 2):
        factories.booking(
            mine, start=start + timedelta(hours=hours), end=start + timedelta(hours=hours + 1)
        )
    factories.booking(
        mine, start=start + timedelta(hours=4), end=start + timedelta(hours=5), status="approved"
    )
    db.session.commit()
    login(manager)
    page = client.get("/manage/spaces")
    assert page.status_code == 200
    text = text_of(page)
    assert "내 강당" in text and "내 회의실" in text
    assert "남의 체육관" not in text
    assert "2 requests" in text
    assert 'data-pending="2"' in page.get_data(as_text=True)


def test_organisation_chooser_for_managers_of_several(factories, login, client, manager, db):
    second = factories.org(name="삼양동 주민센터")
    from app.orgs.models import OrgMembership

    db.session.add(OrgMembership(user=manager, organisation=second))
    factories.space(owner=second, name="주민센터 회의실")
    factories.space(owner=manager.org_memberships[0].organisation, name="학교 강당")
    db.session.commit()
    login(manager)
    html = client.get("/manage/spaces").get_data(as_text=True)
    assert '<select id="org" name="org">' in html
    filtered = text_of(client.get(f"/manage/spaces?org={second.id}"))
    assert "주민센터 회의실" in filtered and "학교 강당" not in filtered


def test_admin_sees_every_space(factories, login, client, org, other_org, db):
    admin = factories.user(is_admin=True, locale="en")
    factories.space(owner=org, name="가 공간")
    factories.space(owner=other_org, name="나 공간")
    db.session.commit()
    login(admin)
    text = text_of(client.get("/manage/spaces"))
    assert "가 공간" in text and "나 공간" in text


def test_my_spaces_runs_a_bounded_number_of_queries(
    factories, login, manager, org, queries_of_get, db
):
    factories.space(owner=org)
    db.session.commit()
    login(manager)
    few = queries_of_get("/manage/spaces")
    start = next_weekday(2, 9)
    for n in range(8):
        s = factories.space(owner=org, name=f"공간 {n}", jurisdictions=[factories.jurisdiction()])
        factories.booking(s, start=start, end=start + timedelta(hours=1))
    db.session.commit()
    assert queries_of_get("/manage/spaces") == few


def test_create_a_space(factories, login, client, manager, org, db):
    gangbuk = factories.jurisdiction(name="강북구")
    db.session.commit()
    login(manager)
    page = client.get("/manage/spaces/new")
    assert page.status_code == 200
    assert "강북구" in page.get_data(as_text=True)
    response = client.post(
        "/manage/spaces/new", data=form_data(org, jurisdiction_ids=[str(gangbuk.id)])
    )
    space = db.session.scalars(select(Space)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/manage/spaces/{space.id}/hours")
    assert space.name == "과학실" and space.capacity == 30 and space.owner_id == org.id
    assert space.amenities == ["projector", "wifi"]
    assert [j.name for j in space.jurisdictions] == ["강북구"]
    assert space.published and space.buffer_minutes == 15


def test_create_shows_every_problem_and_saves_nothing(login, client, manager, org, db):
    db.session.commit()
    login(manager)
    response = client.post(
        "/manage/spaces/new",
        data=form_data(
            org,
            name="",
            capacity="0",
            min_minutes="120",
            max_minutes="60",
            timezone="Seoul",
            latitude="37.5",
            price_per_hour="abc",
        ),
    )
    assert response.status_code == 200
    text = text_of(response)
    assert "Nothing was saved" in text
    # Every problem at once, each worded as app.spaces.fields words it: a price the form cannot
    # read gets the price's own message (it used to be WTForms' "Not a valid integer value.").
    for message in (
        "The price per hour must be a whole number of won from 0 to 10,000,000.",
        "Please enter a name.",
        "The capacity must be a whole number from 1 to 100,000.",
        "The longest booking cannot be shorter than the shortest (120 minutes).",
        "Unknown time zone. Use a name such as Asia/Seoul.",
        "Enter both the latitude and the longitude, or neither.",
    ):
        assert message in text
    assert "Not a valid integer value." not in text
    assert db.session.scalars(select(Space)).all() == []


def test_cannot_create_for_an_organisation_i_do_not_manage(login, client, manager, other_org, db):
    login(manager)
    response = client.post("/manage/spaces/new", data=form_data(other_org))
    assert response.status_code == 200
    assert "Not a valid choice" in text_of(response)
    assert db.session.scalars(select(Space)).all() == []


def test_residents_cannot_add_spaces(login, client, resident, db):
    login(resident)
    assert client.get("/manage/spaces/new").status_code == 403
    assert client.get("/manage/spaces").status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/manage/spaces")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture
def geocoder(app):
    with fake_nominatim_for(app) as fake:
        fake.places[ADDRESS] = (37.6231, 127.0189)
        yield fake


def test_new_address_is_found_on_the_map(geocoder, login, client, manager, org, db):
    login(manager)
    response = client.post(
        "/manage/spaces/new", data=form_data(org, address=ADDRESS), follow_redirects=True
    )
    space = db.session.scalars(select(Space)).one()
    assert (space.latitude, space.longitude) == pytest.approx((37.6231, 127.0189))
    assert "The address was found on the map (37.62310, 127.01890)." in text_of(response)
    assert geocoder.requests[0]["query"]["q"] == ADDRESS


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_geocoding_failure_saves_and_asks_for_coordinates(
    geocoder, mode, login, client, manager, org, db
):
    geocoder.mode = mode
    login(manager)
    response = client.post("/manage/spaces/new", data=form_data(org, address=ADDRESS))
    space = db.session.scalars(select(Space)).one()
    assert (space.latitude, space.longitude) == (None, None)
    assert response.headers["Location"].endswith(f"/manage/spaces/{space.id}/edit#location")
    page = client.get(response.headers["Location"])
    text = text_of(page)
    assert "We could not find this address on the map." in text
    assert "please enter its latitude and longitude by hand" in text
    assert 'id="latitude"' in page.get_data(as_text=True)


def test_geocoder_off_asks_for_coordinates(login, client, manager, org, db):
    # The test configuration has GEOCODER = "none".
    login(manager)
    response = client.post(
        "/manage/spaces/new", data=form_data(org, address=ADDRESS), follow_redirects=True
    )
    assert "We could not find this address on the map." in text_of(response)
    assert db.session.scalars(select(Space)).one().address == ADDRESS


def test_coordinates_entered_by_hand_are_kept(geocoder, login, client, manager, org, db):
    login(manager)
    client.post(
        "/manage/spaces/new",
        data=form_data(org, address=ADDRESS, latitude="37.5", longitude="127.1"),
    )
    space = db.session.scalars(select(Space)).one()
    assert (space.latitude, space.longitude) == (37.5, 127.1)
    assert geocoder.requests == []


def test_edit_a_space(factories, login, client, manager, org, space, db):
    seoul = factories.jurisdiction(name="서울특별시", kind="metropolitan")
    space.jurisdictions = [seoul]
    db.session.commit()
    login(manager)
    page = client.get(f"/manage/spaces/{space.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="강당"' in html
    assert f'<option selected value="{seoul.id}">' in html
    assert 'name="owner_id"' not in html
    response = client.post(
        f"/manage/spaces/{space.id}/edit",
        data=form_data(name="새 강당", capacity="80", amenities=["piano"], published=None),
    )
    assert response.status_code == 302
    db.session.expire_all()
    space = db.session.get(Space, space.id)
    assert (space.name, space.capacity, space.amenities) == ("새 강당", 80, ["piano"])
    assert space.jurisdictions == [] and not space.published


def test_edit_errors_keep_the_input_and_change_nothing(login, client, manager, space, db):
    db.session.commit()
    login(manager)
    response = client.post(
        f"/manage/spaces/{space.id}/edit", data=form_data(name="바뀐 이름", buffer_minutes="300")
    )
    assert response.status_code == 200
    assert "The buffer between bookings must be from 0 to 240 minutes." in text_of(response)
    assert 'value="바뀐 이름"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Space, space.id).name == "강당"


def test_changed_address_is_looked_up_again(geocoder, login, client, manager, space, db):
    space.address, space.latitude, space.longitude = "옛 주소", 37.5, 127.0
    db.session.commit()
    login(manager)
    client.post(
        f"/manage/spaces/{space.id}/edit",
        data=form_data(address=ADDRESS, latitude="37.5", longitude="127.0"),
    )
    db.session.expire_all()
    space = db.session.get(Space, space.id)
    assert (space.latitude, space.longitude) == pytest.approx((37.6231, 127.0189))
    geocoder.mode = "error"
    response = client.post(
        f"/manage/spaces/{space.id}/edit",
        data=form_data(address="서울 어딘가", latitude="37.6231", longitude="127.0189"),
        follow_redirects=True,
    )
    assert "We could not find the new address on the map." in text_of(response)


@pytest.mark.parametrize("page", ["edit", "hours", "closures"])
def test_space_editor_pages_run_a_bounded_number_of_queries(
    factories, login, manager, org, queries_of_get, db, page
):
    space = factories.space(owner=org, name="강당")
    start = next_weekday(2, 9)
    factories.closure(space, start - timedelta(hours=3), start - timedelta(hours=2))
    db.session.commit()
    login(manager)
    url = f"/manage/spaces/{space.id}/{page}"
    few = queries_of_get(url)
    for n in range(10):
        factories.jurisdiction(name=f"관할 {n}")
        factories.closure(space, start + timedelta(days=n), start + timedelta(days=n, hours=2))
        factories.booking(space, start=start + timedelta(days=n, hours=3),
                          end=start + timedelta(days=n, hours=4))
    space.jurisdictions = list(space.jurisdictions) + [factories.jurisdiction(name="추가 관할")]
    db.session.commit()
    assert queries_of_get(url) == few


# --- One definition of the space fields (app/spaces/fields.py) --------------------------------
def test_every_field_the_service_validates_is_in_the_form_with_the_definitions_limits(app):
    from app.spaces.fields import SPACE_FIELDS
    from app.spaces.services import EDITABLE_FIELDS
    from app.web.manage.forms import SpaceForm

    assert set(SpaceForm.FIELDS) == EDITABLE_FIELDS == set(SPACE_FIELDS)
    with app.test_request_context():
        form = SpaceForm(meta={"csrf": False})
        for name, spec in SPACE_FIELDS.items():
            assert name in form._fields, name
            rendered = form[name].render_kw or {}
            assert {k: rendered.get(k) for k in spec.html_limits()} == spec.html_limits(), name
    assert SpaceForm.capacity.kwargs["render_kw"]["max"] == SPACE_FIELDS["capacity"].high
    assert SpaceForm.name.kwargs["render_kw"]["maxlength"] == SPACE_FIELDS["name"].max_length


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("capacity", "100001", "The capacity must be a whole number from 1 to 100,000."),
        ("name", "가" * 161, "The name may be at most 160 characters."),
        ("buffer_minutes", "241", "The buffer between bookings must be from 0 to 240 minutes."),
        (
            "price_per_hour",
            "10000001",
            "The price per hour must be a whole number of won from 0 to 10,000,000.",
        ),
        ("timezone", "Seoul", "Unknown time zone. Use a name such as Asia/Seoul."),
    ],
)
def test_form_and_service_refuse_a_value_in_the_same_words(
    login, client, manager, org, db, field, value, message
):
    from app.errors import ValidationFailed
    from app.spaces import services as space_services

    db.session.commit()
    login(manager)
    response = client.post("/manage/spaces/new", data=form_data(org, **{field: value}))
    assert response.status_code == 200
    assert message in text_of(response)
    fields = {**form_data(**{field: value}), "published": True}
    with pytest.raises(ValidationFailed) as caught:
        space_services.create_space(manager, org, **fields)
    assert caught.value.errors == {field: [message]}
    db.session.rollback()
    assert db.session.scalars(select(Space)).all() == []


def test_a_limit_changed_in_the_definition_changes_form_and_service(
    monkeypatch, login, client, manager, org, db
):
    """The form holds no limit of its own: tighten capacity in SPACE_FIELDS and both refuse 51
    with the new message, while 50 still goes through the form."""
    from dataclasses import replace

    from app.errors import ValidationFailed
    from app.spaces import services as space_services
    from app.spaces.fields import SPACE_FIELDS

    tighter = replace(SPACE_FIELDS["capacity"], high=50, message="At most 50 people.")
    monkeypatch.setitem(SPACE_FIELDS, "capacity", tighter)
    db.session.commit()
    login(manager)
    response = client.post("/manage/spaces/new", data=form_data(org, capacity="51"))
    assert "At most 50 people." in text_of(response)
    assert db.session.scalars(select(Space)).all() == []
    with pytest.raises(ValidationFailed) as caught:
        space_services.create_space(manager, org, name="강당", type="classroom", capacity=51)
    assert caught.value.errors == {"capacity": ["At most 50 people."]}
    db.session.rollback()
    response = client.post("/manage/spaces/new", data=form_data(org, capacity="50"))
    assert response.status_code == 302
    assert [s.capacity for s in db.session.scalars(select(Space))] == [50]
