"""A believable demo province: units, centres, counters, officers, kiosks, three months of
dossiers and answers. Deterministic (a fixed random seed), relative to the day it is loaded."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..extensions import DbSession
from ..models import (
    Centre,
    Counter,
    Device,
    Dossier,
    MisconductReport,
    Officer,
    OfficerMonthRecord,
    Response,
    Shift,
    Unit,
    User,
)
from ..security import hash_secret, new_secret
from ..timeutil import LOCAL_TZ
from . import audit
from .responses import content_hash

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Lò", "Quàng", "Vũ", "Đỗ", "Cầm", "Lường"]
MIDDLE = ["Văn", "Thị", "Thu", "Minh", "Thanh", "Đức", "Ngọc", "Hồng", "Quốc"]
GIVEN = [
    "An", "Bình", "Chiến", "Dung", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh",
    "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Sơn", "Tâm", "Thảo",
    "Thắng", "Trang", "Tuấn", "Tùng", "Vân", "Yến",
]  # fmt: skip

# (procedure, working days to resolve)
PROCEDURES = [
    ("Đăng ký khai sinh", 1),
    ("Chứng thực bản sao từ bản chính", 1),
    ("Đăng ký kết hôn", 3),
    ("Cấp giấy chứng nhận quyền sử dụng đất lần đầu", 20),
    ("Đăng ký biến động quyền sử dụng đất", 10),
    ("Cấp giấy phép xây dựng nhà ở riêng lẻ", 15),
    ("Đăng ký thành lập hộ kinh doanh", 3),
    ("Xác nhận tình trạng hôn nhân", 3),
    ("Cấp giấy phép lái xe (đổi)", 5),
    ("Trợ cấp xã hội hằng tháng", 15),
]

UNITS = [
    # code, name, level, centre code, centre name, counters (code, name, kind)
    (
        "SNNMT",
        "Sở Nông nghiệp và Môi trường",
        "department",
        "TTPVHCC-TINH",
        "Trung tâm Phục vụ hành chính công tỉnh",
        [("TINH-01", "Quầy 1 — Đất đai", "reception"), ("TINH-02", "Quầy 2 — Môi trường", "both"),
         ("TINH-03", "Quầy 3 — Trả kết quả", "return")],
    ),
    (
        "P-DBP",
        "UBND phường Điện Biên Phủ",
        "commune",
        "TTPVHCC-DBP",
        "Trung tâm Phục vụ hành chính công phường Điện Biên Phủ",
        [("DBP-01", "Quầy 1 — Hộ tịch", "both"), ("DBP-02", "Quầy 2 — Đất đai, xây dựng", "both"),
         ("DBP-03", "Quầy 3 — Trả kết quả", "return")],
    ),
    (
        "X-MA",
        "UBND xã Mường Ảng",
        "commune",
        "TTPVHCC-MA",
        "Trung tâm Phục vụ hành chính công xã Mường Ảng",
        [("MA-01", "Quầy 1 — Tiếp nhận", "reception"), ("MA-02", "Quầy 2 — Trả kết quả", "return")],
    ),
]  # fmt: skip
OFFICERS_PER_UNIT = {"SNNMT": (4, 8), "P-DBP": (4, 6), "X-MA": (4, 4)}  # reception, resolver


@dataclass
class DemoSummary:
    units: int = 0
    centres: int = 0
    counters: int = 0
    officers: int = 0
    devices: dict[str, str] = field(default_factory=dict)  # counter code → token
    dossiers: int = 0
    responses: int = 0
    reports: int = 0
    sample_dossier: str = ""
    users: dict[str, dict[str, str]] = field(default_factory=dict)  # username → role, password
    # counter code → the officer on duty there and their PIN (for the kiosk's staff screen)
    shifts: dict[str, dict[str, str]] = field(default_factory=dict)


def demo_loaded(session: DbSession) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Unit)))


def seed_demo(session: DbSession, now: dt.datetime, seed: int = 2024) -> DemoSummary:
    """Load the demo province in one transaction. Call only on an empty database."""
    rng = random.Random(seed)
    summary = DemoSummary()
    province = Unit(code="DB", name="UBND tỉnh Điện Biên", level="province")
    session.add(province)
    officers_by_unit: dict[str, dict[str, list[Officer]]] = {}
    counters_by_unit: dict[str, list[Counter]] = {}
    # Each officer's own "quality", so that bands come out different and believable.
    quality: dict[str, float] = {}
    serial = 0
    for code, name, level, centre_code, centre_name, counters in UNITS:
        unit = Unit(code=code, name=name, level=level, parent=province)
        centre = Centre(code=centre_code, name=centre_name, unit=unit, networks=["10.10.0.0/24"])
        session.add_all([unit, centre])
        summary.units += 1
        summary.centres += 1
        counters_by_unit[code] = []
        for counter_code, counter_name, kind in counters:
            counter = Counter(code=counter_code, name=counter_name, kind=kind, centre=centre)
            token = new_secret("dev")
            session.add_all(
                [
                    counter,
                    Device(
                        name=f"Kiosk {counter_code}", token_hash=hash_secret(token), counter=counter
                    ),
                ]
            )
            summary.devices[counter_code] = token
            counters_by_unit[code].append(counter)
            summary.counters += 1
        officers_by_unit[code] = {"reception": [], "resolver": []}
        for group, count in zip(("reception", "resolver"), OFFICERS_PER_UNIT[code], strict=True):
            for _ in range(count):
                serial += 1
                officer = Officer(
                    code=f"CB{serial:03d}",
                    name=f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                    unit=unit,
                    group=group,
                    title="Công chức tiếp nhận và trả kết quả"
                    if group == "reception"
                    else "Chuyên viên",
                )
                session.add(officer)
                officers_by_unit[code][group].append(officer)
                quality[officer.code] = rng.choice([4.7, 4.5, 4.4, 4.2, 4.0, 3.6, 2.6])
                summary.officers += 1
    session.flush()

    start = (now - dt.timedelta(days=92)).astimezone(LOCAL_TZ)
    dossier_serial = 0
    for day in range(92):
        date = (start + dt.timedelta(days=day)).replace(hour=8, minute=0, second=0, microsecond=0)
        if date.weekday() >= 5:
            continue  # the one-stop desks are closed at the weekend
        for unit_code, *_ in UNITS:
            for _ in range(rng.randint(2, 5)):
                dossier_serial += 1
                dossier = _demo_dossier(
                    rng, dossier_serial, date, unit_code, officers_by_unit, counters_by_unit, now
                )
                session.add(dossier)
                summary.dossiers += 1
                summary.sample_dossier = summary.sample_dossier or dossier.code
                for response in _demo_answers(rng, dossier, counters_by_unit[unit_code], quality):
                    session.add(response)
                    summary.responses += 1
                    if response.answers.get("misconduct") == "co":
                        for officer in response.officers:
                            session.add(MisconductReport(response=response, officer=officer))
                            summary.reports += 1
    # A few records by the heads: a breach of office rules, late to work twice.
    month = now.astimezone(LOCAL_TZ).date().replace(day=1)
    for unit_code in ("P-DBP", "X-MA"):
        officer = officers_by_unit[unit_code]["reception"][-1]
        session.add(OfficerMonthRecord(officer=officer, month=month, violations=1, note="Đi muộn"))
    _demo_shifts(session, rng, officers_by_unit, counters_by_unit, now, summary)
    _demo_users(session, province, summary)
    audit.record(session, "cli", "seed", "demo", None, dossiers=summary.dossiers)
    session.commit()
    return summary


def _demo_shifts(
    session: DbSession,
    rng: random.Random,
    officers_by_unit: dict[str, dict[str, list[Officer]]],
    counters_by_unit: dict[str, list[Counter]],
    now: dt.datetime,
    summary: DemoSummary,
) -> None:
    """An officer on duty at every counter, each with a PIN, so that the demo kiosks take
    ratings at once (a kiosk with no shift open refuses to rate anyone)."""
    from werkzeug.security import generate_password_hash

    for unit_code, counters in counters_by_unit.items():
        on_duty = officers_by_unit[unit_code]["reception"]
        for counter, officer in zip(counters, on_duty, strict=False):
            pin = f"{rng.randrange(10**6):06d}"
            officer.pin_hash = generate_password_hash(pin)
            session.add(Shift(counter=counter, officer=officer, opened_at=now, opened_via="desk"))
            summary.shifts[counter.code] = {"officer": officer.code, "pin": pin}


# username, display name, role, unit code (None: the province)
DEMO_USERS = [
    ("admin", "Sở Nội vụ (quản trị)", "admin", None),
    ("truong.dbp", "Thủ trưởng phường Điện Biên Phủ", "head", "P-DBP"),
    ("truong.ma", "Thủ trưởng xã Mường Ảng", "head", "X-MA"),
    ("truong.snnmt", "Giám đốc Sở Nông nghiệp và Môi trường", "head", "SNNMT"),
    ("xem.tinh", "Cán bộ theo dõi (chỉ xem)", "viewer", "DB"),
]


def _demo_users(session: DbSession, province: Unit, summary: DemoSummary) -> None:
    """Dashboard accounts, each with a fresh random password (printed once by ``demo seed``)."""
    from ..auth import hash_password

    units = {unit.code: unit for unit in session.scalars(select(Unit))}
    for username, display_name, role, unit_code in DEMO_USERS:
        password = new_secret("demo").removeprefix("demo_")[:14]
        unit = units[unit_code] if unit_code else None
        session.add(
            User(
                username=username,
                display_name=display_name,
                password_hash=hash_password(password),
                role=role,
                unit_id=unit.id if unit else None,
                session_version=0,
                failed_logins=0,
            )
        )
        summary.users[username] = {"role": role, "unit": unit_code or "", "password": password}


def _demo_dossier(
    rng: random.Random,
    serial: int,
    date: dt.datetime,
    unit_code: str,
    officers: dict[str, dict[str, list[Officer]]],
    counters: dict[str, list[Counter]],
    now: dt.datetime,
) -> Dossier:
    procedure, days = rng.choice(PROCEDURES)
    received = date + dt.timedelta(minutes=rng.randint(0, 8 * 60))
    due = received + dt.timedelta(days=days + 2 * (days // 5))
    late_by = dt.timedelta(days=rng.randint(1, 4)) if rng.random() < 0.08 else None
    returned: dt.datetime | None = (
        due + late_by if late_by else due - dt.timedelta(hours=rng.randint(0, 48))
    )
    if returned is not None and returned < received:
        returned = received + dt.timedelta(hours=1)
    if returned is not None and returned > now - dt.timedelta(hours=1):
        returned = None  # still being resolved
    resolvers = rng.sample(officers[unit_code]["resolver"], k=rng.choice([1, 1, 1, 2]))
    reception = rng.choice(officers[unit_code]["reception"])
    centre = counters[unit_code][0].centre
    dossier = Dossier(
        code=f"{centre.code.split('-')[-1]}.{received:%y%m%d}.{serial:05d}",
        procedure=procedure,
        unit=centre.unit,
        centre=centre,
        received_at=received,
        due_at=due,
        returned_at=returned,
        reception_officer=reception,
        return_officer=rng.choice(officers[unit_code]["reception"]) if returned else None,
        resolving_officers=resolvers,
        late_responsible=resolvers[:1] if late_by and rng.random() < 0.5 else [],
    )
    return dossier


def _score(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.7))))


def _demo_answers(
    rng: random.Random, dossier: Dossier, counters: list[Counter], quality: dict[str, float]
) -> list[Response]:
    responses: list[Response] = []
    desk = dossier.reception_officer
    if rng.random() < 0.7:
        overall = _score(rng, quality[desk.code])
        answers: dict[str, object] = {"overall": overall}
        if rng.random() < 0.5:
            answers |= {
                "courtesy": _score(rng, quality[desk.code]),
                "guidance": _score(rng, quality[desk.code]),
                "contacts": rng.choice(["0", "0", "0", "1", "2+"]),
                "facilities": _score(rng, 4.2),
                "publicity": _score(rng, 4.3),
                "misconduct": "co" if overall <= 2 and rng.random() < 0.1 else "khong",
            }
        answered = dossier.received_at + dt.timedelta(minutes=rng.randint(1, 10))
        responses.append(_response(rng, "phieu1", dossier, [desk], answers, answered, counters[0]))
    if dossier.returned_at is not None and rng.random() < 0.45:
        mean = sum(quality[o.code] for o in dossier.resolving_officers) / len(
            dossier.resolving_officers
        )
        if dossier.late:
            mean -= 1.2
        overall = _score(rng, mean)
        answers = {"overall": overall}
        if rng.random() < 0.5:
            answers |= {
                "on_time": "tre_hen" if dossier.late else rng.choice(["som", "dung_hen"]),
                "agencies": rng.choice(["1", "1", "1", "2", "3+"]),
                "result_quality": _score(rng, mean),
                "officer_conduct": _score(rng, mean),
                "feedback_handling": rng.choice(["khong_phan_anh"] * 4 + [_score(rng, mean)]),
                "misconduct": "co" if overall <= 2 and rng.random() < 0.1 else "khong",
            }
        answered = dossier.returned_at + dt.timedelta(minutes=rng.randint(1, 30))
        responses.append(
            _response(
                rng, "phieu2", dossier, list(dossier.resolving_officers), answers, answered,
                counters[-1],
            )
        )  # fmt: skip
    return responses


def _response(
    rng: random.Random,
    form: str,
    dossier: Dossier,
    officers: list[Officer],
    answers: dict[str, object],
    answered_at: dt.datetime,
    counter: Counter,
) -> Response:
    kiosk = rng.random() < 0.85
    client_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    body = {
        "id": client_id,
        "form": form,
        "dossier_code": dossier.code,
        "officer": officers[0].code if form == "phieu1" else None,
        "answers": answers,
        "answered_at": answered_at.isoformat(),
        "lang": "vi",
    }
    return Response(
        client_id=client_id,
        form=form,
        dossier=dossier,
        counter=counter if kiosk else None,
        device=counter.devices[0] if kiosk else None,
        channel="kiosk" if kiosk else "qr",
        answers=answers,
        overall=answers["overall"],
        answered_at=answered_at,
        received_at=answered_at,
        lang="vi",
        flags=[],
        content_hash=content_hash(body),
        officers=officers,
    )
