"""Korean is the default language: every message in the code has a Korean translation, with
the same placeholders, and the pages speak Korean unless a visitor asks for English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app" / "translations" / "ko" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]")


@pytest.fixture(scope="module")
def catalog():
    with PO.open("rb") as f:
        return read_po(f)


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    # The same keywords as `make translations-update`.
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_message_in_the_code_is_translated(catalog):
    translated = {
        m.id[0] if isinstance(m.id, tuple) else m.id
        for m in catalog
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)
        and "fuzzy" not in m.flags
    }
    missing = sorted(_extracted() - translated)
    assert not missing, (
        f"{len(missing)} messages have no Korean translation; run `make translations-update` "
        f"and translate them in {PO.relative_to(ROOT)}: {missing[:10]}"
    )


def test_translations_keep_their_placeholders(catalog):
    for message in catalog:
        if not message.id:
            continue
        # Korean has one plural form, which follows the English plural.
        source = message.id[-1] if isinstance(message.id, tuple) else message.id
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for target in targets:
            if target:
                assert sorted(PLACEHOLDER.findall(target)) == sorted(
                    PLACEHOLDER.findall(source)
                ), (source, target)


def test_pages_are_korean_by_default_and_english_on_request(client):
    page = client.get("/spaces/", headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert '<html lang="ko">' in page
    assert "공간 찾기" in page and "Find a space" not in page

    response = client.post("/language", data={"lang": "en", "next": "/spaces/"})
    assert response.status_code == 302
    page = client.get("/spaces/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Find a space" in page
