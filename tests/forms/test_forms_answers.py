"""validate_answers: what the JSON API and the pages accept, and the codes they refuse with."""

from __future__ import annotations

import json
from typing import Any

import pytest

from forms import FormDefinition, clean_text, load_forms

FORMS = load_forms()
PHIEU1 = FORMS["phieu1"]
PHIEU2 = FORMS["phieu2"]

# (case, form, submitted answers, clean answers, errors)
CASES: list[tuple[str, FormDefinition, Any, dict[str, Any], dict[str, str]]] = [
    ("one tap", PHIEU1, {"overall": 5}, {"overall": 5}, {}),
    ("scale as a string", PHIEU1, {"overall": "5"}, {"overall": 5}, {}),
    ("scale string with spaces", PHIEU1, {"overall": " 4 "}, {"overall": 4}, {}),
    ("lowest level", PHIEU2, {"overall": 1}, {"overall": 1}, {}),
    ("scale 0", PHIEU1, {"overall": 0}, {}, {"overall": "invalid_choice"}),
    ("scale 6", PHIEU1, {"overall": 6}, {}, {"overall": "invalid_choice"}),
    ("scale '6'", PHIEU1, {"overall": "6"}, {}, {"overall": "invalid_choice"}),
    ("scale -1", PHIEU1, {"overall": -1}, {}, {"overall": "invalid_choice"}),
    ("scale word", PHIEU1, {"overall": "rat_hai_long"}, {}, {"overall": "invalid_choice"}),
    ("bool is not a level", PHIEU1, {"overall": True}, {}, {"overall": "wrong_type"}),
    ("float", PHIEU1, {"overall": 5.5}, {}, {"overall": "wrong_type"}),
    ("whole float", PHIEU1, {"overall": 5.0}, {}, {"overall": "wrong_type"}),
    ("list", PHIEU1, {"overall": [5]}, {}, {"overall": "wrong_type"}),
    ("object", PHIEU1, {"overall": {"value": 5}}, {}, {"overall": "wrong_type"}),
    ("None for overall", PHIEU1, {"overall": None}, {}, {"overall": "empty"}),
    ("empty string for overall", PHIEU1, {"overall": ""}, {}, {"overall": "empty"}),
    ("overall missing", PHIEU1, {"courtesy": 4}, {"courtesy": 4}, {"overall": "required"}),
    ("nothing", PHIEU1, {}, {}, {"overall": "required"}),
    ("not an object", PHIEU1, [["overall", 5]], {}, {"answers": "wrong_type"}),
    ("null answers", PHIEU1, None, {}, {"answers": "wrong_type"}),
    (
        "unknown question",
        PHIEU1,
        {"overall": 5, "mood": 3},
        {"overall": 5},
        {"mood": "unknown_question"},
    ),
    ("non-string key", PHIEU1, {"overall": 5, 7: 3}, {"overall": 5}, {"7": "unknown_question"}),
    (
        "phieu2 question on phieu1",
        PHIEU1,
        {"overall": 4, "on_time": "som"},
        {"overall": 4},
        {"on_time": "unknown_question"},
    ),
    (
        "phieu1 question on phieu2",
        PHIEU2,
        {"overall": 4, "contacts": "0"},
        {"overall": 4},
        {"contacts": "unknown_question"},
    ),
    (
        "full phieu1",
        PHIEU1,
        {
            "comment": "Cảm ơn",
            "misconduct": "khong",
            "facilities": 3,
            "publicity": "4",
            "contacts": "2+",
            "guidance": 5,
            "courtesy": 5,
            "overall": 5,
        },
        {
            "overall": 5,
            "courtesy": 5,
            "guidance": 5,
            "contacts": "2+",
            "publicity": 4,
            "facilities": 3,
            "misconduct": "khong",
            "comment": "Cảm ơn",
        },
        {},
    ),
    ("contacts 0", PHIEU1, {"overall": 3, "contacts": "0"}, {"overall": 3, "contacts": "0"}, {}),
    ("contacts as int", PHIEU1, {"overall": 3, "contacts": 1}, {"overall": 3, "contacts": "1"}, {}),
    (
        "contacts 2 is not a code",
        PHIEU1,
        {"overall": 3, "contacts": "2"},
        {"overall": 3},
        {"contacts": "invalid_choice"},
    ),
    (
        "contacts bool",
        PHIEU1,
        {"overall": 3, "contacts": False},
        {"overall": 3},
        {"contacts": "wrong_type"},
    ),
    (
        "agencies 3+",
        PHIEU2,
        {"overall": 2, "agencies": "3+"},
        {"overall": 2, "agencies": "3+"},
        {},
    ),
    (
        "on_time code",
        PHIEU2,
        {"overall": 2, "on_time": "tre_hen"},
        {"overall": 2, "on_time": "tre_hen"},
        {},
    ),
    (
        "misconduct yes",
        PHIEU2,
        {"overall": 1, "misconduct": "co"},
        {"overall": 1, "misconduct": "co"},
        {},
    ),
    (
        "misconduct in Vietnamese words",
        PHIEU2,
        {"overall": 1, "misconduct": "Có"},
        {"overall": 1},
        {"misconduct": "invalid_choice"},
    ),
    (
        "did not complain",
        PHIEU2,
        {"overall": 4, "feedback_handling": "khong_phan_anh"},
        {"overall": 4, "feedback_handling": "khong_phan_anh"},
        {},
    ),
    (
        "feedback handling level",
        PHIEU2,
        {"overall": 4, "feedback_handling": "2"},
        {"overall": 4, "feedback_handling": 2},
        {},
    ),
    (
        "khong_phan_anh only for feedback_handling",
        PHIEU2,
        {"overall": "khong_phan_anh", "result_quality": "khong_phan_anh"},
        {},
        {"overall": "invalid_choice", "result_quality": "invalid_choice"},
    ),
    (
        "empty optional answers dropped",
        PHIEU1,
        {"overall": 4, "courtesy": None, "contacts": "", "comment": "  \n "},
        {"overall": 4},
        {},
    ),
    (
        "comment of 500 characters",
        PHIEU1,
        {"overall": 4, "comment": "ê" * 500},
        {"overall": 4, "comment": "ê" * 500},
        {},
    ),
    (
        "comment of 501 characters",
        PHIEU1,
        {"overall": 4, "comment": "ê" * 501},
        {"overall": 4},
        {"comment": "too_long"},
    ),
    (
        "500 characters once decomposed accents are composed",
        PHIEU1,
        {"overall": 4, "comment": "e\u0302" * 500},
        {"overall": 4, "comment": "ê" * 500},
        {},
    ),
    (
        "surrounding spaces do not count",
        PHIEU1,
        {"overall": 4, "comment": "  " + "a" * 500 + "\n "},
        {"overall": 4, "comment": "a" * 500},
        {},
    ),
    (
        "HTML kept as plain text",
        PHIEU1,
        {"overall": 2, "comment": "<script>alert('x')</script> & <b>đậm</b>"},
        {"overall": 2, "comment": "<script>alert('x')</script> & <b>đậm</b>"},
        {},
    ),
    (
        "control characters removed, newlines kept",
        PHIEU1,
        {"overall": 2, "comment": "Dòng 1\r\nDòng\x00 2\x1b[31m\tcuối\x7f"},
        {"overall": 2, "comment": "Dòng 1\nDòng 2[31mcuối"},
        {},
    ),
    (
        "comment not a string",
        PHIEU1,
        {"overall": 2, "comment": 42},
        {"overall": 2},
        {"comment": "wrong_type"},
    ),
    (
        "several errors at once",
        PHIEU2,
        {"courtesy": 5, "agencies": "9", "comment": ["x"]},
        {},
        {
            "courtesy": "unknown_question",
            "agencies": "invalid_choice",
            "comment": "wrong_type",
            "overall": "required",
        },
    ),
]


