"""The annual index services on SQLite and PostgreSQL: 8.3 from our answers, scoring, ranking."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from builders import BACKENDS, World
from rating.index import AnswerCounts, count_answers, load_satisfaction_config, load_shipped_table
from survey_server.extensions import db
from survey_server.models import AuditEntry, Centre, Counter, Dossier, Officer, Response, Unit
from survey_server.services import index as service
from survey_server.services.index import NOT_ASSESSED_ENTRY, IndexInputError, LeafEntry

pytestmark = BACKENDS

D = Decimal
LOCAL = dt.timezone(dt.timedelta(hours=7))
MIDYEAR = dt.datetime(2026, 6, 10, 9, 0, tzinfo=LOCAL)
BANG2 = load_shipped_table("dien_bien_2024_bang2")


def add_response(
    session: Session,
    form: str,
    answers: dict[str, Any],
    *,
    counter: Counter | None = None,
    dossier: Dossier | None = None,
    at: dt.datetime = MIDYEAR,
    valid: bool = True,
) -> None:
    session.add(
        Response(
            client_id=str(uuid.uuid4()),
            form=form,
            counter=counter,
            dossier=dossier,
            channel="kiosk" if counter else "qr",
            answers=answers,
            overall=int(answers.get("overall", 5)),
            answered_at=at,
            valid=valid,
            content_hash="x" * 64,
        )
    )


def dossier_of(session: Session, code: str, unit: Unit, centre: Centre) -> Dossier:
    officer = session.scalar(select(Officer).where(Officer.code == "R1"))
    dossier = Dossier(
        code=code,
        procedure="Đăng ký khai sinh",
        unit=unit,
        centre=centre,
        received_at=MIDYEAR,
        due_at=MIDYEAR + dt.timedelta(days=3),
        returned_at=MIDYEAR + dt.timedelta(days=2),
        reception_officer=officer,
    )
    session.add(dossier)
    return dossier


def unit_named(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    assert unit is not None
    return unit


def with_neighbour(session: Session) -> tuple[Unit, Counter, Centre, Unit, Centre]:
    """The world's unit U1 with its counter K1 and centre C1, and a new unit U2 with its centre."""
    unit = unit_named(session, "U1")
    counter = session.scalar(select(Counter).where(Counter.code == "K1"))
    centre = session.scalar(select(Centre).where(Centre.code == "C1"))
    assert counter is not None and centre is not None
    other = Unit(code="U2", name="UBND xã Khác", level="commune")
    other_centre = Centre(code="C2", name="TT xã Khác", unit=other)
    session.add_all([other, other_centre])
    return unit, counter, centre, other, other_centre


def full_scores(table_codes: list[str]) -> dict[str, LeafEntry]:
    return {
        code: LeafEntry(BANG2[code].max, BANG2[code].max)
        for code in table_codes
        if BANG2[code].parent != "8.3"
    }


LEAVES = [leaf.code for leaf in BANG2.leaves()]


