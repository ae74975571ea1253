"""Survey form definitions: load and validate the TOML files, check citizens' answers.

A form is data (``phieu1.toml``, ``phieu2.toml``, a province's own files): this module turns
a file into a :class:`FormDefinition` and refuses a broken file with a :class:`FormError`
that names the file and the field. Extra languages come from overlay files under
``lang/<lang>/`` (see ``lang/README.md``).

Standard library only: the JSON API, the pages and the command line all import it, and none
of them should need Flask to read a form.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Final, Literal, TypeAlias, cast

__all__ = [
    "ABOUT",
    "DEFAULT_LANG",
    "KINDS",
    "OPENS",
    "SCALE5",
    "Answer",
    "CleanAnswers",
    "FormDefinition",
    "FormError",
    "Kind",
    "Option",
    "Question",
    "clean_text",
    "load_form",
    "load_forms",
    "load_scale",
]

PACKAGE_DIR: Final = Path(__file__).resolve().parent
DEFAULT_LANG: Final = "vi"
SCALES_FILE: Final = "scales.toml"
LANG_DIR: Final = "lang"

Kind: TypeAlias = Literal["scale5", "choice", "text"]
KINDS: Final[tuple[Kind, ...]] = ("scale5", "choice", "text")
#: Whom a form rates: the staff group of forms.md, or the unit as a whole (SIPAS survey).
ABOUT: Final = ("reception", "resolver", "unit")
#: When a form opens for a dossier: at reception, once the result is returned, or always.
OPENS: Final = ("received", "returned", "any")
SCALE_VALUES: Final = ("1", "2", "3", "4", "5")
OVERALL: Final = "overall"

Answer: TypeAlias = int | str
CleanAnswers: TypeAlias = dict[str, Answer]

_ID_RE: Final = re.compile(r"[a-z][a-z0-9_]*")
_VALUE_RE: Final = re.compile(r"[A-Za-z0-9_+\-]+")
_LANG_RE: Final = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
_TOML_LINE_RE: Final = re.compile(r"at line (\d+)")

_FORM_KEYS: Final = (
    "id",
    "version",
    "about",
    "opens",
    "name",
    "title",
    "detail_intro",
    "questions",
)
_QUESTION_KEYS: Final = (
    "id",
    "kind",
    "required",
    "text",
    "audio",
    "feeds",
    "options",
    "extra_options",
    "max_length",
)
_OPTION_KEYS: Final = ("value", "label", "audio")
_OVERLAY_KEYS: Final = ("name", "title", "detail_intro", "questions")
_OVERLAY_QUESTION_KEYS: Final = ("text", "audio", "options")
_OVERLAY_OPTION_KEYS: Final = ("label", "audio")


class FormError(ValueError):
    """A form file (or one of its overlays or assets) is invalid.

    ``problems`` lists every problem found, each as ``"<file>: <field>: <what is wrong>"``;
    ``str(error)`` joins them with newlines.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Option:
    """One answer a citizen can pick: a stable ``value`` code and its label per language."""

    value: str
    label: Mapping[str, str]
    audio: Mapping[str, str] = field(default_factory=dict)

    def label_in(self, lang: str) -> str:
        """The label in ``lang``, or in Vietnamese when that language lacks it."""
        return _localized(self.label, lang)


@dataclass(frozen=True)
class Question:
    """One question of a form.

    For ``scale5`` questions ``options`` holds the five scale levels (values ``"1"``..``"5"``)
    followed by the question's extra options (e.g. ``khong_phan_anh``).
    """

    id: str
    kind: Kind
    text: Mapping[str, str]
    required: bool = False
    options: tuple[Option, ...] = ()
    max_length: int | None = None
    feeds: tuple[str, ...] = ()
    audio: Mapping[str, str] = field(default_factory=dict)

    def text_in(self, lang: str) -> str:
        """The wording in ``lang``, or in Vietnamese when that language lacks it."""
        return _localized(self.text, lang)

    def option(self, value: str) -> Option | None:
        """The option whose value is ``value``, if any."""
        for option in self.options:
            if option.value == value:
                return option
        return None

    @property
    def values(self) -> tuple[str, ...]:
        """The accepted answer codes, as strings, in display order."""
        return tuple(option.value for option in self.options)


