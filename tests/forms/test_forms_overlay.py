"""A province adds a language by dropping files under lang/<lang>/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forms import FormDefinition, FormError, load_form, load_forms
from forms.loader import PACKAGE_DIR

HMONG_PHIEU1 = """\
title = "Daim ntawv ntsuam xyuas tus neeg txais ntaub ntawv"

[questions.overall]
text = "Koj txaus siab li cas rau tus neeg txais thiab xa ntaub ntawv?"
audio = "hmn/phieu1/overall.mp3"

[questions.contacts.options]
"0" = "Tsis muaj ib zaug"
"2+" = { label = "Ob zaug los yog ntau dua", audio = "hmn/phieu1/contacts_2plus.mp3" }
"""

HMONG_SCALES = """\
[scale5]
"1" = "Tsis txaus siab kiag li"
"2" = "Tsis txaus siab"
"3" = "Nruab nrab"
"4" = "Txaus siab"
"5" = { label = "Txaus siab heev", audio = "hmn/scale/5.mp3" }
"""


@pytest.fixture
def province(tmp_path: Path) -> Path:
    """A province directory: the shipped forms plus a partial H'Mông overlay."""
    for name in ("phieu1.toml", "phieu2.toml"):
        shutil.copy(PACKAGE_DIR / name, tmp_path / name)
    hmong = tmp_path / "lang" / "hmn"
    hmong.mkdir(parents=True)
    (hmong / "phieu1.toml").write_text(HMONG_PHIEU1, encoding="utf-8")
    (hmong / "scales.toml").write_text(HMONG_SCALES, encoding="utf-8")
    (tmp_path / "lang" / "README.md").write_text("notes", encoding="utf-8")
    return tmp_path


@pytest.fixture
def forms(province: Path) -> dict[str, FormDefinition]:
    return load_forms(province)


def test_overlay_texts_are_merged(forms: dict[str, FormDefinition]) -> None:
    form = forms["phieu1"]
    assert form.text("overall", "hmn").startswith("Koj txaus siab li cas")
    assert form.title_in("hmn") == "Daim ntawv ntsuam xyuas tus neeg txais ntaub ntawv"
    assert form.option_label("contacts", "0", "hmn") == "Tsis muaj ib zaug"
    assert form.option_label("contacts", "2+", "hmn") == "Ob zaug los yog ntau dua"
    assert form.option_label("overall", 5, "hmn") == "Txaus siab heev"
    assert form.option_label("courtesy", "1", "hmn") == "Tsis txaus siab kiag li"


def test_overlay_audio_is_merged(forms: dict[str, FormDefinition]) -> None:
    form = forms["phieu1"]
    assert form.audio("overall", "hmn") == "hmn/phieu1/overall.mp3"
    assert form.audio("overall", "vi") == "vi/phieu1/overall.ogg"
    assert form.audio("courtesy", "hmn") is None
    contacts = form.question("contacts").option("2+")
    assert contacts is not None
    assert contacts.audio == {"hmn": "hmn/phieu1/contacts_2plus.mp3"}


# (question without H'Mông wording, the Vietnamese shown instead)
FALLBACKS = [
    ("courtesy", "Thái độ tiếp đón, giao tiếp có lịch sự, tôn trọng không?"),
    ("comment", "Ý kiến khác (không bắt buộc)"),
]


@pytest.mark.parametrize(("question_id", "vietnamese"), FALLBACKS)
def test_missing_texts_fall_back_to_vietnamese(
    forms: dict[str, FormDefinition], question_id: str, vietnamese: str
) -> None:
    assert forms["phieu1"].text(question_id, "hmn") == vietnamese


def test_other_fallbacks(forms: dict[str, FormDefinition]) -> None:
    form = forms["phieu1"]
    assert form.option_label("contacts", "1", "hmn") == "Một lần"
    assert form.name_in("hmn") == "Phiếu số 1"
    assert form.detail_intro_in("hmn") == "Ông/Bà có muốn trả lời thêm vài câu hỏi?"
    # English and Vietnamese are untouched by the overlay
    assert form.text("overall", "en").startswith("How satisfied")
    assert form.option_label("overall", 5, "vi") == "Rất hài lòng"


