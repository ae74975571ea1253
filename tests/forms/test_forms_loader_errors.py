"""A broken form file is refused with a message naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from forms import FormError, load_form, load_forms

VALID = """\
id = "phieu9"
version = 1
about = "reception"
opens = "received"
name.vi = "Phiếu thử"
title.vi = "Phiếu thử nghiệm"
detail_intro.vi = "Ông/Bà có muốn trả lời thêm vài câu hỏi?"

[[questions]]
id = "overall"
kind = "scale5"
required = true
text.vi = "Ông/Bà hài lòng như thế nào?"
text.en = "How satisfied are you?"
audio.vi = "vi/phieu9/overall.mp3"

[[questions]]
id = "courtesy"
kind = "scale5"
text.vi = "Có lịch sự không?"

[[questions]]
id = "contacts"
kind = "choice"
text.vi = "Bao nhiêu lần?"

[[questions.options]]
value = "0"
label.vi = "Không lần nào"

[[questions.options]]
value = "1"
label.vi = "Một lần"

[[questions]]
id = "comment"
kind = "text"
max_length = 500
text.vi = "Ý kiến khác"
"""
TEXT_KIND_LINE = VALID.splitlines().index('kind = "text"') + 1


def write(directory: Path, text: str, name: str = "phieu9.toml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    assert VALID.count(old) == 1, f"ambiguous edit: {old!r}"
    return VALID.replace(old, new)


def test_the_base_file_is_valid(tmp_path: Path) -> None:
    form = load_form(write(tmp_path, VALID))
    assert [q.id for q in form.questions] == ["overall", "courtesy", "contacts", "comment"]


# (what is wrong, text replaced, replacement, expected message)
FORM_ERRORS = [
    (
        "TOML syntax error",
        'kind = "text"',
        "kind = text",
        f"phieu9.toml: line {TEXT_KIND_LINE}: invalid TOML: ",
    ),
    ("missing version", "version = 1\n", "", "phieu9.toml: version: missing required key"),
    (
        "version not an int",
        "version = 1",
        'version = "1"',
        "phieu9.toml: version: must be a positive integer",
    ),
    (
        "missing question kind",
        'id = "courtesy"\nkind = "scale5"\n',
        'id = "courtesy"\n',
        "phieu9.toml: questions[1].kind: missing required key",
    ),
    (
        "missing question id",
        'id = "courtesy"\n',
        "",
        "phieu9.toml: questions[1].id: missing required key",
    ),
    (
        "missing question text",
        'text.vi = "Có lịch sự không?"\n',
        "",
        "phieu9.toml: questions[1].text: missing required key",
    ),
    (
        "unknown kind",
        'id = "courtesy"\nkind = "scale5"',
        'id = "courtesy"\nkind = "slider"',
        "phieu9.toml: questions[1].kind: unknown kind 'slider'",
    ),
    (
        "duplicate question id",
        'id = "comment"',
        'id = "courtesy"',
        "phieu9.toml: questions[3].id: duplicate question id 'courtesy'",
    ),
    (
        "bad question id",
        'id = "comment"',
        'id = "Ý kiến"',
        "phieu9.toml: questions[3].id: must be lower-case letters",
    ),
    (
        "missing vi wording",
        'text.vi = "Có lịch sự không?"',
        'text.en = "Polite?"',
        "phieu9.toml: questions[1].text.vi: missing Vietnamese wording",
    ),
    (
        "empty vi wording",
        'text.vi = "Có lịch sự không?"',
        'text.vi = "  "',
        "phieu9.toml: questions[1].text.vi: must be a non-empty string",
    ),
    (
        "missing vi option label",
        'label.vi = "Một lần"',
        'label.en = "Once"',
        "phieu9.toml: questions[2].options[1].label.vi: missing Vietnamese wording",
    ),
    (
        "missing vi title",
        'title.vi = "Phiếu thử nghiệm"',
        'title.en = "Test form"',
        "phieu9.toml: title.vi: missing Vietnamese wording",
    ),
    (
        "no overall question",
        'id = "overall"',
        'id = "satisfaction"',
        "phieu9.toml: questions: no 'overall' question",
    ),
    (
        "overall not scale5",
        'id = "overall"\nkind = "scale5"',
        'id = "overall"\nkind = "text"\nmax_length = 5',
        "phieu9.toml: questions[0].kind: 'overall' must be a scale5 question",
    ),
    (
        "overall not required",
        "required = true\n",
        "",
        "phieu9.toml: questions[0].required: 'overall' must be required = true",
    ),
    (
        "another question required",
        'id = "courtesy"\n',
        'id = "courtesy"\nrequired = true\n',
        "phieu9.toml: questions[1].required: only 'overall' may be required",
    ),
    (
        "choice without options",
        'text.vi = "Bao nhiêu lần?"\n\n[[questions.options]]\nvalue = "0"\n'
        'label.vi = "Không lần nào"\n\n[[questions.options]]\nvalue = "1"\n'
        'label.vi = "Một lần"\n',
        'text.vi = "Bao nhiêu lần?"\n',
        "phieu9.toml: questions[2].options: missing required key",
    ),
    (
        "choice with one option",
        '[[questions.options]]\nvalue = "1"\nlabel.vi = "Một lần"\n',
        "",
        "phieu9.toml: questions[2].options: a choice needs at least two options",
    ),
    (
        "duplicate option value",
        'value = "0"',
        'value = "1"',
        "phieu9.toml: questions[2].options[1].value: duplicate value '1'",
    ),
    (
        "options on a scale question",
        'text.vi = "Có lịch sự không?"',
        'text.vi = "Có lịch sự không?"\noptions = []',
        "phieu9.toml: questions[1].options: only choice questions have options",
    ),
    (
        "extra option clashing with a scale level",
        'text.vi = "Có lịch sự không?"',
        'text.vi = "Có lịch sự không?"\nextra_options = [{ value = "3", label.vi = "Ba" }]',
        "phieu9.toml: questions[1].extra_options[0].value: '3' is already a scale level",
    ),
    (
        "max_length zero",
        "max_length = 500",
        "max_length = 0",
        "phieu9.toml: questions[3].max_length: must be a positive integer, got 0",
    ),
    (
        "max_length a string",
        "max_length = 500",
        'max_length = "500"',
        "phieu9.toml: questions[3].max_length: must be a positive integer, got '500'",
    ),
    (
        "max_length a bool",
        "max_length = 500",
        "max_length = true",
        "phieu9.toml: questions[3].max_length: must be a positive integer, got True",
    ),
    (
        "max_length missing",
        "max_length = 500\n",
        "",
        "phieu9.toml: questions[3].max_length: missing required key",
    ),
    (
        "unknown top-level key",
        'title.vi = "Phiếu thử nghiệm"',
        'title.vi = "Phiếu thử nghiệm"\ntitel.en = "Test"',
        "phieu9.toml: titel: unknown key (did you mean 'title'?)",
    ),
    (
        "unknown question key",
        "max_length = 500",
        "max_length = 500\nmaxlength = 400",
        "phieu9.toml: questions[3].maxlength: unknown key (did you mean 'max_length'?)",
    ),
    (
        "unknown about",
        'about = "reception"',
        'about = "desk"',
        "phieu9.toml: about: unknown value 'desk'",
    ),
    (
        "unknown opens",
        'opens = "received"',
        'opens = "paid"',
        "phieu9.toml: opens: unknown value 'paid'",
    ),
    (
        "form id not the file name",
        'id = "phieu9"',
        'id = "phieu1"',
        "phieu9.toml: id: 'phieu1' does not match the file name 'phieu9'",
    ),
    (
        "audio outside static/audio",
        'audio.vi = "vi/phieu9/overall.mp3"',
        'audio.vi = "../../secret.txt"',
        "phieu9.toml: questions[0].audio.vi: must be a relative path under static/audio/",
    ),
    (
        "bad language code",
        'text.en = "How satisfied are you?"',
        'text.English = "How satisfied are you?"',
        "phieu9.toml: questions[0].text.English: not a language code",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [pytest.param(old, new, message, id=case) for case, old, new, message in FORM_ERRORS],
)
def test_form_error_names_file_and_field(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = write(tmp_path, edited(old, new))
    with pytest.raises(FormError) as caught:
        load_form(path)
    assert any(problem.startswith(message) for problem in caught.value.problems), str(caught.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = edited('kind = "text"', 'kind = "essay"').replace('about = "reception"', "")
    with pytest.raises(FormError) as caught:
        load_form(write(tmp_path, text))
    assert caught.value.problems == (
        "phieu9.toml: about: missing required key",
        "phieu9.toml: questions[3].kind: unknown kind 'essay' (expected scale5, choice, text)",
        "phieu9.toml: questions[3].max_length: only text questions have max_length",
    )


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(FormError, match=r"phieu9\.toml: file: cannot read"):
        load_form(tmp_path / "phieu9.toml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "phieu9.toml"
    path.write_bytes(VALID.encode("cp1258", errors="replace"))
    with pytest.raises(FormError, match=r"phieu9\.toml: file: not UTF-8 text"):
        load_form(path)


# (what is wrong, overlay file under lang/, its text, expected message)
OVERLAY_ERRORS = [
    (
        "unknown question",
        "hmn/phieu9.toml",
        '[questions.overal]\ntext = "Koj txaus siab li cas?"\n',
        "lang/hmn/phieu9.toml: questions.overal: unknown question 'overal'",
    ),
    (
        "unknown option",
        "hmn/phieu9.toml",
        '[questions.contacts.options]\n"2+" = "Ob zaug"\n',
        "lang/hmn/phieu9.toml: questions.contacts.options.2+: unknown option '2+'",
    ),
    (
        "unknown key",
        "hmn/phieu9.toml",
        'titel = "Daim ntawv"\n',
        "lang/hmn/phieu9.toml: titel: unknown key (did you mean 'title'?)",
    ),
    (
        "unknown question key",
        "hmn/phieu9.toml",
        '[questions.overall]\ntxt = "Koj txaus siab li cas?"\n',
        "lang/hmn/phieu9.toml: questions.overall.txt: unknown key (did you mean 'text'?)",
    ),
    (
        "empty text",
        "hmn/phieu9.toml",
        '[questions.overall]\ntext = ""\n',
        "lang/hmn/phieu9.toml: questions.overall.text: must be a non-empty string",
    ),
    (
        "syntax error",
        "hmn/phieu9.toml",
        "[questions.overall\n",
        "lang/hmn/phieu9.toml: line 1: invalid TOML",
    ),
    (
        "scale level outside 1..5",
        "hmn/scales.toml",
        '[scale5]\n"6" = "Zoo heev"\n',
        "lang/hmn/scales.toml: scale5.6: unknown scale level",
    ),
    (
        "not a language directory",
        "Hmong/phieu9.toml",
        'title = "Daim ntawv"\n',
        "lang/Hmong: directory: not a language code",
    ),
]


@pytest.mark.parametrize(
    ("overlay", "text", "message"),
    [
        pytest.param(overlay, text, message, id=case)
        for case, overlay, text, message in OVERLAY_ERRORS
    ],
)
def test_overlay_error_names_file_and_field(
    tmp_path: Path, overlay: str, text: str, message: str
) -> None:
    path = write(tmp_path, VALID)
    write(tmp_path / "lang", text, overlay)
    with pytest.raises(FormError) as caught:
        load_form(path)
    assert any(problem.startswith(message) for problem in caught.value.problems), str(caught.value)


def test_overlay_for_a_missing_form(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    write(tmp_path / "lang", 'title = "Daim ntawv"\n', "hmn/pheiu9.toml")
    with pytest.raises(FormError) as caught:
        load_forms(tmp_path)
    assert caught.value.problems[0].startswith("lang/hmn/pheiu9.toml: file: no form 'pheiu9'")


def test_load_forms_reports_every_broken_file(tmp_path: Path) -> None:
    write(tmp_path, VALID.replace("version = 1", "version = 0"))
    broken = VALID.replace("phieu9", "phieu8").replace("max_length = 500", "max_length = -1")
    write(tmp_path, broken, "phieu8.toml")
    with pytest.raises(FormError) as caught:
        load_forms(tmp_path)
    assert caught.value.problems == (
        "phieu8.toml: questions[3].max_length: must be a positive integer, got -1",
        "phieu9.toml: version: must be a positive integer, got 0",
    )


def test_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="no form files"):
        load_forms(tmp_path)


def test_province_scale_file_is_validated(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    write(tmp_path, '[[scale5]]\nvalue = "1"\nlabel.vi = "Tệ"\n', "scales.toml")
    with pytest.raises(FormError, match=r'scales\.toml: scale5: must list the values "1" to "5"'):
        load_forms(tmp_path)


def test_audio_check_names_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    static = tmp_path / "static"
    with pytest.raises(FormError) as caught:
        load_form(path, static_dir=static, check_assets=True)
    assert caught.value.problems == (
        "phieu9.toml: questions[0].audio.vi: audio file not found: "
        f"{static / 'audio' / 'vi' / 'phieu9' / 'overall.mp3'}",
    )
    load_form(path, static_dir=static)  # not asked to check: fine
