"""A city has thousands of spaces: the page shows the first rows of a long table and says the
downloads hold them all."""

from __future__ import annotations

import re

from app.extensions import db


def test_a_long_table_shows_its_first_rows_and_says_so(client, login, factories):
    admin = factories.user(is_admin=True)
    org = factories.org()
    for n in range(55):
        factories.space(owner=org, name=f"공간 {n:02d}")
    db.session.commit()
    login(admin)
    page = client.get("/stats/?tab=spaces").get_data(as_text=True)
    section = page.split('id="stats-by_space"', 1)[1].split("</section>", 1)[0]
    assert len(re.findall(r'<tr data-space="', section)) == 50
    assert "50" in section and "55" in section  # "the first 50 of 55 rows"
