"""Demo data for `flask seed demo`: Seoul, six districts, the education office, their owners,
spaces, accounts and a realistic booking history.

Idempotent: every row is looked up by its natural key (slug, email, owner + space name) and only
what is missing is created. Bookings are made through the booking services, so the history,
prices and state transitions are the real ones; they are seeded only while the demo spaces have
no bookings at all.

Spaces get no photos: search cards, map popups and space pages show the drawing of each
space's type until a manager uploads real ones.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.accounts import consents
from app.accounts.models import User
from app.accounts.services import create_user
from app.accounts.verification_models import Verification, VerificationKind, VerificationState
from app.bookings import services as booking_services
from app.bookings.models import Booking, BookingStage
from app.bookings.states import BookingStatus, PaymentState
from app.db import utcnow
from app.errors import RuleViolation
from app.extensions import db
from app.notifications.models import Notification
from app.notifications.resolve import ACTION_KINDS
from app.notifications.services import set_preferences
from app.orgs.models import Jurisdiction, JurisdictionMembership, Organisation, OrgMembership
from app.orgs.states import OrgStatus
from app.payments import services as payment_services
from app.seed_rules import approve_all_stages, seed_groups, seed_rule_demos, seed_rule_sets
from app.spaces.availability import local_instant
from app.spaces.models import ACCESSIBILITY, AMENITIES, Closure, OpeningHours, Space
from app.stats import events, facts

DEMO_PASSWORD = "gonggan-demo"

# (email, role, description). The README lists these; tests log in with each of them.
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("admin@gonggan.kr", "admin", "Platform administrator"),
    ("manager@bundong-es.kr", "manager", "Facility manager of 번동초등학교 (Gangbuk-gu)"),
    ("principal@bundong-es.kr", "principal", "Principal of 번동초등학교 (second approval stage)"),
    ("manager@gangbuk.go.kr", "manager", "Facility manager of the Gangbuk-gu community centers"),
    ("officer@gangbuk.go.kr", "officer", "Officer of 강북구 (Gangbuk-gu district office)"),
    ("officer@sen.go.kr", "officer", "Officer of 서울특별시교육청 (Seoul Office of Education)"),
    ("officer@seoul.go.kr", "officer", "Officer of 서울특별시 (sees every district)"),
    ("resident@example.kr", "resident", "Resident of Gangbuk-gu"),
    ("resident2@example.kr", "resident", "Resident of Dobong-gu"),
    ("en.resident@example.kr", "resident", "English-speaking resident of Yongsan-gu"),
)

ZONE = ZoneInfo("Asia/Seoul")


class _Account(NamedTuple):
    name: str
    locale: str = "ko"
    home: str | None = None  # home district slug
    org: str | None = None  # organisation slug (managers, principals)
    org_role: str = "manager"
    jurisdiction: str | None = None  # jurisdiction slug (officers)


_ACCOUNT_DETAILS = {
    "admin@gonggan.kr": _Account("공간 운영팀"),
    "manager@bundong-es.kr": _Account("김민지 (번동초 행정실)", org="bundong-es"),
    "principal@bundong-es.kr": _Account(
        "오세훈 (번동초 교장)", org="bundong-es", org_role="principal"
    ),
    "manager@gangbuk.go.kr": _Account("박서준 (강북구 마을공동체과)", org="gangbuk-centers"),
    "officer@gangbuk.go.kr": _Account("이수진 (강북구청)", jurisdiction="gangbuk"),
    "officer@sen.go.kr": _Account("최영호 (서울시교육청)", jurisdiction="seoul-edu"),
    "officer@seoul.go.kr": _Account("정하늘 (서울시 공유도시팀)", jurisdiction="seoul"),
    "resident@example.kr": _Account("홍길동", home="gangbuk"),
    "resident2@example.kr": _Account("김영희", home="dobong"),
    "en.resident@example.kr": _Account("Emily Clarke", locale="en", home="yongsan"),
}

# slug, name, name_en, kind, parent slug
JURISDICTIONS = (
    ("seoul", "서울특별시", "Seoul", "metropolitan", None),
    ("gangbuk", "강북구", "Gangbuk-gu", "district", "seoul"),
    ("dobong", "도봉구", "Dobong-gu", "district", "seoul"),
    ("jongno", "종로구", "Jongno-gu", "district", "seoul"),
    ("yongsan", "용산구", "Yongsan-gu", "district", "seoul"),
    ("yeongdeungpo", "영등포구", "Yeongdeungpo-gu", "district", "seoul"),
    ("gangdong", "강동구", "Gangdong-gu", "district", "seoul"),
    (
        "seoul-edu",
        "서울특별시교육청",
        "Seoul Metropolitan Office of Education",
        "education_office",
        "seoul",
    ),
)

# slug, name, kind, district slug, contact email, contact phone
ORGANISATIONS = (
    ("bundong-es", "번동초등학교", "school", "gangbuk", "office@bundong-es.kr", "02-980-1100"),
    ("mia-ms", "미아중학교", "school", "gangbuk", "office@mia-ms.kr", "02-984-2200"),
    ("gangbuk-centers", "강북구 주민센터·마을활력소", "community_center", "gangbuk",
     "maeul@gangbuk.go.kr", "02-901-6100"),
    ("changdong-hs", "창동고등학교", "school", "dobong", "office@changdong-hs.kr", "02-990-3300"),
    ("dobong-hwalyeokso", "도봉구 마을활력소", "community_center", "dobong",
     "maeul@dobong.go.kr", "02-2091-2200"),
    ("dobong-theatre", "도봉 마을극장 협동조합", "nonprofit", "dobong",
     "hello@dobong-theatre.kr", "02-995-0707"),
    ("hyehwa-es", "혜화초등학교", "school", "jongno", "office@hyehwa-es.kr", "02-762-4400"),
    ("jongno-centers", "종로구 동 주민센터", "community_center", "jongno",
     "dong@jongno.go.kr", "02-2148-1114"),
    ("daehakro-stage", "대학로 공유무대", "other", "jongno", "stage@daehakro.kr", "02-741-5050"),
    ("yongsan-hs", "용산고등학교", "school", "yongsan", "office@yongsan-hs.kr", "02-795-5500"),
    ("haebangchon-cowork", "(주)해방촌 코워킹", "company", "yongsan",
     "space@haebangchon.kr", "02-792-0909"),
    ("yongsan-centers", "용산구 동 주민센터", "community_center", "yongsan",
     "dong@yongsan.go.kr", "02-2199-6114"),
    ("yeouido-ms", "여의도중학교", "school", "yeongdeungpo", "office@yeouido-ms.kr",
     "02-783-6600"),
    ("mullae-kitchen", "문래 공유부엌 협동조합", "nonprofit", "yeongdeungpo",
     "cook@mullae-kitchen.kr", "02-2677-1212"),
    ("yeongdeungpo-office", "영등포구청", "district_office", "yeongdeungpo",
     "space@ydp.go.kr", "02-2670-3114"),
    ("godeok-es", "고덕초등학교", "school", "gangdong", "office@godeok-es.kr", "02-426-7700"),
    ("gangdong-facilities", "강동구도시관리공단", "district_office", "gangdong",
     "sports@gdfmc.or.kr", "02-3425-3000"),
    ("gangdong-media", "강동 마을미디어 협동조합", "nonprofit", "gangdong",
     "studio@gangdong-media.kr", "02-478-2525"),
)


def _h(hour: float) -> int:
    return int(hour * 60)


WEEKDAYS, WEEKEND = range(5), (5, 6)
HOURS = {
    # Schools lend their rooms only outside lessons.
    "school": {
        **{d: [(_h(18), _h(22))] for d in WEEKDAYS},
        **{d: [(_h(9), _h(18))] for d in WEEKEND},
    },
    "center": {d: [(_h(9), _h(21))] for d in WEEKDAYS},
    "center_sat": {**{d: [(_h(9), _h(21))] for d in WEEKDAYS}, 5: [(_h(9), _h(13))]},
    "center_lunch": {d: [(_h(9), _h(12)), (_h(13), _h(18))] for d in WEEKDAYS},
    "rooftop": {d: [(_h(10), _h(19))] for d in range(7)},
    "kitchen": {d: [(_h(10), _h(21))] for d in range(1, 7)},
    "studio": {d: [(_h(10), _h(22))] for d in range(7)},
    "field": {d: [(_h(6), _h(22))] for d in range(7)},
    "hall": {d: [(_h(10), _h(22))] for d in range(1, 7)},
    "office": {**{d: [(_h(9), _h(18))] for d in WEEKDAYS}, 5: [(_h(10), _h(17))]},
}


class _SpaceSeed(NamedTuple):
    key: str
    org: str
    name: str
    type: str
    capacity: int
    price: int
    mode: str
    hours: str
    amenities: tuple[str, ...]  # accessibility features (ACCESSIBILITY codes) included
    address: str
    lat: float
    lon: float
    description: str
    min_minutes: int = 60
    max_minutes: int = 240
    buffer: int = 0
    published: bool = True


S = _SpaceSeed
SPACES = (
    # --- 강북구 ---
    S("bundong-gym", "bundong-es", "번동초등학교 체육관", "gym", 80, 20000, "request", "school",
      ("sound_system", "showers", "air_conditioning"), "서울특별시 강북구 오현로 145",
      37.6347, 127.0431,
      "배드민턴 코트 3면 규모의 실내 체육관입니다. 실내화 필수, 음식물 반입 금지.",
      max_minutes=180, buffer=30),
    S("bundong-class", "bundong-es", "번동초등학교 3층 교실", "classroom", 30, 0, "request",
      "school", ("whiteboard", "projector", "tables_chairs", "wifi"),
      "서울특별시 강북구 오현로 145", 37.6349, 127.0428,
      "저녁·주말에 빈 교실을 주민 학습 모임에 개방합니다. 사용 후 책상 배치를 원래대로 해 주세요.",
      max_minutes=180, buffer=10),
    S("bundong-music", "bundong-es", "번동초등학교 음악실", "classroom", 25, 5000, "request",
      "school", ("piano", "whiteboard"), "서울특별시 강북구 오현로 145", 37.6348, 127.0430,
      "방음 공사 후 공개 예정입니다.", published=False),
    S("mia-gym", "mia-ms", "미아중학교 강당 겸 체육관", "gym", 150, 30000, "request", "school",
      ("sound_system", "projector", "air_conditioning", "step_free_entrance",
       "accessible_toilet"),
      "서울특별시 강북구 솔샘로 174", 37.6215, 127.0178,
      "무대가 있는 다목적 강당입니다. 생활체육과 주민 행사에 모두 쓸 수 있습니다.",
      min_minutes=120, buffer=30),
    S("mia-field", "mia-ms", "미아중학교 운동장", "sports_field", 60, 10000, "request", "school",
      ("lighting", "parking"), "서울특별시 강북구 솔샘로 174", 37.6212, 127.0182,
      "인조잔디 운동장입니다. 야간 조명은 21시 50분에 꺼집니다."),
    S("beon1-meeting", "gangbuk-centers", "번1동 주민센터 2층 회의실", "meeting_room", 16, 0,
      "instant", "center", ("wifi", "whiteboard", "tables_chairs", "air_conditioning", "lift"),
      "서울특별시 강북구 도봉로98길 29", 37.6378, 127.0322,
      "주민자치회와 동아리가 무료로 쓰는 회의실입니다. 바로 예약됩니다.", max_minutes=180),
    S("suyu1-hall", "gangbuk-centers", "수유1동 주민센터 다목적실", "meeting_room", 40, 0,
      "request", "center_sat", ("projector", "sound_system", "tables_chairs", "step_free_entrance",
                             "lift", "accessible_toilet"),
      "서울특별시 강북구 도봉로89길 13", 37.6398, 127.0249,
      "강연, 주민 교육, 소모임에 알맞은 다목적실입니다."),
    S("mia-kitchen", "gangbuk-centers", "미아동 마을활력소 공유부엌", "kitchen", 12, 10000,
      "request", "kitchen", ("kitchen_equipment", "tables_chairs", "air_conditioning"),
      "서울특별시 강북구 삼양로 136", 37.6201, 127.0181,
      "업소용 오븐과 인덕션 4구가 있는 공유부엌입니다. 반찬 나눔, 요리 교실에 활용하세요.",
      min_minutes=120, buffer=30),
    S("mia-rooftop", "gangbuk-centers", "미아동 마을활력소 옥상정원", "rooftop", 15, 0, "instant",
      "rooftop", ("tables_chairs",), "서울특별시 강북구 삼양로 136", 37.6202, 127.0183,
      "북한산이 보이는 옥상 텃밭 정원입니다. 해가 있는 시간에만 이용할 수 있습니다.",
      max_minutes=180),
    S("suyu2-studio", "gangbuk-centers", "수유2동 마을활력소 작은 스튜디오", "studio", 6, 5000,
      "instant", "studio", ("sound_system", "wifi"), "서울특별시 강북구 인수봉로 243",
      37.6441, 127.0135, "팟캐스트 녹음과 악기 연습을 할 수 있는 방음 스튜디오입니다.",
      max_minutes=120),
    # --- 도봉구 ---
    S("changdong-gym", "changdong-hs", "창동고등학교 체육관", "gym", 120, 25000, "request",
      "school", ("sound_system", "showers", "step_free_entrance", "accessible_toilet",
                 "accessible_parking"), "서울특별시 도봉구 덕릉로 351",
      37.6489, 127.0435, "농구 코트 1면, 배구 코트 2면 규모의 체육관입니다.", buffer=30),
    S("changdong-av", "changdong-hs", "창동고등학교 시청각실", "classroom", 60, 0, "request",
      "school", ("projector", "sound_system", "air_conditioning"), "서울특별시 도봉구 덕릉로 351",
      37.6491, 127.0438, "계단식 좌석 60석과 빔프로젝터가 있는 시청각실입니다.", buffer=15),
    S("banghak-meeting", "dobong-hwalyeokso", "방학2동 마을활력소 회의실", "meeting_room", 20, 0,
      "instant", "center", ("wifi", "whiteboard", "tables_chairs"), "서울특별시 도봉구 방학로 213",
      37.6660, 127.0390, "주민 누구나 무료로 쓰는 회의실입니다."),
    S("ssangmun-kitchen", "dobong-hwalyeokso", "쌍문동 마을활력소 공유부엌", "kitchen", 10, 8000,
      "request", "kitchen", ("kitchen_equipment", "tables_chairs"),
      "서울특별시 도봉구 우이천로 338", 37.6505, 127.0300,
      "가정용 조리도구가 갖춰진 아담한 공유부엌입니다.", min_minutes=120, buffer=20),
    S("changdong-rooftop", "dobong-hwalyeokso", "창동 마을활력소 옥상", "rooftop", 20, 0,
      "request", "rooftop", ("tables_chairs",), "서울특별시 도봉구 마들로11길 21",
      37.6530, 127.0480, "도봉산 전망의 옥상입니다. 소규모 모임과 작은 음악회에 좋습니다."),
    S("dobong-smallhall", "dobong-theatre", "도봉 마을극장 소극장", "auditorium", 80, 40000,
      "request", "hall", ("sound_system", "lighting", "piano", "air_conditioning"),
      "서울특별시 도봉구 도봉로 552", 37.6575, 127.0420,
      "80석 소극장입니다. 음향·조명 기본 운영을 지원합니다.", min_minutes=120, buffer=30),
    # --- 종로구 ---
    S("hyehwa-care", "hyehwa-es", "혜화초등학교 돌봄교실", "classroom", 20, 0, "request", "school",
      ("tables_chairs", "whiteboard", "air_conditioning"), "서울특별시 종로구 창경궁로 265",
      37.5860, 127.0020, "온돌 바닥의 돌봄교실입니다. 주말 어린이 프로그램에 알맞습니다.",
      max_minutes=180, buffer=10),
    S("hyehwa-gym", "hyehwa-es", "혜화초등학교 체육관", "gym", 100, 20000, "request", "school",
      ("sound_system", "air_conditioning"), "서울특별시 종로구 창경궁로 265", 37.5862, 127.0023,
      "마룻바닥 체육관입니다. 생활체육 동호회 대관을 받습니다.", buffer=30),
    S("changsin-meeting", "jongno-centers", "창신1동 주민센터 회의실", "meeting_room", 12, 0,
      "instant", "center_lunch", ("wifi", "whiteboard", "tables_chairs"),
      "서울특별시 종로구 지봉로 16", 37.5730, 127.0120,
      "점심시간(12~13시)에는 쉽니다. 봉제 골목 소상공인 모임에도 열려 있습니다.",
      max_minutes=180),
    S("hyehwa-center-hall", "jongno-centers", "혜화동 주민센터 대강당", "auditorium", 120, 0,
      "request", "center_sat", ("projector", "sound_system", "step_free_entrance", "lift",
                             "accessible_toilet", "hearing_loop"),
      "서울특별시 종로구 혜화로 35", 37.5865, 126.9992,
      "주민총회, 강연, 발표회를 위한 강당입니다.", min_minutes=120, buffer=30),
    S("daehakro-practice", "daehakro-stage", "대학로 공유무대 연습실", "studio", 25, 15000,
      "instant", "studio", ("sound_system", "air_conditioning", "wifi"),
      "서울특별시 종로구 대학로 116", 37.5820, 127.0025,
      "전신 거울과 음향 장비가 있는 연습실입니다.", buffer=10),
    S("daehakro-theatre", "daehakro-stage", "대학로 공유무대 소극장", "auditorium", 90, 50000,
      "request", "hall", ("sound_system", "lighting", "projector"), "서울특별시 종로구 대학로 116",
      37.5821, 127.0027, "90석 블랙박스 극장입니다. 리허설과 공연 모두 가능합니다.",
      min_minutes=120, buffer=30),
    # --- 용산구 ---
    S("yongsan-field", "yongsan-hs", "용산고등학교 운동장", "sports_field", 80, 15000, "request",
      "school", ("lighting", "showers"), "서울특별시 용산구 두텁바위로 55", 37.5480, 126.9780,
      "천연잔디 축구장입니다. 축구화는 고무 스터드만 허용됩니다.", min_minutes=120, buffer=30),
    S("yongsan-class", "yongsan-hs", "용산고등학교 다목적 교실", "classroom", 35, 0, "request",
      "school", ("projector", "whiteboard", "wifi", "tables_chairs"),
      "서울특별시 용산구 두텁바위로 55", 37.5483, 126.9783,
      "스터디 모임과 주민 강좌에 개방하는 교실입니다.", max_minutes=180),
    S("haebangchon-rooftop", "haebangchon-cowork", "해방촌 코워킹 루프탑", "rooftop", 12, 20000,
      "instant", "rooftop", ("tables_chairs", "wifi"), "서울특별시 용산구 신흥로 95",
      37.5445, 126.9860, "남산타워가 보이는 루프탑입니다. 해가 지기 전까지만 운영합니다.",
      max_minutes=180, buffer=30),
    S("haebangchon-seminar", "haebangchon-cowork", "해방촌 코워킹 세미나룸", "meeting_room", 20,
      15000, "instant", "office", ("projector", "wifi", "whiteboard", "air_conditioning"),
      "서울특별시 용산구 신흥로 95", 37.5446, 126.9861,
      "평일 업무 시간에 빌릴 수 있는 세미나룸입니다.", buffer=15),
    S("huam-meeting", "yongsan-centers", "후암동 주민센터 회의실", "meeting_room", 14, 0,
      "instant", "center_lunch", ("wifi", "tables_chairs"), "서울특별시 용산구 후암로 35",
      37.5500, 126.9785, "후암동 주민 모임을 위한 작은 회의실입니다.", max_minutes=120),
    # --- 영등포구 ---
    S("yeouido-gym", "yeouido-ms", "여의도중학교 체육관", "gym", 100, 20000, "request", "school",
      ("sound_system", "showers", "air_conditioning"), "서울특별시 영등포구 여의공원로 56",
      37.5270, 126.9210, "직장인 생활체육 동호회가 많이 찾는 체육관입니다.", buffer=30),
    S("mullae-kitchen", "mullae-kitchen", "문래 공유부엌", "kitchen", 16, 12000, "request",
      "kitchen", ("kitchen_equipment", "tables_chairs", "air_conditioning", "step_free_entrance"),
      "서울특별시 영등포구 문래로 164", 37.5175, 126.8950,
      "철공소 골목의 공유부엌입니다. 식품위생 교육 이수자가 함께해야 합니다.",
      min_minutes=120, buffer=30),
    S("mullae-studio", "mullae-kitchen", "문래 창작 스튜디오", "studio", 10, 8000, "instant",
      "studio", ("wifi", "tables_chairs", "lighting"), "서울특별시 영등포구 경인로 775",
      37.5155, 126.8935, "촬영과 소규모 워크숍에 쓰는 작업실입니다."),
    S("ydp-auditorium", "yeongdeungpo-office", "영등포구청 별관 대강당", "auditorium", 200, 50000,
      "request", "office", ("projector", "sound_system", "parking", "step_free_entrance", "lift",
                         "accessible_toilet", "hearing_loop", "accessible_parking"),
      "서울특별시 영등포구 당산로 123", 37.5264, 126.8962,
      "200석 대강당입니다. 비영리 주민 행사는 사용료를 감면받을 수 있습니다.",
      min_minutes=120, buffer=30),
    S("dangsan-seminar", "yeongdeungpo-office", "당산1동 주민센터 세미나실", "meeting_room", 24,
      0, "instant", "center", ("wifi", "projector", "tables_chairs"),
      "서울특별시 영등포구 당산로 139", 37.5300, 126.8990,
      "주민 누구나 무료로 쓰는 세미나실입니다."),
    # --- 강동구 ---
    S("godeok-gym", "godeok-es", "고덕초등학교 체육관", "gym", 90, 15000, "request", "school",
      ("sound_system", "air_conditioning"), "서울특별시 강동구 고덕로 295", 37.5560, 127.1540,
      "주말 가족 체육 프로그램에 개방하는 체육관입니다.", buffer=30),
    S("godeok-science", "godeok-es", "고덕초등학교 과학실", "classroom", 28, 0, "request",
      "school", ("projector", "tables_chairs", "whiteboard"), "서울특별시 강동구 고덕로 295",
      37.5563, 127.1543, "실험대가 있는 과학실입니다. 어린이 과학 교실에 알맞습니다.",
      max_minutes=180, buffer=10),
    S("amsa-futsal", "gangdong-facilities", "암사 생태공원 풋살장", "sports_field", 14, 20000,
      "instant", "field", ("lighting", "showers", "parking"), "서울특별시 강동구 올림픽로 875",
      37.5530, 127.1290, "조명이 있는 인조잔디 풋살장입니다.", max_minutes=120, buffer=10),
    S("gangdong-hall", "gangdong-facilities", "강동구민회관 소강당", "auditorium", 150, 30000,
      "request", "office", ("sound_system", "projector", "piano", "step_free_entrance", "lift",
                         "accessible_toilet", "hearing_loop"),
      "서울특별시 강동구 성내로 25", 37.5301, 127.1238,
      "피아노가 있는 소강당입니다. 합창단 연습과 발표회에 많이 쓰입니다.",
      min_minutes=120, buffer=30),
    S("cheonho-studio", "gangdong-media", "천호동 마을미디어 스튜디오", "studio", 8, 10000,
      "instant", "studio", ("sound_system", "wifi", "projector"), "서울특별시 강동구 천호대로 1017",
      37.5385, 127.1270, "영상 촬영과 라디오 녹음을 위한 스튜디오입니다. 장비 교육 후 이용하세요.",
      max_minutes=180, buffer=15),
)
del S

# Next Lunar New Year holidays (설 연휴), local dates, first and last day.
SEOLLAL = (
    (date(2026, 2, 16), date(2026, 2, 18)),
    (date(2027, 2, 6), date(2027, 2, 9)),
    (date(2028, 1, 26), date(2028, 1, 28)),
    (date(2029, 2, 12), date(2029, 2, 14)),
    (date(2030, 2, 2), date(2030, 2, 4)),
)


class _Plan(NamedTuple):
    """One demo booking: week relative to this week, local weekday and time, who, the outcome."""

    space: str
    week: int
    weekday: int
    start: str
    minutes: int
    user: str
    attendees: int
    # The state the demo booking ends in, or "accepted": approved or confirmed, as it comes.
    outcome: str
    purpose: str
    reason: str | None = None


P, B = _Plan, BookingStatus  # short names for the table below
R1, R2, EN = "resident@example.kr", "resident2@example.kr", "en.resident@example.kr"
BOOKINGS = (
    # --- Past weeks ---
    P("bundong-gym", -4, 5, "10:00", 120, R1, 12, B.COMPLETED, "배드민턴 동호회 정기 모임"),
    P("bundong-gym", -3, 5, "10:00", 120, R1, 14, B.COMPLETED, "배드민턴 동호회 정기 모임"),
    P("bundong-gym", -2, 5, "10:00", 120, R1, 10, B.NO_SHOW, "배드민턴 동호회 정기 모임"),
    P("bundong-class", -3, 1, "19:00", 120, R2, 8, B.COMPLETED, "어르신 스마트폰 교실"),
    P("bundong-class", -2, 2, "18:30", 90, R1, 6, B.REJECTED, "동네 책모임",
      "이날 저녁에는 학부모 총회로 교실을 사용합니다."),
    P("beon1-meeting", -4, 1, "10:00", 120, R1, 10, B.COMPLETED, "번1동 주민자치회 분과 회의"),
    P("beon1-meeting", -2, 3, "14:00", 60, R2, 5, B.NO_SHOW, "마을 신문 편집 회의"),
    P("beon1-meeting", -1, 1, "10:00", 120, R1, 12, B.COMPLETED, "번1동 주민자치회 분과 회의"),
    P("suyu1-hall", -3, 3, "19:00", 120, R1, 30, B.COMPLETED, "주민 인문학 강좌"),
    P("suyu1-hall", -1, 2, "10:00", 90, EN, 15, B.EXPIRED, "Language exchange meetup"),
    P("mia-kitchen", -2, 5, "11:00", 180, R1, 10, B.COMPLETED, "김장 나눔 행사 준비"),
    P("mia-kitchen", -1, 3, "14:00", 120, R2, 8, B.CANCELLED, "반찬 나눔 요리 교실"),
    P("mia-rooftop", -3, 6, "14:00", 120, R1, 8, B.COMPLETED, "옥상 텃밭 가꾸기"),
    P("suyu2-studio", -1, 4, "19:00", 60, R2, 3, B.COMPLETED, "마을 팟캐스트 녹음"),
    P("mia-gym", -2, 6, "13:00", 180, R2, 60, B.COMPLETED, "동네 탁구 대회"),
    P("changdong-gym", -3, 6, "10:00", 180, R2, 20, B.COMPLETED, "농구 동호회 연습"),
    P("changdong-av", -1, 5, "14:00", 120, R2, 40, B.EXPIRED, "독립영화 상영회"),
    P("banghak-meeting", -2, 0, "19:00", 120, R2, 12, B.COMPLETED, "방학동 육아 품앗이 모임"),
    P("ssangmun-kitchen", -1, 5, "11:00", 120, R2, 8, B.REJECTED, "쿠키 판매용 제과",
      "공유부엌에서 판매용 음식은 만들 수 없습니다."),
    P("dobong-smallhall", -2, 5, "15:00", 180, R2, 70, B.COMPLETED, "마을 합창단 정기 공연"),
    P("hyehwa-gym", -4, 6, "10:00", 120, R1, 24, B.COMPLETED, "배구 동호회 친선 경기"),
    P("changsin-meeting", -3, 2, "10:00", 90, R1, 8, B.COMPLETED, "봉제 소상공인 협의회"),
    P("daehakro-practice", -2, 3, "19:00", 120, EN, 12, B.COMPLETED, "Improv theatre workshop"),
    P("daehakro-practice", -1, 4, "19:00", 120, R1, 15, B.CANCELLED, "연극 동아리 연습"),
    P("haebangchon-rooftop", -3, 5, "16:00", 120, EN, 10, B.COMPLETED, "Rooftop book club"),
    P("haebangchon-seminar", -1, 2, "10:00", 120, EN, 15, B.NO_SHOW, "Startup pitch practice"),
    P("yongsan-field", -2, 6, "09:00", 120, EN, 22, B.COMPLETED, "Sunday football"),
    P("huam-meeting", -4, 3, "14:00", 60, EN, 6, B.COMPLETED, "후암동 골목 축제 준비 회의"),
    P("yeouido-gym", -3, 2, "19:00", 120, R1, 18, B.COMPLETED, "직장인 배드민턴 모임"),
    P("mullae-kitchen", -2, 6, "11:00", 180, R2, 12, B.COMPLETED, "비건 요리 교실"),
    P("mullae-studio", -1, 5, "13:00", 120, R1, 4, B.COMPLETED, "제품 사진 촬영"),
    P("ydp-auditorium", -2, 4, "14:00", 180, R1, 150, B.REJECTED, "정당 후원 행사",
      "구청 시설은 정치 행사에 대관하지 않습니다."),
    P("dangsan-seminar", -3, 1, "19:00", 120, R2, 20, B.COMPLETED, "부동산 계약 교육"),
    P("godeok-gym", -1, 6, "10:00", 120, R1, 30, B.COMPLETED, "가족 피구 한마당"),
    P("amsa-futsal", -2, 2, "20:00", 120, R2, 12, B.COMPLETED, "풋살 친선 경기"),
    P("amsa-futsal", -1, 2, "20:00", 120, R2, 12, B.NO_SHOW, "풋살 친선 경기"),
    P("cheonho-studio", -3, 4, "14:00", 120, R1, 4, B.COMPLETED, "마을 라디오 녹음"),
    # --- Coming weeks ---
    P("bundong-gym", 1, 5, "10:00", 120, R1, 12, "accepted", "배드민턴 동호회 정기 모임"),
    P("bundong-gym", 2, 5, "10:00", 120, R1, 12, B.REQUESTED, "배드민턴 동호회 정기 모임"),
    P("bundong-gym", 1, 2, "19:00", 120, R2, 20, B.REQUESTED, "주민 줌바 댄스"),
    P("bundong-class", 1, 1, "19:00", 120, R2, 8, "accepted", "어르신 스마트폰 교실"),
    P("bundong-class", 2, 3, "19:00", 90, EN, 10, B.REQUESTED, "English storytelling for kids"),
    P("bundong-class", 2, 6, "10:00", 120, R1, 15, B.REJECTED, "학원 설명회",
      "영리 목적의 행사는 학교 시설을 이용할 수 없습니다."),
    P("beon1-meeting", 1, 1, "10:00", 120, R1, 12, "accepted", "번1동 주민자치회 분과 회의"),
    P("beon1-meeting", 1, 3, "15:00", 60, R2, 4, B.CANCELLED, "마을 신문 편집 회의"),
    P("suyu1-hall", 1, 3, "19:00", 120, R1, 30, B.REQUESTED, "주민 인문학 강좌"),
    P("suyu1-hall", 2, 5, "10:00", 120, EN, 18, "accepted", "Language exchange meetup"),
    P("mia-kitchen", 1, 5, "11:00", 180, R1, 10, B.REQUESTED, "김장 나눔 행사"),
    P("mia-rooftop", 1, 6, "14:00", 120, R2, 6, "accepted", "옥상 요가"),
    P("suyu2-studio", 2, 4, "19:00", 60, R2, 3, "accepted", "마을 팟캐스트 녹음"),
    P("mia-field", 1, 6, "09:00", 120, R1, 22, B.REQUESTED, "조기축구회 경기"),
    P("mia-gym", 3, 5, "13:00", 180, R2, 80, B.REQUESTED, "동네 탁구 대회"),
    P("changdong-gym", 1, 6, "10:00", 180, R2, 20, "accepted", "농구 동호회 연습"),
    P("changdong-av", 2, 5, "14:00", 120, R2, 40, B.REQUESTED, "독립영화 상영회"),
    P("banghak-meeting", 1, 0, "19:00", 120, R2, 12, "accepted", "방학동 육아 품앗이 모임"),
    P("ssangmun-kitchen", 2, 3, "11:00", 120, R2, 8, B.REQUESTED, "이웃과 함께하는 반찬 만들기"),
    P("changdong-rooftop", 1, 5, "15:00", 120, R2, 15, B.REQUESTED, "옥상 작은 음악회"),
    P("dobong-smallhall", 3, 5, "15:00", 180, R2, 70, "accepted", "마을 합창단 송년 공연"),
    P("hyehwa-care", 1, 5, "10:00", 120, R1, 15, B.REQUESTED, "주말 어린이 그림책 교실"),
    P("hyehwa-center-hall", 2, 2, "14:00", 120, R1, 90, B.REQUESTED, "혜화동 주민총회"),
    P("daehakro-practice", 1, 4, "19:00", 120, R1, 15, "accepted", "연극 동아리 연습"),
    P("daehakro-theatre", 3, 5, "14:00", 180, R1, 80, B.REQUESTED, "청소년 연극제"),
    P("yongsan-field", 1, 6, "09:00", 120, EN, 22, B.REQUESTED, "Sunday football"),
    P("yongsan-class", 2, 2, "19:00", 120, EN, 12, "accepted", "Korean study group"),
    P("haebangchon-rooftop", 1, 5, "16:00", 120, EN, 10, "accepted", "Rooftop book club"),
    P("haebangchon-seminar", 2, 1, "10:00", 120, EN, 15, B.CANCELLED, "Startup pitch practice"),
    P("huam-meeting", 1, 3, "14:00", 60, EN, 6, "accepted", "후암동 골목 축제 준비 회의"),
    P("yeouido-gym", 1, 2, "19:00", 120, R1, 18, B.REQUESTED, "직장인 배드민턴 모임"),
    P("mullae-kitchen", 2, 6, "11:00", 180, R2, 12, B.REQUESTED, "비건 요리 교실"),
    P("mullae-studio", 1, 5, "13:00", 120, R1, 4, "accepted", "제품 사진 촬영"),
    P("ydp-auditorium", 3, 4, "14:00", 180, R1, 150, B.REQUESTED, "구민 건강 강좌"),
    P("dangsan-seminar", 2, 1, "19:00", 120, R2, 20, "accepted", "부동산 계약 교육"),
    P("godeok-gym", 1, 6, "10:00", 120, R1, 30, B.REJECTED, "가족 피구 한마당",
      "이날은 학교 체육대회 준비로 체육관을 쓸 수 없습니다."),
    P("godeok-science", 2, 5, "10:00", 120, R1, 20, B.REQUESTED, "어린이 과학 교실"),
    P("amsa-futsal", 1, 2, "20:00", 120, R2, 12, "accepted", "풋살 친선 경기"),
    P("gangdong-hall", 2, 5, "14:00", 180, R1, 100, B.REQUESTED, "구립 합창단 발표회"),
    P("cheonho-studio", 1, 4, "14:00", 120, R1, 4, "accepted", "마을 라디오 녹음"),
)
del P


def seed_demo(now: datetime | None = None) -> str:
    """Create whatever demo data is missing and return a one-paragraph summary."""
    now = (now or utcnow()).astimezone(UTC).replace(microsecond=0)
    jurisdictions = _seed_jurisdictions()
    orgs = _seed_orgs()
    users = _seed_accounts(jurisdictions, orgs)
    _seed_pending_application(jurisdictions, users, now)
    _seed_verifications(users, now)
    spaces, new_spaces = _seed_spaces(orgs, jurisdictions, now)
    db.session.flush()
    rule_sets = seed_rule_sets(jurisdictions, orgs, spaces, users, now)
    groups = seed_groups(users)
    _seed_preferences(users)

    demo_ids = [space.id for space in spaces.values()]
    existing = db.session.scalar(
        select(func.count(Booking.id)).where(Booking.space_id.in_(demo_ids))
    )
    made = 0
    if not existing:
        made = _seed_bookings(spaces, users, orgs, now, groups)
        made += seed_rule_demos(spaces, users, now, decider=_decider(users))
    db.session.flush()
    if made:
        _tidy_inboxes(users, now)
    if made or new_spaces:
        _seed_statistics(demo_ids, now)

    published = sum(1 for space in spaces.values() if space.published)
    return (
        f"Demo data ready: {len(jurisdictions)} jurisdictions, {len(orgs)} organisations, "
        f"{published} published spaces ({new_spaces} new), {len(users)} demo accounts "
        f"(password: {DEMO_PASSWORD}), {rule_sets} new rule sets, {made} new bookings."
    )


def _seed_statistics(space_ids: list[int], now: datetime) -> None:
    """Open time for the demo's past and coming days (the periodic job only writes days
    ahead), and the events of the finished days, so the statistics of the demo show
    utilisation and demand for the months it covers."""

    today = now.astimezone(ZONE).date()
    facts.rebuild_open(today - timedelta(days=STATS_DAYS_BACK),
                       today + timedelta(days=facts.OPEN_AHEAD_DAYS), space_ids=space_ids)
    events.reclose()  # the demo's bookings are dated in the past: count closed days again
    events.close_days(events.last_closable(now))


STATS_DAYS_BACK = 120


# Notification choices that show the other channels in the demo: the district officer reads
# the weekly summary, the community centers' manager gets new requests as a daily digest.
DEMO_PREFERENCES = {
    "officer@gangbuk.go.kr": {"weekly_summary": "email"},
    "manager@gangbuk.go.kr": {"approval_requested": "digest"},
}


def _seed_preferences(users: dict) -> None:

    for email, choices in DEMO_PREFERENCES.items():
        if email in users:
            set_preferences(users[email], choices)


# The demo's inboxes hold the last ten days; what is older than two days has been read.
INBOX_DAYS = 10
READ_AFTER_DAYS = 2


def _tidy_inboxes(users: dict, now: datetime) -> None:
    """The messages the demo's history wrote, as a person would have them: each dated when its
    booking got there (the history is replayed at seeding time), only the last ten days kept,
    and all but the last two days' read, except what still asks for an action (a payment due,
    a request to change), which stays until it is done."""
    notes = db.session.scalars(
        select(Notification).where(
            Notification.user_id.in_([u.id for u in users.values()]),
            Notification.booking_id.is_not(None),
        ).options(selectinload(Notification.booking).selectinload(Booking.transitions))
    ).all()
    for note in notes:
        booking = note.booking
        if booking is None:
            continue
        if note.kind in ("booking_received", "approval_requested"):
            when = booking.created_at
        else:
            when = max((t.at for t in booking.transitions), default=booking.created_at)
        note.created_at = min(when, now)
        if note.created_at < now - timedelta(days=INBOX_DAYS):
            db.session.delete(note)
        elif note.read_at is None and note.kind not in ACTION_KINDS and (
            note.created_at < now - timedelta(days=READ_AFTER_DAYS)
        ):
            note.read_at = note.created_at + timedelta(hours=3)
    db.session.flush()


def _seed_jurisdictions() -> dict[str, Jurisdiction]:
    found = {
        j.slug: j
        for j in db.session.scalars(
            select(Jurisdiction).where(Jurisdiction.slug.in_([row[0] for row in JURISDICTIONS]))
        )
    }
    for slug, name, name_en, kind, parent in JURISDICTIONS:
        if slug not in found:
            found[slug] = Jurisdiction(
                slug=slug, name=name, name_en=name_en, kind=kind,
                parent=found.get(parent) if parent else None,
            )
            db.session.add(found[slug])
    db.session.flush()
    return found


def _seed_orgs() -> dict[str, Organisation]:
    found = {
        org.slug: org
        for org in db.session.scalars(
            select(Organisation).where(Organisation.slug.in_([row[0] for row in ORGANISATIONS]))
        )
    }
    districts = {
        j.slug: j for j in db.session.scalars(
            select(Jurisdiction).where(Jurisdiction.slug.in_(
                [row[3] for row in ORGANISATIONS] + ["seoul-edu"])))
    }
    for slug, name, kind, district, email, phone in ORGANISATIONS:
        if slug not in found:
            found[slug] = Organisation(
                slug=slug, name=name, kind=kind, contact_email=email, contact_phone=phone,
                # Companies pay the platform a fee and authorise cards at request; public
                # bodies pay no fee.
                card_holds=kind == "company",
                platform_fee_bps=300 if kind == "company" else 0,
                # The demo's owners are approved (as if they had applied and been reviewed).
                status=OrgStatus.ACTIVE,
            )
            db.session.add(found[slug])
        org = found[slug]
        if not org.jurisdictions and district in districts:
            under = [districts[district]]
            if kind == "school" and "seoul-edu" in districts:
                under.append(districts["seoul-edu"])
            org.jurisdictions = under
    db.session.flush()
    return found


# An application waiting for review (the admin's and the Gangbuk officer's queue): a company
# with a rooftop, applied for by the Gangbuk resident.
PENDING_APPLICATION = {
    "slug": "demo-rooftop-application",
    "kind": "company",
    "name": "미아 옥상정원",
    "legal_name": "(주)미아옥상정원",
    "representative": "한지원",
    "contact_email": "hello@mia-rooftop.kr",
    "contact_phone": "02-987-6543",
    "address": "서울 강북구 도봉로 100",
    "registration_number": "1248100998",
}


def _seed_pending_application(jurisdictions: dict[str, Jurisdiction], users: dict,
                              now: datetime) -> None:
    details = dict(PENDING_APPLICATION)
    slug = details.pop("slug")
    if db.session.scalar(select(Organisation.id).where(Organisation.slug == slug)):
        return
    applicant = users.get("resident@example.kr")
    org = Organisation(slug=slug, status=OrgStatus.PENDING, submitted_at=now, created_at=now,
                       applicant_id=applicant.id if applicant else None, **details)
    org.jurisdictions = [jurisdictions["gangbuk"]]
    db.session.add(org)


def _seed_accounts(
    jurisdictions: dict[str, Jurisdiction], orgs: dict[str, Organisation]
) -> dict[str, User]:
    emails = [email for email, _role, _desc in DEMO_ACCOUNTS]
    found = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    for email, role, _desc in DEMO_ACCOUNTS:
        details = _ACCOUNT_DETAILS[email]
        user = found.get(email)
        if user is None:
            user = create_user(
                email=email,
                name=details.name,
                password=DEMO_PASSWORD,
                locale=details.locale,
                home_district=jurisdictions.get(details.home) if details.home else None,
            )
            found[email] = user
        if role == "admin":
            user.is_admin = True
        if details.org:
            org = orgs[details.org]
            if not any(m.organisation_id == org.id for m in user.org_memberships):
                user.org_memberships.append(OrgMembership(organisation=org, role=details.org_role))
        if details.jurisdiction:
            jurisdiction = jurisdictions[details.jurisdiction]
            if not any(m.jurisdiction_id == jurisdiction.id for m in user.jurisdiction_memberships):
                user.jurisdiction_memberships.append(
                    JurisdictionMembership(jurisdiction=jurisdiction)
                )
    db.session.flush()
    for user in found.values():  # roles are cached per object; memberships just changed
        user.__dict__.pop("org_roles", None)
        user.__dict__.pop("officer_jurisdiction_ids", None)
        # The demo people agreed to every purpose at sign-up, so the dashboard counts them.
        if not consents.current(user.id):
            consents.record(user.id, set(consents.PURPOSES))
    return found


# The demo residents' home districts were verified a month ago by their districts' officers
# (강북구's officer for 홍길동); 홍길동's multi-child waiver claim waits in the officer's queue.
PENDING_WAIVER = ("resident@example.kr", "multi_child")


def _seed_verifications(users: dict[str, User], now: datetime) -> None:
    claimed = set(db.session.scalars(select(Verification.user_id)))
    officer = users["officer@gangbuk.go.kr"]
    for user in users.values():
        if user.home_district_id is None or user.id in claimed:
            continue
        verified_at = now - timedelta(days=30)
        user.home_district_verified_at = verified_at
        db.session.add(Verification(
            user=user, kind=VerificationKind.RESIDENCY, jurisdiction_id=user.home_district_id,
            state=VerificationState.VERIFIED, created_at=verified_at - timedelta(days=1),
            decided_at=verified_at,
            decided_by=officer if user.home_district_id in officer.officer_jurisdiction_ids
            else None,
        ))
        if user.email == PENDING_WAIVER[0]:
            db.session.add(Verification(
                user=user, kind=VerificationKind.WAIVER, category=PENDING_WAIVER[1],
                jurisdiction_id=user.home_district_id, state=VerificationState.PENDING,
                created_at=now - timedelta(days=1),
            ))
    db.session.flush()


def _seed_spaces(
    orgs: dict[str, Organisation], jurisdictions: dict[str, Jurisdiction], now: datetime
) -> tuple[dict[str, Space], int]:
    district_of = {row[0]: row[3] for row in ORGANISATIONS}
    owner_ids = [org.id for org in orgs.values()]
    existing = {
        (space.owner_id, space.name): space
        for space in db.session.scalars(select(Space).where(Space.owner_id.in_(owner_ids)))
    }
    spaces: dict[str, Space] = {}
    created = 0
    for seed in SPACES:
        org = orgs[seed.org]
        space = existing.get((org.id, seed.name))
        if space is None:
            space = _new_space(seed, org, jurisdictions, district_of[seed.org])
            db.session.add(space)
            db.session.flush()
            _add_closures(space, seed, org, now)
            created += 1
        spaces[seed.key] = space
    return spaces, created


def _new_space(
    seed: _SpaceSeed, org: Organisation, jurisdictions: dict[str, Jurisdiction], district: str
) -> Space:
    assert set(seed.amenities) <= set(AMENITIES) | set(ACCESSIBILITY), seed.key
    space = Space(
        owner=org,
        name=seed.name,
        type=seed.type,
        description=seed.description,
        capacity=seed.capacity,
        address=seed.address,
        latitude=seed.lat,
        longitude=seed.lon,
        price_per_hour=seed.price,
        min_minutes=seed.min_minutes,
        max_minutes=seed.max_minutes,
        buffer_minutes=seed.buffer,
        booking_mode=seed.mode,
        published=seed.published,
    )
    # A school's rooms answer to its district and to the education office.
    tags = [jurisdictions[district]]
    if org.kind == "school":
        tags.append(jurisdictions["seoul-edu"])
    space.jurisdictions = tags
    for weekday, ranges in HOURS[seed.hours].items():
        for open_minute, close_minute in ranges:
            space.opening_hours.append(
                OpeningHours(weekday=weekday, open_minute=open_minute, close_minute=close_minute)
            )
    space.amenities = [c for c in seed.amenities if c in AMENITIES]
    space.accessibility = [c for c in seed.amenities if c in ACCESSIBILITY]
    return space


def _local_days(first: date, last: date) -> tuple[datetime, datetime]:
    """From local midnight of `first` to local midnight after `last`, as UTC instants."""
    return (
        local_instant(first, 0, ZONE).astimezone(UTC),
        local_instant(last + timedelta(days=1), 0, ZONE).astimezone(UTC),
    )


def _add_closures(space: Space, seed: _SpaceSeed, org: Organisation, now: datetime) -> None:
    """Closures a real owner would have entered: exams, inspections, holidays."""
    monday = _monday(now)
    closures: list[tuple[date, date, str]] = []
    if org.kind == "school" and seed.org in ("mia-ms", "changdong-hs", "yongsan-hs", "yeouido-ms"):
        closures.append((monday + timedelta(weeks=5), monday + timedelta(weeks=5, days=4),
                         "기말고사 기간 (시험 기간에는 학교 시설을 개방하지 않습니다)"))
    if seed.key == "bundong-gym":
        closures.append((monday + timedelta(weeks=4, days=5), monday + timedelta(weeks=4, days=5),
                         "학교 행사 (학예회 준비)"))
    if seed.type == "kitchen":
        closures.append((monday + timedelta(weeks=2, days=2), monday + timedelta(weeks=2, days=2),
                         "시설 점검 (가스 안전 점검)"))
    if seed.key == "haebangchon-rooftop":
        closures.append((monday - timedelta(weeks=2), monday - timedelta(days=12),
                         "옥상 방수 공사"))
    if org.kind in ("community_center", "district_office"):
        today = now.astimezone(ZONE).date()
        upcoming = [(a, b) for a, b in SEOLLAL if b >= today]
        if upcoming:
            first, last = upcoming[0]
            closures.append((first, last, "설 연휴 휴관"))
    for first, last, reason in closures:
        start, end = _local_days(first, last)
        space.closures.append(Closure(start_at=start, end_at=end, reason=reason))


def _monday(now: datetime) -> date:
    today = now.astimezone(ZONE).date()
    return today - timedelta(days=today.weekday())


PURPOSE_WORDS = (
    ("commercial", ("판매", "설명회", "pitch")),
    ("sports", ("동호회", "경기", "탁구", "농구", "배구", "풋살", "피구", "축구", "요가", "줌바")),
    ("education", ("교실", "강좌", "교육", "학습", "storytelling", "workshop")),
    ("culture", ("공연", "상영", "합창", "연극", "녹음", "팟캐스트", "Improv", "발표회",
                 "book club")),
)


def purpose_category(text: str) -> str:
    """The kind of use a demo booking's purpose describes."""
    for category, words in PURPOSE_WORDS:
        if any(word.lower() in text.lower() for word in words):
            return category
    return "community"