@pytest.mark.parametrize(
    ("form", "answers", "clean", "errors"),
    [pytest.param(form, a, c, e, id=case) for case, form, a, c, e in CASES],
)
def test_validate_answers(
    form: FormDefinition, answers: Any, clean: dict[str, Any], errors: dict[str, str]
) -> None:
    assert form.validate_answers(answers) == (clean, errors)


@pytest.mark.parametrize(
    ("form", "answers"), [pytest.param(form, a, id=case) for case, form, a, c, e in CASES]
)
def test_clean_answers_are_json_and_ordered(form: FormDefinition, answers: Any) -> None:
    clean, _ = form.validate_answers(answers)
    assert json.loads(json.dumps(clean, ensure_ascii=False)) == clean
    order = [q.id for q in form.questions]
    assert list(clean) == sorted(clean, key=order.index)
    for question_id, value in clean.items():
        kind = form.question(question_id).kind
        expected = int if kind == "scale5" and value != "khong_phan_anh" else str
        assert type(value) is expected


def test_clean_answers_validate_again_unchanged() -> None:
    clean, errors = PHIEU2.validate_answers(
        {"overall": "3", "feedback_handling": "khong_phan_anh", "comment": " Tốt \x00"}
    )
    assert not errors
    assert PHIEU2.validate_answers(clean) == (clean, {})


# (clean answers, misconduct reported, phone number may be offered)
PERSONAL_DATA = [
    ({"overall": 5}, False, False),
    ({"overall": 3}, False, False),
    ({"overall": 2}, False, True),
    ({"overall": 1}, False, True),
    ({"overall": 5, "misconduct": "co"}, True, True),
    ({"overall": 5, "misconduct": "khong"}, False, False),
    ({"overall": 1, "misconduct": "khong"}, False, True),
    ({}, False, False),
]


@pytest.mark.parametrize(("clean", "reported", "allowed"), PERSONAL_DATA)
@pytest.mark.parametrize("form", [PHIEU1, PHIEU2], ids=["phieu1", "phieu2"])
def test_misconduct_and_contact(
    form: FormDefinition, clean: dict[str, Any], reported: bool, allowed: bool
) -> None:
    assert form.misconduct_reported(clean) is reported
    assert form.contact_allowed(clean) is allowed


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  xin chào  ", "xin chào"),
        ("Nguye\u0302\u0303n", "Nguyễn"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("tab\there", "tabhere"),
        ("\u200b zero width stays", "\u200b zero width stays"),
        ("\x00\x01\x1f", ""),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