def test_satisfaction_counts_the_year_of_the_unit_only(app: Flask, world: World) -> None:
    with app.app_context():
        session = db.session
        unit, counter, centre, other, other_centre = with_neighbour(session)
        # 8.3.5 (facilities): 5, 4, 2 and khong... -> 2 of 3 satisfied = 66.7% -> 0.83 points.
        for value in (5, 4, 2):
            add_response(session, "phieu1", {"overall": 5, "facilities": value}, counter=counter)
        # Not counted: rejected, the previous local year, another unit's centre.
        add_response(session, "phieu1", {"facilities": 1}, counter=counter, valid=False)
        last_year = dt.datetime(2025, 12, 31, 23, 59, tzinfo=LOCAL)
        add_response(session, "phieu1", {"facilities": 1}, counter=counter, at=last_year)
        add_response(
            session,
            "phieu1",
            {"facilities": 1},
            dossier=dossier_of(session, "D2", other, other_centre),
        )
        # Counted: first minute of the local year (still 2025 in UTC), and a QR answer through
        # the dossier's centre.
        new_year = dt.datetime(2026, 1, 1, 0, 1, tzinfo=LOCAL)
        add_response(session, "phieu1", {"facilities": 4}, counter=counter, at=new_year)
        # phieu2 counts for the dossier's unit, though given at another unit's centre.
        own = dossier_of(session, "D1", unit, other_centre)
        add_response(
            session,
            "phieu2",
            {"overall": 4, "result_quality": 3, "feedback_handling": "khong_phan_anh"},
            dossier=own,
        )
        session.commit()
        service.import_survey_results(
            session, 2026, [("U1", "8.3.1", D("82.5"), 400)], actor="test", source="SIPAS 2026"
        )

        result = service.unit_satisfaction(session, unit, 2026).result
        by_code = {sub.code: sub for sub in result.sub_criteria}
        assert (by_code["8.3.5"].satisfied, by_code["8.3.5"].answered) == (3, 4)
        assert by_code["8.3.5"].percent == D("75.0")
        assert by_code["8.3.5"].points == D("0.94")  # 1.25 x 75 / 100 = 0.9375
        assert (by_code["8.3.8"].satisfied, by_code["8.3.8"].answered) == (1, 2)
        assert by_code["8.3.8"].points == D("1.00")
        assert by_code["8.3.1"].imported and by_code["8.3.1"].points == D("1.65")
        assert by_code["8.3.9"].percent is None and by_code["8.3.9"].points is None
        assert set(result.no_data) == {"8.3.2", "8.3.3", "8.3.4", "8.3.6", "8.3.9"}
        assert result.total_points == D("0.94") + D("1.00") + D("1.65") + by_code["8.3.7"].points

        others = service.unit_satisfaction(session, unit_named(session, "U2"), 2026).result
        assert {sub.code: sub.answered for sub in others.sub_criteria}["8.3.5"] == 1