def _decider(users: dict[str, User]):
    """Who decides a stage in the demo: the owner's manager or principal, the officer, or the
    administrator where the demo has no such person."""
    managers = {
        (details.org, details.org_role): users[email]
        for email, details in _ACCOUNT_DETAILS.items()
        if details.org
    }
    officers = {
        details.jurisdiction: users[email]
        for email, details in _ACCOUNT_DETAILS.items()
        if details.jurisdiction
    }
    admin = users["admin@gonggan.kr"]

    def pick(booking: Booking, stage: BookingStage | None) -> User:
        if stage is not None and stage.approver == "jurisdiction":
            assert stage.jurisdiction is not None  # such a stage names its jurisdiction
            return officers.get(stage.jurisdiction.slug, admin)
        role = "principal" if stage is not None and stage.approver == "owner_principal" else (
            "manager"
        )
        return managers.get((booking.space.owner.slug, role), admin)

    return pick


def _seed_bookings(
    spaces: dict[str, Space],
    users: dict[str, User],
    orgs: dict[str, Organisation],
    now: datetime,
    groups: dict,
) -> int:
    """The demo history: every booking state, over the past four and the coming three weeks."""
    rng = random.Random(20181122)
    decider = _decider(users)
    badminton = next(iter(groups.values()), None)
    today = now.astimezone(ZONE).date()
    monday = _monday(now)
    made = 0
    for plan in sorted(BOOKINGS, key=lambda p: (p.week, p.weekday, p.start)):
        space = spaces[plan.space]
        if plan.outcome in (BookingStatus.REQUESTED, BookingStatus.REJECTED, BookingStatus.EXPIRED):
            assert space.booking_mode == "request", plan
        past = plan.week < 0
        day = monday + timedelta(weeks=plan.week, days=plan.weekday)
        hour, minute = (int(x) for x in plan.start.split(":"))
        slot = _find_slot(space, day, hour * 60 + minute, plan.minutes, today, past=past)
        if slot is None:
            continue
        start, end = slot
        if past:
            created = start - timedelta(days=rng.randint(3, 12), hours=rng.randint(0, 8))
            decided = created + timedelta(hours=rng.randint(2, 20))
        else:
            created = now - timedelta(hours=rng.randint(30, 96))
            decided = created + timedelta(hours=rng.randint(2, 24))
        resident = users[plan.user]
        group = badminton if "배드민턴" in plan.purpose and badminton is not None else None
        try:
            with db.session.begin_nested():
                booking = booking_services.create_booking(
                    space,
                    resident,
                    start=start,
                    end=end,
                    purpose=plan.purpose,
                    attendees=plan.attendees,
                    purpose_category=purpose_category(plan.purpose),
                    group_id=group.id if group and resident in [m.user for m in group.members]
                    else None,
                    now=created,
                )
        except RuleViolation:
            continue  # the demo rules refuse this plan (e.g. residents first): as they should
        _play_outcome(booking, plan, resident, decider, decided, now)
        made += 1
    return made