def test_completeness_report(forms: dict[str, FormDefinition]) -> None:
    phieu1, phieu2 = forms["phieu1"], forms["phieu2"]
    assert phieu1.languages == ("vi", "en", "hmn")
    assert phieu1.complete_languages == ("vi", "en")
    missing = phieu1.missing_texts("hmn")
    assert "name" in missing and "detail_intro" in missing and "title" not in missing
    assert "questions.overall.text" not in missing
    assert "questions.courtesy.text" in missing
    assert "questions.contacts.options.1" in missing
    assert "questions.contacts.options.2+" not in missing
    assert not any(".options.5" in where for where in missing)
    report = phieu1.language_report()
    assert report["hmn"]["complete"] is False
    assert report["vi"] == {"complete": True, "missing": []}
    # phieu2 only has the shared scale in H'Mông
    assert phieu2.languages == ("vi", "en", "hmn")
    assert not phieu2.is_complete("hmn")
    assert "questions.feedback_handling.options.khong_phan_anh" in phieu2.missing_texts("hmn")


def test_a_complete_overlay(province: Path) -> None:
    form = load_form(province / "phieu1.toml")
    lines = ['name = "Daim ntawv 1"\ntitle = "Daim ntawv"\ndetail_intro = "Teb ntxiv?"']
    for question in form.questions:
        lines.append(f'[questions.{question.id}]\ntext = "{question.id} (hmn)"')
        if question.kind == "choice":
            lines.append(f"[questions.{question.id}.options]")
            lines.extend(f'"{value}" = "{value} (hmn)"' for value in question.values)
    (province / "lang" / "hmn" / "phieu1.toml").write_text("\n".join(lines), encoding="utf-8")
    complete = load_form(province / "phieu1.toml")
    assert complete.is_complete("hmn")
    assert complete.complete_languages == ("vi", "en", "hmn")
    assert complete.text("misconduct", "hmn") == "misconduct (hmn)"


def test_a_third_language_without_scale_file_is_incomplete(province: Path) -> None:
    (province / "lang" / "hmn" / "scales.toml").unlink()
    form = load_form(province / "phieu1.toml")
    assert "questions.overall.options.3" in form.missing_texts("hmn")


def test_province_may_reword_vietnamese(province: Path) -> None:
    vi = province / "lang" / "vi"
    vi.mkdir()
    (vi / "phieu1.toml").write_text(
        '[questions.comment]\ntext = "Góp ý khác (không bắt buộc)"\n', encoding="utf-8"
    )
    form = load_form(province / "phieu1.toml")
    assert form.text("comment", "vi") == "Góp ý khác (không bắt buộc)"
    assert form.text("comment", "hmn") == "Góp ý khác (không bắt buộc)"


def test_province_scale_file(province: Path) -> None:
    scales = (PACKAGE_DIR / "scales.toml").read_text(encoding="utf-8")
    (province / "scales.toml").write_text(
        scales.replace("Bình thường", "Trung bình"), encoding="utf-8"
    )
    form = load_forms(province)["phieu2"]
    assert form.option_label("result_quality", 3, "vi") == "Trung bình"
    assert load_forms()["phieu2"].option_label("result_quality", 3, "vi") == "Bình thường"


def test_lang_dir_can_be_given(province: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    form = load_form(province / "phieu1.toml", lang_dir=elsewhere)
    assert form.languages == ("vi", "en")


def test_overlay_audio_is_checked_only_when_asked(province: Path, tmp_path: Path) -> None:
    static = tmp_path / "static"
    forms = load_forms(province, static_dir=static)  # not asked to check: fine
    for form in forms.values():  # record every question prompt, none of the option prompts
        for question in form.questions:
            for audio in question.audio.values():
                (static / "audio" / audio).parent.mkdir(parents=True, exist_ok=True)
                (static / "audio" / audio).write_bytes(b"")
    with pytest.raises(FormError) as caught:
        load_forms(province, static_dir=static, check_assets=True)
    found = {tuple(problem.split(": ")[:2]) for problem in caught.value.problems}
    assert found == {
        ("phieu1.toml", "questions[3].options.2+.audio.hmn"),
        *(("phieu1.toml", f"questions[{i}].options.5.audio.hmn") for i in (0, 1, 2, 4, 5)),
        *(("phieu2.toml", f"questions[{i}].options.5.audio.hmn") for i in (0, 3, 4, 5)),
    }
