"""The privacy pages in Korean, the site's first language."""

from __future__ import annotations


def test_the_notice_and_the_pages_read_in_korean(app, client, factories, login, db,
                                                 monkeypatch):
    monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "ko")
    page = client.get("/privacy").get_data(as_text=True)
    assert "개인정보 처리방침" in page and "보유 기간" in page and "5년" in page
    assert "개인정보 처리에 동의합니다" in client.get("/register").get_data(as_text=True)
    login(factories.user())
    assert "내 데이터 내려받기" in client.get("/account/privacy").get_data(as_text=True)
    assert "남는 정보와 그 이유" in client.get("/account/delete").get_data(as_text=True)
