"""The WTForms class built from a definition renders it and agrees with validate_answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, RadioField, TextAreaField

from forms import load_forms
from forms.wtf import build_form_class, form_answers

FORMS = load_forms()


@pytest.fixture
def flask_app() -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    yield app


def bound(form_id: str, data: dict[str, str], lang: str = "vi") -> Any:
    """A form of the current request context, bound to ``data`` rather than the request."""
    return build_form_class(FORMS[form_id], lang)(formdata=MultiDict(data))


def test_fields_follow_the_questions(flask_app: Flask) -> None:
    with flask_app.test_request_context():
        for definition in FORMS.values():
            form_class = build_form_class(definition)
            assert issubclass(form_class, FlaskForm)
            assert form_class.definition is definition
            form = form_class()
            assert [field.name for field in form] == [q.id for q in definition.questions]
            for question in definition.questions:
                field = form[question.id]
                expected = TextAreaField if question.kind == "text" else RadioField
                assert isinstance(field, expected)


def test_a_plain_wtforms_base() -> None:
    form_class = build_form_class(FORMS["phieu1"], base=Form)
    form = form_class(MultiDict({"overall": "4"}))
    assert form.validate()
    assert FORMS["phieu1"].validate_answers(form.answers()) == ({"overall": 4}, {})


@pytest.mark.parametrize(
    ("lang", "question", "label", "choices"),
    [
        (
            "vi",
            "overall",
            "Ông/Bà hài lòng như thế nào với công chức tiếp nhận, trả kết quả hồ sơ?",
            ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"],
        ),
        (
            "en",
            "overall",
            "How satisfied are you with the officer who received your dossier and returned "
            "the result?",
            ["Very dissatisfied", "Dissatisfied", "Neither satisfied nor dissatisfied"],
        ),
        ("vi", "contacts", "Ông/Bà phải liên hệ bao nhiêu lần", ["Không lần nào", "Từ hai lần"]),
        ("en", "contacts", "How many times", ["Not once", "Once", "Twice or more"]),
        ("vi", "misconduct", "nhũng nhiễu", ["Có", "Không"]),
        ("hmn", "misconduct", "nhũng nhiễu", ["Có", "Không"]),  # falls back to Vietnamese
    ],
)
def test_renders_radio_choices(
    flask_app: Flask, lang: str, question: str, label: str, choices: list[str]
) -> None:
    with flask_app.test_request_context():
        form = bound("phieu1", {}, lang)
        html = str(form[question]) + str(form[question].label)
        assert label in html
        for choice in choices:
            assert f">{choice}</label>" in html
        assert 'type="radio"' in html


def test_renders_the_values_and_escapes_labels(flask_app: Flask) -> None:
    with flask_app.test_request_context():
        form = bound("phieu2", {"feedback_handling": "khong_phan_anh"})
        html = str(form.feedback_handling)
        for value in ("1", "2", "3", "4", "5"):
            assert f'value="{value}"' in html
        assert 'checked id="feedback_handling-5" name="feedback_handling" type="radio" ' in html
        assert "Tôi không phản ánh, kiến nghị" in html
        form = bound("phieu1", {"comment": "<b>đậm</b>"})
        assert "&lt;b&gt;đậm&lt;/b&gt;" in str(form.comment)


# (case, form, posted data, expected clean answers)
VALID = [
    ("one tap", "phieu1", {"overall": "5"}, {"overall": 5}),
    (
        "full phieu1",
        "phieu1",
        {
            "overall": "2",
            "courtesy": "1",
            "guidance": "3",
            "contacts": "2+",
            "publicity": "4",
            "facilities": "5",
            "misconduct": "co",
            "comment": "  Nhân viên <i>thờ ơ</i>\r\nphải đi lại nhiều\x00 ",
        },
        {
            "overall": 2,
            "courtesy": 1,
            "guidance": 3,
            "contacts": "2+",
            "publicity": 4,
            "facilities": 5,
            "misconduct": "co",
            "comment": "Nhân viên <i>thờ ơ</i>\nphải đi lại nhiều",
        },
    ),
    (
        "phieu2 with no complaint",
        "phieu2",
        {
            "overall": "4",
            "on_time": "dung_hen",
            "agencies": "1",
            "feedback_handling": "khong_phan_anh",
        },
        {
            "overall": 4,
            "on_time": "dung_hen",
            "agencies": "1",
            "feedback_handling": "khong_phan_anh",
        },
    ),
    (
        "comment of 500 characters plus spaces",
        "phieu1",
        {"overall": "3", "comment": " " + "ơ" * 500 + " "},
        {"overall": 3, "comment": "ơ" * 500},
    ),
    ("blank comment", "phieu1", {"overall": "3", "comment": "   "}, {"overall": 3}),
]


@pytest.mark.parametrize(
    ("form_id", "data", "clean"), [pytest.param(f, d, c, id=case) for case, f, d, c in VALID]
)
def test_same_clean_answers_as_the_api(
    flask_app: Flask, form_id: str, data: dict[str, str], clean: dict[str, Any]
) -> None:
    with flask_app.test_request_context(method="POST", data=data):
        definition = FORMS[form_id]
        form = build_form_class(definition)()  # FlaskForm reads request.form itself
        assert form.validate(), form.errors
        assert definition.validate_answers(form_answers(form)) == (clean, {})
        assert definition.validate_answers(data) == (clean, {})


# (case, form, posted data, field in error, message)
INVALID = [
    ("nothing", "phieu1", {}, "overall", "Vui lòng chọn mức độ hài lòng của Ông/Bà."),
    ("overall blank", "phieu1", {"overall": ""}, "overall", "Vui lòng chọn"),
    ("overall 6", "phieu1", {"overall": "6"}, "overall", "Lựa chọn không hợp lệ."),
    ("contacts 2", "phieu1", {"overall": "5", "contacts": "2"}, "contacts", "không hợp lệ"),
    (
        "khong_phan_anh on overall",
        "phieu2",
        {"overall": "khong_phan_anh"},
        "overall",
        "không hợp lệ",
    ),
    (
        "comment too long",
        "phieu2",
        {"overall": "5", "comment": "a" * 501},
        "comment",
        "Ý kiến dài tối đa 500 ký tự.",
    ),
]


@pytest.mark.parametrize(
    ("form_id", "data", "field", "message"),
    [pytest.param(f, d, fi, m, id=case) for case, f, d, fi, m in INVALID],
)
def test_invalid_posts_match_the_api(
    flask_app: Flask, form_id: str, data: dict[str, str], field: str, message: str
) -> None:
    with flask_app.test_request_context(method="POST", data=data):
        definition = FORMS[form_id]
        form = build_form_class(definition)()
        assert not form.validate()
        assert list(form.errors) == [field]
        assert message in form.errors[field][0]
        _, errors = definition.validate_answers(data)
        assert field in errors


def test_english_messages(flask_app: Flask) -> None:
    with flask_app.test_request_context(method="POST", data={"comment": "x" * 501}):
        form = build_form_class(FORMS["phieu1"], "en")()
        assert not form.validate()
        assert form.errors == {
            "overall": ["Please choose how satisfied you are."],
            "comment": ["Please keep your comment to 500 characters at most."],
        }