def _play_outcome(booking: Booking, plan: _Plan, resident: User, decider,
                  decided: datetime, now: datetime) -> None:
    """Move a fresh booking to the planned state through the booking services."""
    outcome = plan.outcome
    if booking.status == BookingStatus.AWAITING_PAYMENT:  # an instant booking of a paid space
        _settle(booking, decider, booking.created_at, now)
    if outcome == BookingStatus.REQUESTED or booking.status == BookingStatus.ENTERED:
        return
    undecided = booking.status == BookingStatus.REQUESTED
    if outcome in (BookingStatus.EXPIRED, BookingStatus.REJECTED) and not undecided:
        return  # the rules approved it at once (a resident's community use, say)
    if outcome == BookingStatus.EXPIRED:
        booking_services.transition(
            booking, BookingStatus.EXPIRED, None,
            reason="시작 시각까지 처리되지 않아 만료되었습니다.",
            now=booking.start_at,
        )
        return
    if outcome == BookingStatus.REJECTED:
        booking_services.reject(
            booking, decider(booking, booking.current_stage), reason=plan.reason or ""
        )
        _backdate(booking, decided)
        return
    if booking.status == BookingStatus.REQUESTED:
        approve_all_stages(booking, decider, decided)
        _backdate(booking, decided)
    _settle(booking, decider, min(decided + timedelta(hours=3), booking.start_at), now)
    if outcome == BookingStatus.CANCELLED:
        when = min(decided + timedelta(hours=6), booking.start_at - timedelta(hours=2), now)
        booking_services.cancel(booking, resident, reason="일정이 바뀌었습니다.", now=when)
    elif outcome in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        booking_services.mark_attendance(
            booking, decider(booking, None), showed_up=outcome == BookingStatus.COMPLETED,
            now=booking.end_at + timedelta(minutes=30),
        )