def test_8_3_counted_in_chunks_equals_counting_all_at_once(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The year is streamed and counted a few answers at a time per unit (bench/index_year.py:
    # a province's year does not fit in memory as Python dicts); the sums must not change.
    monkeypatch.setattr(service, "ANSWER_CHUNK", 2)
    with app.app_context():
        session = db.session
        unit, counter, centre, other, other_centre = with_neighbour(session)
        # U1: facilities 5, 4, 2, 1, 4 (3 of 5 satisfied) and overall 5 x 5, in 5 forms;
        # U2: one QR answer through its dossier's centre, and a phieu2 for its own dossier.
        for value in (5, 4, 2, 1, 4):
            add_response(session, "phieu1", {"overall": 5, "facilities": value}, counter=counter)
        add_response(
            session,
            "phieu1",
            {"overall": 2, "facilities": 4},
            dossier=dossier_of(session, "D2", other, other_centre),
        )
        add_response(
            session,
            "phieu2",
            {"overall": 4, "result_quality": 5, "feedback_handling": 3},
            dossier=dossier_of(session, "D3", other, centre),
        )
        session.commit()
        units = [unit, unit_named(session, "U2")]

        found = {
            row.unit_code: {
                sub.code: (sub.satisfied, sub.answered) for sub in row.result.sub_criteria
            }
            for row in service.satisfaction_for_units(session, 2026, units)
        }
        assert found["U1"]["8.3.5"] == (3, 5)
        assert found["U1"]["8.3.7"] == (5, 5)
        assert found["U2"]["8.3.5"] == (1, 1)
        assert found["U2"]["8.3.7"] == (0, 1)
        assert found["U2"]["8.3.8"] == (2, 2)
        assert found["U2"]["8.3.9"] == (0, 1)
        grouped = service.answers_by_unit(session, 2026, [u.id for u in units])
        for one in units:
            whole = count_answers(grouped[one.id])
            assert found[one.code] == {
                code: (counts.satisfied, counts.answered) for code, counts in whole.items()
            }


def test_an_import_with_a_bad_row_stores_nothing(app: Flask, world: World) -> None:
    with app.app_context():
        with pytest.raises(IndexInputError) as refused:
            service.import_survey_results(
                db.session,
                2026,
                [("U1", "8.3.1", D("80"), None), ("U1", "8.3.2", D("120"), None)],
                actor="test",
            )
        assert "row 2" in refused.value.problems
        unit = unit_named(db.session, "U1")
        result = service.unit_satisfaction(db.session, unit, 2026).result
        assert all(sub.percent is None for sub in result.sub_criteria)


def test_a_year_scored_with_8_3_filled_automatically(app: Flask, world: World) -> None:
    with app.app_context():
        session = db.session
        unit = unit_named(session, "U1")
        counter = session.scalar(select(Counter).where(Counter.code == "K1"))
        add_response(session, "phieu1", {"overall": 5, "facilities": 5}, counter=counter)
        session.commit()

        entries = full_scores(LEAVES)
        entries["1.1.1"] = NOT_ASSESSED_ENTRY
        entries["1.2"] = LeafEntry(D("0"), D("0"))
        service.save_scores(session, unit, 2026, BANG2, entries, actor="test")
        index = service.unit_index(session, unit, 2026, BANG2)
        assert index.missing == ()
        assert index.result is not None
        row = index.row("8.3.5")
        assert (row.source, row.appraised) == ("satisfaction", D("1.25"))
        assert index.row("8.3.1").not_assessed  # no data: out of the denominator
        # 8.3.7 gets overall=5 -> 100% -> 2 points; 8.3.5 -> 1.25. No-data 8.3 leaves leave
        # 15 - 3.25 = 11.75 points out; 1.1.1 and 1.2.1 per the table.
        m111, m12 = BANG2["1.1.1"].max, BANG2["1.2"].max
        denominator = D(100) - D("11.75") - m111
        appraised = D(85) - m111 - m12 + D("3.25")
        assert index.result.denominator == denominator
        assert index.result.appraised_total == appraised
        expected = (appraised * 100 / denominator).quantize(D("0.1"))
        assert index.result.index_percent == expected


def test_8_3_is_overridden_only_with_a_reason_and_audited(app: Flask, world: World) -> None:
    with app.app_context():
        session = db.session
        unit = unit_named(session, "U1")
        service.save_scores(session, unit, 2026, BANG2, full_scores(LEAVES), actor="test")
        assert service.unit_index(session, unit, 2026, BANG2).row("8.3.1").not_assessed
        with pytest.raises(IndexInputError, match="lý do"):
            service.save_scores(
                session, unit, 2026, BANG2, {"8.3.1": LeafEntry(D(1), D("1.5"))}, actor="test"
            )
        service.save_scores(
            session,
            unit,
            2026,
            BANG2,
            {"8.3.1": LeafEntry(D(1), D("1.5"))},
            actor="sonv",
            reason="Kết quả SIPAS của Bộ Nội vụ",
        )
        row = service.unit_index(session, unit, 2026, BANG2).row("8.3.1")
        assert (row.source, row.appraised, row.reason) == (
            "override",
            D("1.50"),
            "Kết quả SIPAS của Bộ Nội vụ",
        )
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "override"))
        assert entry is not None and entry.actor == "sonv"
        assert entry.details["new"] == ["1", "1.5"]
        assert service.clear_override(session, unit, 2026, BANG2, "8.3.1", actor="sonv")
        assert service.unit_index(session, unit, 2026, BANG2).row("8.3.1").source == "satisfaction"


