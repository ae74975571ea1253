"""The shipped forms match shared/domain/forms.md, question by question."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import forms
from forms import SCALE5, FormDefinition, FormError, load_form, load_forms
from forms.loader import PACKAGE_DIR

MISCONDUCT_VI = (
    "Ông/Bà có bị gây phiền hà, nhũng nhiễu, yêu cầu giấy tờ hoặc chi phí ngoài quy định không?"
)
COMMENT_VI = "Ý kiến khác (không bắt buộc)"

# (form, question id, kind, Vietnamese wording from forms.md), in form order.
QUESTIONS = [
    (
        "phieu1",
        "overall",
        "scale5",
        "Ông/Bà hài lòng như thế nào với công chức tiếp nhận, trả kết quả hồ sơ?",
    ),
    ("phieu1", "courtesy", "scale5", "Thái độ tiếp đón, giao tiếp có lịch sự, tôn trọng không?"),
    (
        "phieu1",
        "guidance",
        "scale5",
        "Hướng dẫn có đầy đủ, dễ hiểu, một lần là hoàn thiện được hồ sơ không?",
    ),
    ("phieu1", "contacts", "choice", "Ông/Bà phải liên hệ bao nhiêu lần để hoàn thiện hồ sơ?"),
    (
        "phieu1",
        "publicity",
        "scale5",
        "Thủ tục, thành phần hồ sơ, phí, lệ phí có được niêm yết công khai, dễ hiểu không?",
    ),
    (
        "phieu1",
        "facilities",
        "scale5",
        "Nơi tiếp nhận có sạch sẽ, đủ chỗ ngồi, đủ trang thiết bị không?",
    ),
    ("phieu1", "misconduct", "choice", MISCONDUCT_VI),
    ("phieu1", "comment", "text", COMMENT_VI),
    (
        "phieu2",
        "overall",
        "scale5",
        "Ông/Bà hài lòng như thế nào với kết quả và việc giải quyết hồ sơ?",
    ),
    ("phieu2", "on_time", "choice", "Kết quả được trả như thế nào so với ngày hẹn?"),
    ("phieu2", "agencies", "choice", "Ông/Bà phải liên hệ với bao nhiêu cơ quan để có kết quả?"),
    ("phieu2", "result_quality", "scale5", "Kết quả có đầy đủ, chính xác, đúng quy định không?"),
    (
        "phieu2",
        "officer_conduct",
        "scale5",
        "Công chức giải quyết có tuân thủ quy định, tận tình, trả lời kịp thời không?",
    ),
    (
        "phieu2",
        "feedback_handling",
        "scale5",
        "Nếu Ông/Bà đã phản ánh, kiến nghị: có được tiếp nhận, xử lý, thông báo kịp thời không?",
    ),
    ("phieu2", "misconduct", "choice", MISCONDUCT_VI),
    ("phieu2", "comment", "text", COMMENT_VI),
]

# (form, question id, option values in order, Vietnamese labels) for the choice questions.
CHOICES = [
    ("phieu1", "contacts", ["0", "1", "2+"], ["Không lần nào", "Một lần", "Từ hai lần"]),
    ("phieu1", "misconduct", ["co", "khong"], ["Có", "Không"]),
    (
        "phieu2",
        "on_time",
        ["som", "dung_hen", "tre_hen"],
        ["Sớm hơn ngày hẹn", "Đúng ngày hẹn", "Trễ hẹn"],
    ),
    (
        "phieu2",
        "agencies",
        ["1", "2", "3+"],
        ["Chỉ Bộ phận Một cửa", "Thêm một cơ quan", "Thêm từ hai cơ quan trở lên"],
    ),
    ("phieu2", "misconduct", ["co", "khong"], ["Có", "Không"]),
]

SCALE_VI = ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng"]

# (form, question id, feeds) as in the "feeds" column of forms.md.
FEEDS = [
    ("phieu1", "overall", ("band", "8.3.7")),
    ("phieu1", "courtesy", ("8.3.7",)),
    ("phieu1", "guidance", ("8.3.7",)),
    ("phieu1", "contacts", ("tt01.3",)),
    ("phieu1", "publicity", ("8.3.6",)),
    ("phieu1", "facilities", ("8.3.5",)),
    ("phieu1", "misconduct", ("misconduct_report", "tt01.7")),
    ("phieu2", "overall", ("band", "8.3.8")),
    ("phieu2", "on_time", ("tt01.1",)),
    ("phieu2", "agencies", ("tt01.4",)),
    ("phieu2", "result_quality", ("8.3.8",)),
    ("phieu2", "officer_conduct", ("8.3.7",)),
    ("phieu2", "feedback_handling", ("8.3.9",)),
    ("phieu2", "misconduct", ("misconduct_report",)),
]


@pytest.fixture(scope="module")
def shipped() -> dict[str, FormDefinition]:
    return load_forms()


def test_package_exports() -> None:
    from forms.wtf import build_form_class

    assert forms.build_form_class is build_form_class
    assert set(forms.__all__) >= {
        "FormDefinition",
        "Question",
        "Option",
        "FormError",
        "load_form",
        "load_forms",
        "SCALE5",
        "build_form_class",
    }


def test_both_forms_ship(shipped: dict[str, FormDefinition]) -> None:
    assert list(shipped) == ["phieu1", "phieu2"]
    assert shipped["phieu1"].source == PACKAGE_DIR / "phieu1.toml"


@pytest.mark.parametrize(
    ("form_id", "about", "opens", "name", "title"),
    [
        (
            "phieu1",
            "reception",
            "received",
            "Phiếu số 1",
            "Phiếu đánh giá công chức tiếp nhận và trả kết quả",
        ),
        (
            "phieu2",
            "resolver",
            "returned",
            "Phiếu số 2",
            "Phiếu đánh giá công chức, viên chức trực tiếp giải quyết hồ sơ",
        ),
    ],
)
def test_form_header(
    shipped: dict[str, FormDefinition],
    form_id: str,
    about: str,
    opens: str,
    name: str,
    title: str,
) -> None:
    form = shipped[form_id]
    assert (form.id, form.version, form.about, form.opens) == (form_id, 1, about, opens)
    assert form.name_in("vi") == name
    assert form.title_in("vi") == title
    assert form.detail_intro_in("vi") == "Ông/Bà có muốn trả lời thêm vài câu hỏi?"
    assert form.title_in("en") and form.title_in("en") != title
    assert form.detail_intro_in("en") == "Would you like to answer a few more questions?"


@pytest.mark.parametrize("form_id", ["phieu1", "phieu2"])
def test_question_ids_in_order(shipped: dict[str, FormDefinition], form_id: str) -> None:
    expected = [qid for form, qid, _, _ in QUESTIONS if form == form_id]
    assert [q.id for q in shipped[form_id].questions] == expected


@pytest.mark.parametrize(("form_id", "question_id", "kind", "wording"), QUESTIONS)
def test_question_wording(
    shipped: dict[str, FormDefinition], form_id: str, question_id: str, kind: str, wording: str
) -> None:
    form = shipped[form_id]
    question = form.question(question_id)
    assert question.kind == kind
    assert form.text(question_id, "vi") == wording
    assert unicodedata.is_normalized("NFC", question.text["vi"])
    assert question.text.get("en"), "every question has English wording"
    assert form.text(question_id, "en") != wording
    assert question.required == (question_id == "overall")


@pytest.mark.parametrize(("form_id", "question_id", "values", "labels_vi"), CHOICES)
def test_choice_options(
    shipped: dict[str, FormDefinition],
    form_id: str,
    question_id: str,
    values: list[str],
    labels_vi: list[str],
) -> None:
    form = shipped[form_id]
    question = form.question(question_id)
    assert list(question.values) == values
    assert [form.option_label(question_id, v, "vi") for v in values] == labels_vi
    assert all(option.label.get("en") for option in question.options)


@pytest.mark.parametrize(("form_id", "question_id", "feeds"), FEEDS)
def test_feeds(
    shipped: dict[str, FormDefinition], form_id: str, question_id: str, feeds: tuple[str, ...]
) -> None:
    assert shipped[form_id].question(question_id).feeds == feeds


def test_shared_scale() -> None:
    assert [o.value for o in SCALE5] == ["1", "2", "3", "4", "5"]
    assert [o.label["vi"] for o in SCALE5] == SCALE_VI
    assert all(o.label.get("en") for o in SCALE5)


@pytest.mark.parametrize("form_id", ["phieu1", "phieu2"])
def test_scale_questions_use_the_scale(shipped: dict[str, FormDefinition], form_id: str) -> None:
    form = shipped[form_id]
    for question in form.questions:
        if question.kind == "scale5":
            assert question.options[:5] == SCALE5
            assert form.option_label(question.id, 5, "vi") == "Rất hài lòng"
            assert form.option_label(question.id, 1, "en") == "Very dissatisfied"


def test_feedback_handling_has_the_no_complaint_option(
    shipped: dict[str, FormDefinition],
) -> None:
    form = shipped["phieu2"]
    assert form.question("feedback_handling").values[5:] == ("khong_phan_anh",)
    label = form.option_label("feedback_handling", "khong_phan_anh", "vi")
    assert label == "Tôi không phản ánh, kiến nghị"
    assert "khong_phan_anh" not in shipped["phieu1"].question("overall").values


@pytest.mark.parametrize("form_id", ["phieu1", "phieu2"])
def test_comment_is_limited_to_500(shipped: dict[str, FormDefinition], form_id: str) -> None:
    comment = shipped[form_id].question("comment")
    assert (comment.kind, comment.max_length, comment.options) == ("text", 500, ())


@pytest.mark.parametrize("form_id", ["phieu1", "phieu2"])
def test_vietnamese_and_english_are_complete(
    shipped: dict[str, FormDefinition], form_id: str
) -> None:
    form = shipped[form_id]
    assert form.languages == ("vi", "en")
    assert form.complete_languages == ("vi", "en")
    report = form.language_report()
    assert report["en"] == {"complete": True, "missing": []}
    json.dumps(report)


def test_text_falls_back_to_vietnamese(shipped: dict[str, FormDefinition]) -> None:
    form = shipped["phieu1"]
    assert form.text("overall", "hmn") == form.text("overall", "vi")
    assert form.option_label("contacts", "2+", "hmn") == "Từ hai lần"
    assert form.title_in("hmn") == form.title_in("vi")
    assert not form.is_complete("hmn")


def test_audio_is_only_referenced(shipped: dict[str, FormDefinition]) -> None:
    form = shipped["phieu1"]
    assert form.audio("overall", "vi") == "vi/phieu1/overall.ogg"
    assert form.audio("overall", "en") is None


def test_check_assets_reports_missing_audio(tmp_path: Path) -> None:
    with pytest.raises(FormError) as caught:
        load_form(PACKAGE_DIR / "phieu1.toml", static_dir=tmp_path, check_assets=True)
    assert "phieu1.toml: questions[0].audio.vi: audio file not found" in str(caught.value)
    assert len(caught.value.problems) == 8  # one prompt per question, all missing


def test_check_assets_passes_when_audio_exists(tmp_path: Path) -> None:
    form = load_form(PACKAGE_DIR / "phieu2.toml")
    for question in form.questions:
        audio = tmp_path / "audio" / question.audio["vi"]
        audio.parent.mkdir(parents=True, exist_ok=True)
        audio.write_bytes(b"ID3")
    checked = load_form(PACKAGE_DIR / "phieu2.toml", static_dir=tmp_path, check_assets=True)
    assert checked == form


def test_check_assets_needs_a_static_dir() -> None:
    with pytest.raises(ValueError, match="static_dir"):
        load_forms(check_assets=True)


def test_loader_does_not_import_flask() -> None:
    code = "import sys, forms; forms.load_forms(); print(sorted(m for m in sys.modules "
    code += "if m.split('.')[0] in ('flask', 'flask_wtf', 'wtforms')))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
