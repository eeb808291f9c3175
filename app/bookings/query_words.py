"""Plain-word search queries: "강북구 체육관", "수유동", "미아역", "gym Gangbuk".

A query is split into words, and each word is read as one of
- a jurisdiction (강북구, 강북, Gangbuk-gu, 서울): spaces under it or with it in their address;
- a 동 (수유동, 번1동): spaces whose name or address names it, numbered 동 included
  (수유동 finds 수유1동 and 수유2동); only when some published space does, so an unknown
  동 stays a place for the geocoder;
- a space-type word (체육관, 강당, gym, …): spaces of that type, or with the word in the text;
- any other word: it must appear in the name, description, address or owner's name.

Reading the words costs two queries (the jurisdictions, held whole as they number in the
hundreds at most, and one EXISTS per 동 candidate in a single SELECT).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import exists, literal, or_, select

from app.extensions import db
from app.orgs.models import Jurisdiction, with_descendants
from app.spaces.models import SPACE_TYPES, Space

MAX_WORDS = 8
MAX_DONG_CANDIDATES = 4

# Words people use for each space type, Korean and English (lower case).
TYPE_WORDS: dict[str, str] = {
    "체육관": "gym", "실내체육관": "gym", "gym": "gym", "gymnasium": "gym",
    "강당": "auditorium", "소극장": "auditorium", "극장": "auditorium", "공연장": "auditorium",
    "auditorium": "auditorium", "hall": "auditorium", "theatre": "auditorium",
    "회의실": "meeting_room", "다목적실": "meeting_room", "세미나실": "meeting_room",
    "meeting": "meeting_room",
    "교실": "classroom", "강의실": "classroom", "시청각실": "classroom",
    "classroom": "classroom",
    "운동장": "sports_field", "구장": "sports_field", "축구장": "sports_field",
    "field": "sports_field", "pitch": "sports_field",
    "옥상": "rooftop", "옥상정원": "rooftop", "rooftop": "rooftop", "roof": "rooftop",
    "부엌": "kitchen", "주방": "kitchen", "공유부엌": "kitchen", "kitchen": "kitchen",
    "스튜디오": "studio", "연습실": "studio", "녹음실": "studio", "studio": "studio",
}
_DONG = re.compile(r"^([가-힣]{1,6}?)(\d{1,2}가?)?동$")
_STATION = re.compile(r"^[가-힣A-Za-z0-9]+역$")


@dataclass
class Understood:
    """What the words of a query were read as."""

    jurisdictions: list[Jurisdiction] = field(default_factory=list)
    jurisdiction_ids: set[int] = field(default_factory=set)  # with everything below them
    dongs: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)  # space-type codes
    type_words: list[str] = field(default_factory=list)  # as typed
    words: list[str] = field(default_factory=list)  # free text, each must match

    @property
    def type_names(self) -> list[str]:
        """Words that name one of the types, as typed and in Korean: a space whose name holds
        one is of that kind too ("강당 겸 체육관" for gym)."""
        korean = [w for w, code in TYPE_WORDS.items() if code in self.types and not w.isascii()]
        return list(dict.fromkeys([*self.type_words, *korean]))

    @property
    def terms(self) -> list[str]:
        """What was recognised, as the page shows it ("강북구 · 수유동 · 체육관")."""
        return [
            *(j.display_name for j in self.jurisdictions),
            *self.dongs,
            *(str(SPACE_TYPES[code]) for code in self.types),
        ]

    @property
    def names_a_place(self) -> bool:
        """True when a jurisdiction or 동 was recognised: the words already say where."""
        return bool(self.jurisdictions or self.dongs)

    @property
    def looks_like_station(self) -> bool:
        return any(_STATION.match(w) for w in self.words) or any(
            w.lower() == "station" for w in self.words
        )

    @property
    def place_text(self) -> str:
        """The free words, as the geocoder should read them."""
        return " ".join(self.words)


def split_words(q: str) -> list[str]:
    return q.replace(",", " ").split()[:MAX_WORDS]


def _jurisdiction_keys(j: Jurisdiction) -> set[str]:
    keys = {j.name.lower()}
    for suffix in ("특별시", "광역시", "구", "시", "군"):
        if j.name.endswith(suffix) and len(j.name) - len(suffix) >= 2:
            keys.add(j.name[: -len(suffix)].lower())
            break
    if j.name_en:
        en = j.name_en.lower()
        keys.add(en)
        for suffix in ("-gu", " gu", "-si", " city"):
            if en.endswith(suffix):
                keys.add(en[: -len(suffix)])
    return keys


def _escape(word: str) -> str:
    return word.replace("\\", "").replace("%", "").replace("_", "")


def dong_patterns(word: str) -> list[str]:
    """LIKE patterns for a 동 word: 수유동 also finds 수유1동 and 수유2동."""
    match = _DONG.match(word)
    if not match:
        return []
    base, number = match.group(1), match.group(2)
    if number:
        return [f"%{_escape(word)}%"]
    return [f"%{base}동%", f"%{base}_동%", f"%{base}__동%"]


def dong_condition(word: str):
    patterns = dong_patterns(word)
    return or_(*(c.like(p) for p in patterns for c in (Space.name, Space.address)))


def understand(q: str) -> Understood:
    """Read the words of a query; see the module docstring."""
    result = Understood()
    words = split_words(q)
    if not words:
        return result
    by_key: dict[str, list[Jurisdiction]] = {}
    everything = db.session.scalars(select(Jurisdiction)).all()
    for j in everything:
        for key in _jurisdiction_keys(j):
            by_key.setdefault(key, []).append(j)
    dong_candidates: list[str] = []
    for word in words:
        key = word.lower()
        if key in by_key:
            result.jurisdictions.extend(by_key[key])
        elif key in TYPE_WORDS:
            if TYPE_WORDS[key] not in result.types:
                result.types.append(TYPE_WORDS[key])
            result.type_words.append(word)
        elif dong_patterns(word) and len(dong_candidates) < MAX_DONG_CANDIDATES:
            dong_candidates.append(word)
        else:
            result.words.append(word)
    if result.jurisdictions:
        result.jurisdiction_ids = with_descendants(
            {j.id for j in result.jurisdictions}, {j.id: j.parent_id for j in everything}
        )
    if dong_candidates:
        known = db.session.execute(
            select(
                literal(0),
                *(
                    exists().where(Space.published.is_(True), dong_condition(w))
                    for w in dong_candidates
                ),
            )
        ).one()[1:]
        for word, is_known in zip(dong_candidates, known, strict=True):
            (result.dongs if is_known else result.words).append(word)
    return result