@pytest.mark.parametrize(
    ("code", "entry", "problem"),
    [
        ("9.9", LeafEntry(D(1), D(1)), "không phải mã"),
        ("1.1", LeafEntry(D(1), D(1)), "tiêu chí thành phần"),
        ("1.1.1", LeafEntry(D(9), D(1)), "vượt điểm tối đa"),
        ("1.1.1", LeafEntry(D("0.125"), D(0)), "hai chữ số thập phân"),
        ("1.1.1", LeafEntry(D(-1), D(0)), "số âm"),
        ("1.1.1", LeafEntry(None, D(0)), "cả hai điểm"),
    ],
)
def test_bad_scores_are_refused_and_nothing_is_stored(
    app: Flask, world: World, code: str, entry: LeafEntry, problem: str
) -> None:
    with app.app_context():
        unit = unit_named(db.session, "U1")
        good = {"1.2": LeafEntry(D(0), D(0)), code: entry}
        with pytest.raises(IndexInputError, match=problem):
            service.save_scores(db.session, unit, 2026, BANG2, good, actor="test")
        db.session.rollback()
        index = service.unit_index(db.session, unit, 2026, BANG2)
        assert index.row("1.2").missing


def test_ranking_lists_complete_units_and_the_incomplete_apart(app: Flask, world: World) -> None:
    with app.app_context():
        session = db.session
        u1 = unit_named(session, "U1")
        u2 = Unit(code="U2", name="UBND xã Hai", level="commune")
        u3 = Unit(code="U3", name="UBND xã Ba", level="commune")
        session.add_all([u2, u3])
        session.commit()
        service.save_scores(session, u1, 2026, BANG2, full_scores(LEAVES), actor="t")
        lower = full_scores(LEAVES)
        lower["1.2"] = LeafEntry(D(0), D(0))
        service.save_scores(session, u2, 2026, BANG2, lower, actor="t")
        service.save_scores(session, u3, 2026, BANG2, {"1.1.1": LeafEntry(D(0), D(0))}, actor="t")
        rows, incomplete = service.ranking(session, 2026, BANG2)
        assert [(row.rank, row.unit_code) for row in rows] == [(1, "U1"), (2, "U2")]
        assert rows[0].index_percent == D("100.0") and rows[0].band_label == "Tốt"
        assert [index.unit_code for index in incomplete] == ["U3"]


# Stored answers that only whole numbers 1..5 may count from (count_answers' rule): strings,
# reals, booleans, out-of-range and huge numbers, null, lists, objects, the non-rating choice.
NOT_RATINGS: list[object] = [
    "4",
    "5 ",
    4.0,
    5.0,
    4.5,
    True,
    False,
    0,
    6,
    -1,
    10**20,
    None,
    [4],
    {"value": 4},
    "khong_phan_anh",
]
# The same as raw JSON text, as another writer than Python's json.dumps could store it.
RAW_ANSWERS = [
    ('{"overall":5,"facilities":   4   }', "phieu1"),  # counted (whitespace), satisfied
    ('{"overall":5,"facilities":1E0}', "phieu1"),  # a JSON real: not counted
    ('{"overall":5,"facilities":5e0,"courtesy":3}', "phieu1"),  # real; courtesy counted
    ('{"overall":4,"feedback_handling":  "5"}', "phieu2"),  # a string: not counted
]