def _settle(booking: Booking, decider, when: datetime, now: datetime) -> None:
    """Demo money: most paid bookings were paid to the manager (transfer, cash, local-currency
    voucher); a few upcoming approved ones wait for the resident to pay online."""
    if booking.payment_status not in (PaymentState.DUE, PaymentState.HOLD_PENDING):
        return
    if booking.status == BookingStatus.AWAITING_PAYMENT or booking.start_at < now or booking.id % 3:
        method = ("voucher", "bank_transfer", "cash")[booking.id % 3]
        payment_services.record_offline(
            booking, decider(booking, None), method=method, amount=booking.price_amount,
            reference=f"DEMO-{booking.id:05d}", now=min(when, now),
        )
    else:
        booking.payment_due_at = min(now + timedelta(hours=48), booking.start_at)


def _backdate(booking: Booking, when: datetime) -> None:
    """Approvals and rejections take effect at call time; date them like a real decision."""
    when = min(when, booking.start_at)
    booking.decided_at = when
    booking.transitions[-1].at = when
    db.session.flush()


def _find_slot(
    space: Space, day: date, start_minute: int, minutes: int, today: date, *, past: bool
) -> tuple[datetime, datetime] | None:
    """The planned slot, or the nearest free one of that length on a day on the same side of
    today (closures and earlier demo bookings may be in the way)."""
    length = timedelta(minutes=minutes)
    offsets = [*range(0, 7), *range(-1, -7, -1)]
    for offset in offsets:
        candidate = day + timedelta(days=offset)
        if (past and candidate >= today) or (not past and candidate <= today):
            continue
        window_start, window_end = _local_days(candidate, candidate)
        availability = booking_services.space_availability(space, window_start, window_end)
        wanted = local_instant(candidate, start_minute, ZONE).astimezone(UTC)
        starts = [wanted] + [span.start for span in availability.free]
        for start in starts:
            if availability.is_free(start, start + length):
                return start, start + length
    return None


__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "seed_demo"]