@dataclass(frozen=True)
class FormDefinition:
    """A validated survey form with its languages merged in."""

    id: str
    version: int
    about: str
    opens: str
    name: Mapping[str, str]
    title: Mapping[str, str]
    detail_intro: Mapping[str, str]
    questions: tuple[Question, ...]
    source: Path | None = field(default=None, compare=False)
    _by_id: Mapping[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})

    # -- wording -------------------------------------------------------------------------

    def question(self, question_id: str) -> Question:
        """The question with this id; ``KeyError`` when the form has none."""
        return self._by_id[question_id]

    def has_question(self, question_id: str) -> bool:
        return question_id in self._by_id

    def text(self, question_id: str, lang: str = DEFAULT_LANG) -> str:
        """A question's wording in ``lang``, falling back to Vietnamese."""
        return self.question(question_id).text_in(lang)

    def option_label(self, question_id: str, value: str | int, lang: str = DEFAULT_LANG) -> str:
        """The label of one answer (``value`` as stored: int for scale levels) in ``lang``."""
        option = self.question(question_id).option(str(value))
        if option is None:
            raise KeyError(f"{question_id}: no option {value!r}")
        return option.label_in(lang)

    def audio(self, question_id: str, lang: str) -> str | None:
        """The audio prompt (path under ``static/audio/``) of a question in ``lang``, if any.

        No fallback: a Thái prompt is not replaced by the Vietnamese one; the page decides.
        """
        return self.question(question_id).audio.get(lang)

    def name_in(self, lang: str) -> str:
        return _localized(self.name, lang)

    def title_in(self, lang: str) -> str:
        return _localized(self.title, lang)

    def detail_intro_in(self, lang: str) -> str:
        return _localized(self.detail_intro, lang)

    # -- languages -----------------------------------------------------------------------

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with at least one text in this form: ``vi`` first, then ``en``, others."""
        seen = {lang for _, texts in self._texts() for lang in texts}
        return tuple(sorted(seen, key=lambda lang: (lang != "vi", lang != "en", lang)))

    def missing_texts(self, lang: str) -> tuple[str, ...]:
        """Where ``lang`` lacks wording (those texts fall back to Vietnamese)."""
        return tuple(where for where, texts in self._texts() if lang not in texts)

    def is_complete(self, lang: str) -> bool:
        """True when every text of the form exists in ``lang``."""
        return not self.missing_texts(lang)

    @property
    def complete_languages(self) -> tuple[str, ...]:
        return tuple(lang for lang in self.languages if self.is_complete(lang))

    def language_report(self) -> dict[str, dict[str, object]]:
        """Per language: ``complete`` and the ``missing`` text paths (JSON-serialisable)."""
        return {
            lang: {"complete": not missing, "missing": list(missing)}
            for lang in self.languages
            for missing in [self.missing_texts(lang)]
        }

    def _texts(self) -> Iterator[tuple[str, Mapping[str, str]]]:
        yield "name", self.name
        yield "title", self.title
        yield "detail_intro", self.detail_intro
        for q in self.questions:
            yield f"questions.{q.id}.text", q.text
            for option in q.options:
                yield f"questions.{q.id}.options.{option.value}", option.label

    # -- answers -------------------------------------------------------------------------

    def validate_answers(self, answers: object) -> tuple[CleanAnswers, dict[str, str]]:
        """Check a submission: ``(clean_answers, errors)``.

        ``errors`` maps a question id (or ``"answers"`` when ``answers`` is not an object) to
        a stable code: ``required``, ``empty``, ``unknown_question``, ``invalid_choice``,
        ``wrong_type``, ``too_long``. ``clean_answers`` holds the valid answers in question
        order, JSON-serialisable: ints 1..5 for scale levels, strings for options and text.
        Empty optional answers are dropped.
        """
        if not isinstance(answers, Mapping):
            return {}, {"answers": "wrong_type"}
        errors: dict[str, str] = {}
        found: dict[str, Answer] = {}
        for key, value in answers.items():
            if not isinstance(key, str) or key not in self._by_id:
                errors[str(key)] = "unknown_question"
                continue
            question = self._by_id[key]
            clean, error = _clean_answer(question, value)
            if error is not None:
                errors[key] = error
            elif clean is not None:
                found[key] = clean
            elif question.required:
                errors[key] = "empty"
        for question in self.questions:
            if question.required and question.id not in answers:
                errors[question.id] = "required"
        clean_answers = {q.id: found[q.id] for q in self.questions if q.id in found}
        return clean_answers, errors

    def misconduct_reported(self, clean_answers: Mapping[str, object]) -> bool:
        """The citizen answered ``co`` to the misconduct question."""
        return clean_answers.get("misconduct") == "co"

    def contact_allowed(self, clean_answers: Mapping[str, object]) -> bool:
        """May the form offer the optional phone number (forms.md, "Personal data")?

        Only when misconduct is reported or the overall answer is 1 or 2.
        """
        overall = clean_answers.get(OVERALL)
        low = isinstance(overall, int) and not isinstance(overall, bool) and overall <= 2
        return self.misconduct_reported(clean_answers) or low


# -- answers ---------------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """Normalise a free-text answer: NFC, no control characters but newlines, stripped.

    The result is plain text; escaping it is the template's job.
    """
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")
    return text.strip()


def _clean_answer(question: Question, value: object) -> tuple[Answer | None, str | None]:
    """``(clean value or None when empty, error code or None)`` for one answer."""
    if value is None:
        return None, None
    if question.kind == "text":
        if not isinstance(value, str):
            return None, "wrong_type"
        text = clean_text(value)
        if not text:
            return None, None
        if question.max_length is not None and len(text) > question.max_length:
            return None, "too_long"
        return text, None
    # scale5 and choice: a code from the options; ints are accepted for numeric codes.
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None, "wrong_type"
    code = str(value).strip()
    if not code:
        return None, None
    if code not in question.values:
        return None, "invalid_choice"
    if question.kind == "scale5" and code in SCALE_VALUES:
        return int(code), None
    return code, None


# -- loading ---------------------------------------------------------------------------------


class _Problems:
    """Collects ``file: field: message`` lines, so one run reports every mistake."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, file: str, where: str, message: str) -> None:
        self.items.append(f"{file}: {where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise FormError(self.items)


class _Reader:
    """Validates the tables of one file, reporting against that file's name."""

    def __init__(self, file: str, problems: _Problems) -> None:
        self.file = file
        self.problems = problems

    def add(self, where: str, message: str) -> None:
        self.problems.add(self.file, where, message)

    def table(self, value: object, where: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return cast(dict[str, Any], value)
        self.add(where, "must be a table")
        return None

    def keys(self, table: Mapping[str, object], allowed: Sequence[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                also = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.add(f"{prefix}{key}", f"unknown key{also}")

    def required(self, table: Mapping[str, object], key: str, prefix: str) -> bool:
        if key in table:
            return True
        self.add(f"{prefix}{key}", "missing required key")
        return False

    def identifier(self, value: object, where: str) -> str:
        if isinstance(value, str) and _ID_RE.fullmatch(value):
            return value
        self.add(where, f"must be lower-case letters, digits and '_', got {value!r}")
        return ""

    def one_of(self, value: object, allowed: Sequence[str], where: str) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        self.add(where, f"unknown value {value!r} (expected one of {', '.join(allowed)})")
        return ""

    def string(self, value: object, where: str) -> str | None:
        if isinstance(value, str) and value.strip():
            return unicodedata.normalize("NFC", value.strip())
        self.add(where, "must be a non-empty string")
        return None

    def texts(self, value: object, where: str, *, need_vi: bool = True) -> dict[str, str]:
        """A ``lang = "text"`` table; Vietnamese is required in a form file."""
        if not isinstance(value, dict):
            self.add(where, 'must be a table of language = "text", e.g. vi = "..."')
            return {}
        texts: dict[str, str] = {}
        for lang, text in value.items():
            if not _LANG_RE.fullmatch(lang):
                self.add(f"{where}.{lang}", "not a language code")
                continue
            clean = self.string(text, f"{where}.{lang}")
            if clean is not None:
                texts[lang] = clean
        if need_vi and DEFAULT_LANG not in value:
            self.add(f"{where}.{DEFAULT_LANG}", "missing Vietnamese wording")
        return texts

    def audio_path(self, value: object, where: str) -> str | None:
        path = self.string(value, where)
        if path is None:
            return None
        parts = PurePosixPath(path).parts
        if path.startswith("/") or "\\" in path or ".." in parts or ":" in path:
            self.add(where, f"must be a relative path under static/audio/, got {path!r}")
            return None
        return path

    def audios(self, value: object, where: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.add(where, 'must be a table of language = "path", e.g. vi = "vi/x.mp3"')
            return {}
        audios: dict[str, str] = {}
        for lang, path in value.items():
            if not _LANG_RE.fullmatch(lang):
                self.add(f"{where}.{lang}", "not a language code")
                continue
            clean = self.audio_path(path, f"{where}.{lang}")
            if clean is not None:
                audios[lang] = clean
        return audios

    def options(self, value: object, where: str) -> list[Option]:
        """An array of ``{value, label, audio}`` tables with unique values."""
        if not isinstance(value, list):
            self.add(where, "must be an array of tables ([[...]])")
            return []
        options: list[Option] = []
        seen: set[str] = set()
        for index, raw in enumerate(value):
            at = f"{where}[{index}]"
            table = self.table(raw, at)
            if table is None:
                continue
            self.keys(table, _OPTION_KEYS, f"{at}.")
            code = ""
            if self.required(table, "value", f"{at}."):
                raw_value = table["value"]
                if isinstance(raw_value, str) and _VALUE_RE.fullmatch(raw_value):
                    code = raw_value
                    if code in seen:
                        self.add(f"{at}.value", f"duplicate value {code!r}")
                    seen.add(code)
                else:
                    self.add(
                        f"{at}.value",
                        f"must be a string of letters, digits, '_', '+', '-', got {raw_value!r}",
                    )
            label: dict[str, str] = {}
            if self.required(table, "label", f"{at}."):
                label = self.texts(table["label"], f"{at}.label")
            audio = self.audios(table["audio"], f"{at}.audio") if "audio" in table else {}
            options.append(Option(value=code, label=label, audio=audio))
        return options


def _read_toml(path: Path, display: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FormError([f"{display}: file: cannot read ({exc.strerror})"]) from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FormError([f"{display}: file: not UTF-8 text ({exc.reason})"]) from exc
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE_RE.search(str(exc))
        where = f"line {match.group(1)}" if match else "file"
        raise FormError([f"{display}: {where}: invalid TOML: {exc}"]) from exc


def _localized(texts: Mapping[str, str], lang: str) -> str:
    return texts.get(lang) or texts[DEFAULT_LANG]


def load_scale(path: str | os.PathLike[str] | None = None) -> tuple[Option, ...]:
    """The five scale levels from a ``scales.toml`` (default: the package's own)."""
    scale_path = Path(path) if path is not None else PACKAGE_DIR / SCALES_FILE
    problems = _Problems()
    reader = _Reader(scale_path.name, problems)
    data = _read_toml(scale_path, scale_path.name)
    reader.keys(data, ("scale5",), "")
    options: list[Option] = []
    if reader.required(data, "scale5", ""):
        options = reader.options(data["scale5"], "scale5")
        if [o.value for o in options] != list(SCALE_VALUES):
            reader.add("scale5", 'must list the values "1" to "5" in order')
    problems.raise_if_any()
    return tuple(options)


#: The shared 5-level SIPAS scale shipped with the package (vi and en labels).
SCALE5: Final[tuple[Option, ...]] = load_scale()


def _parse_question(
    reader: _Reader, raw: object, index: int, scale: Sequence[Option]
) -> Question | None:
    at = f"questions[{index}]"
    table = reader.table(raw, at)
    if table is None:
        return None
    prefix = f"{at}."
    reader.keys(table, _QUESTION_KEYS, prefix)
    qid = reader.identifier(table["id"], f"{at}.id") if reader.required(table, "id", prefix) else ""
    kind = ""
    if reader.required(table, "kind", prefix):
        raw_kind = table["kind"]
        if isinstance(raw_kind, str) and raw_kind in KINDS:
            kind = raw_kind
        else:
            reader.add(f"{at}.kind", f"unknown kind {raw_kind!r} (expected {', '.join(KINDS)})")
    required = table.get("required", False)
    if not isinstance(required, bool):
        reader.add(f"{at}.required", "must be true or false")
        required = False
    elif required and qid and qid != OVERALL:
        reader.add(f"{at}.required", f"only '{OVERALL}' may be required (one-tap answers)")
    text = (
        reader.texts(table["text"], f"{at}.text") if reader.required(table, "text", prefix) else {}
    )
    audio = reader.audios(table["audio"], f"{at}.audio") if "audio" in table else {}
    feeds: tuple[str, ...] = ()
    if "feeds" in table:
        raw_feeds = table["feeds"]
        if isinstance(raw_feeds, list) and all(isinstance(f, str) and f for f in raw_feeds):
            feeds = tuple(raw_feeds)
        else:
            reader.add(f"{at}.feeds", "must be an array of strings")

    options: list[Option] = []
    if "options" in table and kind != "choice":
        reader.add(f"{at}.options", "only choice questions have options")
    if "extra_options" in table and kind != "scale5":
        reader.add(f"{at}.extra_options", "only scale5 questions have extra_options")
    if kind == "choice" and reader.required(table, "options", prefix):
        options = reader.options(table["options"], f"{at}.options")
        if len(options) < 2 and isinstance(table["options"], list):
            reader.add(f"{at}.options", "a choice needs at least two options")
    if kind == "scale5":
        options = list(scale)
        if "extra_options" in table:
            extra = reader.options(table["extra_options"], f"{at}.extra_options")
            for position, option in enumerate(extra):
                if option.value in SCALE_VALUES:
                    where = f"{at}.extra_options[{position}].value"
                    reader.add(where, f"{option.value!r} is already a scale level")
            options.extend(extra)

    max_length: int | None = None
    if "max_length" in table and kind != "text":
        reader.add(f"{at}.max_length", "only text questions have max_length")
    if kind == "text" and reader.required(table, "max_length", prefix):
        raw_max = table["max_length"]
        if isinstance(raw_max, int) and not isinstance(raw_max, bool) and raw_max > 0:
            max_length = raw_max
        else:
            reader.add(f"{at}.max_length", f"must be a positive integer, got {raw_max!r}")

    if not qid or not kind:
        return None
    return Question(
        id=qid,
        kind=cast(Kind, kind),
        text=text,
        required=required,
        options=tuple(options),
        max_length=max_length,
        feeds=feeds,
        audio=audio,
    )


def _parse_form(
    data: Mapping[str, Any], reader: _Reader, stem: str, scale: Sequence[Option]
) -> FormDefinition:
    reader.keys(data, _FORM_KEYS, "")
    form_id = reader.identifier(data["id"], "id") if reader.required(data, "id", "") else ""
    if form_id and form_id != stem:
        reader.add("id", f"{form_id!r} does not match the file name {stem!r}")
    version = 0
    if reader.required(data, "version", ""):
        raw_version = data["version"]
        if isinstance(raw_version, int) and not isinstance(raw_version, bool) and raw_version > 0:
            version = raw_version
        else:
            reader.add("version", f"must be a positive integer, got {raw_version!r}")
    about = (
        reader.one_of(data["about"], ABOUT, "about") if reader.required(data, "about", "") else ""
    )
    opens = (
        reader.one_of(data["opens"], OPENS, "opens") if reader.required(data, "opens", "") else ""
    )
    texts: dict[str, dict[str, str]] = {}
    for key in ("name", "title", "detail_intro"):
        texts[key] = reader.texts(data[key], key) if reader.required(data, key, "") else {}

    questions: list[Question] = []
    if reader.required(data, "questions", ""):
        raw_questions = data["questions"]
        if not isinstance(raw_questions, list) or not raw_questions:
            reader.add("questions", "must be a non-empty array of tables ([[questions]])")
            raw_questions = []
        positions: dict[str, int] = {}
        for index, raw in enumerate(raw_questions):
            question = _parse_question(reader, raw, index, scale)
            if question is None:
                continue
            if question.id in positions:
                reader.add(f"questions[{index}].id", f"duplicate question id {question.id!r}")
                continue
            positions[question.id] = index
            questions.append(question)
        if OVERALL not in positions:
            if raw_questions:
                reader.add("questions", f"no '{OVERALL}' question")
        else:
            overall = questions[list(positions).index(OVERALL)]
            at = f"questions[{positions[OVERALL]}]"
            if overall.kind != "scale5":
                reader.add(f"{at}.kind", f"'{OVERALL}' must be a scale5 question")
            if not overall.required:
                reader.add(f"{at}.required", f"'{OVERALL}' must be required = true")

    return FormDefinition(
        id=form_id,
        version=version,
        about=about,
        opens=opens,
        name=texts["name"],
        title=texts["title"],
        detail_intro=texts["detail_intro"],
        questions=tuple(questions),
    )


# -- language overlays -----------------------------------------------------------------------


def _overlay_entry(reader: _Reader, raw: object, where: str) -> tuple[str | None, str | None]:
    """An overlay text: ``"text"`` or a table ``{label|text = "...", audio = "..."}``."""
    if isinstance(raw, str):
        return reader.string(raw, where), None
    table = reader.table(raw, where)
    if table is None:
        return None, None
    reader.keys(table, _OVERLAY_OPTION_KEYS, f"{where}.")
    label = reader.string(table["label"], f"{where}.label") if "label" in table else None
    audio = reader.audio_path(table["audio"], f"{where}.audio") if "audio" in table else None
    return label, audio


def _merge_option(option: Option, lang: str, label: str | None, audio: str | None) -> Option:
    return replace(
        option,
        label={**option.label, lang: label} if label else option.label,
        audio={**option.audio, lang: audio} if audio else option.audio,
    )


def _read_scale_overlay(
    path: Path, display: str, problems: _Problems
) -> dict[str, tuple[str | None, str | None]]:
    reader = _Reader(display, problems)
    data = _read_toml(path, display)
    reader.keys(data, ("scale5",), "")
    entries: dict[str, tuple[str | None, str | None]] = {}
    table = reader.table(data["scale5"], "scale5") if reader.required(data, "scale5", "") else None
    for value, raw in (table or {}).items():
        if value not in SCALE_VALUES:
            reader.add(f"scale5.{value}", 'unknown scale level (expected "1" to "5")')
            continue
        entries[value] = _overlay_entry(reader, raw, f"scale5.{value}")
    return entries


def _apply_scale_overlay(
    form: FormDefinition, lang: str, entries: Mapping[str, tuple[str | None, str | None]]
) -> FormDefinition:
    questions = []
    for question in form.questions:
        if question.kind == "scale5":
            options = tuple(
                _merge_option(option, lang, *entries[option.value])
                if option.value in entries
                else option
                for option in question.options
            )
            question = replace(question, options=options)
        questions.append(question)
    return replace(form, questions=tuple(questions))


def _apply_overlay(
    form: FormDefinition, lang: str, path: Path, display: str, problems: _Problems
) -> FormDefinition:
    reader = _Reader(display, problems)
    data = _read_toml(path, display)
    reader.keys(data, _OVERLAY_KEYS, "")
    changes: dict[str, Any] = {}
    for key in ("name", "title", "detail_intro"):
        if key in data:
            text = reader.string(data[key], key)
            if text is not None:
                changes[key] = {**getattr(form, key), lang: text}
    questions = {q.id: q for q in form.questions}
    raw_questions = reader.table(data["questions"], "questions") if "questions" in data else None
    for qid, raw in (raw_questions or {}).items():
        at = f"questions.{qid}"
        if qid not in questions:
            reader.add(at, f"unknown question {qid!r} (form {form.id!r} has no such question)")
            continue
        table = reader.table(raw, at)
        if table is None:
            continue
        reader.keys(table, _OVERLAY_QUESTION_KEYS, f"{at}.")
        question = questions[qid]
        if "text" in table:
            text = reader.string(table["text"], f"{at}.text")
            if text is not None:
                question = replace(question, text={**question.text, lang: text})
        if "audio" in table:
            audio = reader.audio_path(table["audio"], f"{at}.audio")
            if audio is not None:
                question = replace(question, audio={**question.audio, lang: audio})
        raw_options = (
            reader.table(table["options"], f"{at}.options") if "options" in table else None
        )
        if raw_options:
            options = {option.value: option for option in question.options}
            for value, raw_option in raw_options.items():
                where = f"{at}.options.{value}"
                if value not in options:
                    reader.add(where, f"unknown option {value!r} of question {qid!r}")
                    continue
                label, audio = _overlay_entry(reader, raw_option, where)
                options[value] = _merge_option(options[value], lang, label, audio)
            question = replace(question, options=tuple(options.values()))
        questions[qid] = question
    return replace(form, questions=tuple(questions.values()), **changes)


def _language_dirs(lang_dir: Path, problems: _Problems) -> list[Path]:
    if not lang_dir.is_dir():
        return []
    dirs = []
    for entry in sorted(lang_dir.iterdir()):
        if not entry.is_dir() or entry.name.startswith((".", "_")):
            continue
        if not _LANG_RE.fullmatch(entry.name):
            problems.add(f"{lang_dir.name}/{entry.name}", "directory", "not a language code")
            continue
        dirs.append(entry)
    return dirs


def _merge_languages(form: FormDefinition, lang_dir: Path, problems: _Problems) -> FormDefinition:
    for directory in _language_dirs(lang_dir, problems):
        lang = directory.name
        prefix = f"{lang_dir.name}/{lang}"
        scale_file = directory / SCALES_FILE
        if scale_file.is_file():
            entries = _read_scale_overlay(scale_file, f"{prefix}/{SCALES_FILE}", problems)
            form = _apply_scale_overlay(form, lang, entries)
        overlay = directory / f"{form.id}.toml"
        if overlay.is_file():
            form = _apply_overlay(form, lang, overlay, f"{prefix}/{overlay.name}", problems)
    return form


def _check_audio(form: FormDefinition, display: str, static_dir: Path, problems: _Problems) -> None:
    audio_dir = static_dir / "audio"
    for index, question in enumerate(form.questions):
        refs = [(f"questions[{index}].audio.{lang}", p) for lang, p in question.audio.items()]
        for option in question.options:
            where = f"questions[{index}].options.{option.value}.audio"
            refs.extend((f"{where}.{lang}", p) for lang, p in option.audio.items())
        for where, audio_path in refs:
            if not (audio_dir / audio_path).is_file():
                problems.add(display, where, f"audio file not found: {audio_dir / audio_path}")


# -- public entry points ---------------------------------------------------------------------


def load_form(
    path: str | os.PathLike[str],
    *,
    lang_dir: str | os.PathLike[str] | None = None,
    static_dir: str | os.PathLike[str] | None = None,
    check_assets: bool = False,
) -> FormDefinition:
    """Load and validate one form file, with its language overlays merged in.

    ``lang_dir`` defaults to ``lang/`` next to the file; the scale labels come from
    ``scales.toml`` next to the file, else from the package. With ``check_assets=True``
    every audio file named by the form must exist under ``<static_dir>/audio/``.
    Raises :class:`FormError` naming the file and the field of each problem.
    """
    form_path = Path(path)
    scale_path = form_path.parent / SCALES_FILE
    scale = load_scale(scale_path) if scale_path.is_file() else SCALE5
    languages = Path(lang_dir) if lang_dir is not None else form_path.parent / LANG_DIR
    return _load(form_path, scale, languages, static_dir, check_assets)


def _load(
    form_path: Path,
    scale: Sequence[Option],
    lang_dir: Path,
    static_dir: str | os.PathLike[str] | None,
    check_assets: bool,
) -> FormDefinition:
    if check_assets and static_dir is None:
        raise ValueError("check_assets=True needs static_dir")
    display = form_path.name
    problems = _Problems()
    reader = _Reader(display, problems)
    form = _parse_form(_read_toml(form_path, display), reader, form_path.stem, scale)
    problems.raise_if_any()
    form = _merge_languages(form, lang_dir, problems)
    if check_assets and static_dir is not None:
        _check_audio(form, display, Path(static_dir), problems)
    problems.raise_if_any()
    return replace(form, source=form_path)


def load_forms(
    directory: str | os.PathLike[str] | None = None,
    *,
    static_dir: str | os.PathLike[str] | None = None,
    check_assets: bool = False,
) -> dict[str, FormDefinition]:
    """Load every form file (``*.toml`` but ``scales.toml``) of a directory, by form id.

    ``directory`` defaults to the package's own forms; a server may point at a province's
    directory, which may hold its own ``scales.toml`` and ``lang/`` overlays. An overlay
    file naming no form of the directory is an error (a misspelt file name).
    """
    base = Path(directory) if directory is not None else PACKAGE_DIR
    scale_path = base / SCALES_FILE
    scale = load_scale(scale_path) if scale_path.is_file() else SCALE5
    lang_dir = base / LANG_DIR
    form_paths = [p for p in sorted(base.glob("*.toml")) if p.name != SCALES_FILE]
    forms: dict[str, FormDefinition] = {}
    problems: list[str] = []
    for form_path in form_paths:
        try:
            form = _load(form_path, scale, lang_dir, static_dir, check_assets)
        except FormError as exc:
            problems.extend(exc.problems)
            continue
        forms[form.id] = form
    stems = {p.stem for p in form_paths}
    stray = _Problems()
    for language in _language_dirs(lang_dir, stray):
        for overlay in sorted(language.glob("*.toml")):
            if overlay.name != SCALES_FILE and overlay.stem not in stems:
                display = f"{LANG_DIR}/{language.name}/{overlay.name}"
                stray.add(display, "file", f"no form {overlay.stem!r} in {base}")
    problems.extend(stray.items)
    if problems:
        raise FormError(list(dict.fromkeys(problems)))  # each lang/ problem once, not per form
    if not form_paths:
        raise FormError([f"{base}: directory: no form files (*.toml)"])
    return forms