def test_8_3_counted_in_sql_equals_count_answers_on_tricky_answers(
    app: Flask, world: World, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        session = db.session
        unit = unit_named(session, "U1")
        counter = session.scalar(select(Counter).where(Counter.code == "K1"))
        centre = session.scalar(select(Centre).where(Centre.code == "C1"))
        assert counter is not None and centre is not None
        other = Unit(code="U2", name="UBND xã Khác", level="commune")
        session.add(other)
        # phieu1: facilities 5, 4, 3, 1 count (2 satisfied); every value of NOT_RATINGS does
        # not, nor a form without the question (an older form version), in facilities or in
        # the detail questions of 8.3.7.
        for value in (5, 4, 3, 1):
            add_response(session, "phieu1", {"overall": 5, "facilities": value}, counter=counter)
        for value in NOT_RATINGS:
            add_response(
                session,
                "phieu1",
                {"overall": 2, "facilities": value, "courtesy": value, "guidance": value},
                counter=counter,
            )
        add_response(session, "phieu1", {"overall": 1}, counter=counter)
        # phieu2 for U2's dossiers: 8.3.8 and 8.3.9 from feedback_handling / officer_conduct.
        for number, value in enumerate([*NOT_RATINGS, 5, 2]):
            add_response(
                session,
                "phieu2",
                {
                    "overall": 3,
                    "result_quality": value,
                    "officer_conduct": value,
                    "feedback_handling": value,
                },
                dossier=dossier_of(session, f"D{number}", other, centre),
            )
        # A third unit's phieu2, received at U1's centre: not asked for, so in no result.
        third = Unit(code="U3", name="UBND xã Ba", level="commune")
        add_response(
            session, "phieu2", {"overall": 5}, dossier=dossier_of(session, "D3x", third, centre)
        )
        session.commit()
        # Raw JSON text, written past SQLAlchemy's serializer.
        extra = [Response(**_raw_response_fields(form, counter)) for _text, form in RAW_ANSWERS]
        for response, (_text, form) in zip(extra, RAW_ANSWERS, strict=True):
            if form == "phieu2":
                response.counter = None
                response.dossier = dossier_of(session, f"R{id(response)}", other, centre)
        session.add_all(extra)
        session.commit()
        placeholder = "CAST(:answers AS JSON)" if backend == "postgresql" else ":answers"
        for response, (raw, _form) in zip(extra, RAW_ANSWERS, strict=True):
            session.execute(
                text(f"UPDATE responses SET answers = {placeholder} WHERE id = :id"),
                {"answers": raw, "id": response.id},
            )
        session.commit()
        session.expire_all()

        units = [unit, unit_named(session, "U2")]
        ids = [one.id for one in units]
        config = load_satisfaction_config()
        in_sql = service.counts_by_unit(session, 2026, ids, config)
        in_python = service.counts_in_python(session, 2026, ids, config)
        grouped = service.answers_by_unit(session, 2026, ids)
        plain = {one: count_answers(grouped[one], config) for one in ids}
        assert set(in_sql) == set(ids)
        assert in_sql == {one: in_python[one] for one in ids} == plain
        # Many units asked for: the other units' groups are dropped after the query instead.
        monkeypatch.setattr(service, "_FILTERED_UNITS", 0)
        assert service.counts_by_unit(session, 2026, ids, config) == in_sql
        u1, u2 = in_sql[unit.id], in_sql[units[1].id]
        # facilities: 5, 4, 3, 1 and the raw "   4   " -> 3 of 5; 8.3.7 (overall + courtesy +
        # guidance): 19 + 4 raw forms' overall 5, courtesy 3 from a raw form.
        assert u1["8.3.5"] == AnswerCounts(satisfied=3, answered=5)
        assert u1["8.3.7"] == AnswerCounts(satisfied=4 + 3, answered=4 + 15 + 1 + 3 + 1)
        assert u1["8.3.8"] == AnswerCounts() and u1["8.3.9"] == AnswerCounts()
        # U2: overall 3 (not satisfied) on 17 + 1 raw forms, result_quality 5 and 2 count.
        assert u2["8.3.8"] == AnswerCounts(satisfied=1 + 1, answered=18 + 2)
        assert u2["8.3.9"] == AnswerCounts(satisfied=1, answered=2)
        assert u2["8.3.7"] == AnswerCounts(satisfied=1, answered=2)
        assert u2["8.3.5"] == AnswerCounts()


def _raw_response_fields(form: str, counter: Counter) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "form": form,
        "counter": counter,
        "channel": "kiosk",
        "answers": {},
        "overall": 5,
        "answered_at": MIDYEAR,
        "valid": True,
        "content_hash": "x" * 64,
    }
