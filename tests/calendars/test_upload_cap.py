"""A request body beyond MAX_CONTENT_LENGTH gets a clear 413, not a 500."""

from __future__ import annotations

import io


def test_a_huge_upload_is_refused_with_413(factories, db, client, login):
    space = factories.space()
    manager = factories.manager(space.owner)
    db.session.commit()
    login(manager)
    data = {"name": "학사일정", "file": (io.BytesIO(b"x" * (17 * 1024 * 1024)), "big.ics")}
    response = client.post(f"/manage/spaces/{space.id}/calendars", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 413
