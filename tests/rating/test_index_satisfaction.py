"""Criterion 8.3 points from form answers (index.md, section 1)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from rating.index import (
    AnswerCounts,
    SatisfactionConfig,
    SatisfactionConfigError,
    check_against_table,
    count_answers,
    load_satisfaction_config,
    load_shipped_table,
    satisfaction_percent,
    satisfaction_points,
)
from rating.index.satisfaction import DEFAULT_CONFIG_PATH, points_for

D = Decimal


@pytest.fixture(scope="module")
def config() -> SatisfactionConfig:
    return load_satisfaction_config()


@pytest.fixture(scope="module")
def banded(tmp_path_factory: pytest.TempPathFactory) -> SatisfactionConfig:
    """The shipped mapping switched to the banded method with its example cut points."""
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    path = tmp_path_factory.mktemp("config") / "banded.toml"
    path.write_text(text.replace('method = "linear"', 'method = "banded"'), encoding="utf-8")
    return load_satisfaction_config(path)


# -- the shipped mapping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "max_points", "questions"),
    [
        ("8.3.1", "2", ()),
        ("8.3.2", "2", ()),
        ("8.3.3", "2.25", ()),
        ("8.3.4", "1", ()),
        ("8.3.5", "1.25", ("phieu1.facilities",)),
        ("8.3.6", "1.5", ("phieu1.publicity",)),
        (
            "8.3.7",
            "2",
            ("phieu1.overall", "phieu1.courtesy", "phieu1.guidance", "phieu2.officer_conduct"),
        ),
        ("8.3.8", "2", ("phieu2.overall", "phieu2.result_quality")),
        ("8.3.9", "1", ("phieu2.feedback_handling",)),
    ],
)
def test_shipped_mapping_is_index_md_section_1(
    config: SatisfactionConfig, code: str, max_points: str, questions: tuple[str, ...]
) -> None:
    rule = config.rule(code)
    assert rule.max == D(max_points)
    assert rule.questions == questions
    assert rule.imported is (not questions)
    assert rule.method == "linear"


def test_shipped_mapping_totals_15_and_matches_bang2(config: SatisfactionConfig) -> None:
    assert config.criterion == "8.3"
    assert config.max == 15
    assert sum(rule.max for rule in config.sub_criteria) == 15
    check_against_table(config, load_shipped_table("dien_bien_2024_bang2"))


def test_mapping_for_another_table_is_refused(config: SatisfactionConfig) -> None:
    with pytest.raises(SatisfactionConfigError) as caught:
        check_against_table(config, load_shipped_table("dien_bien_2024_bang1"))
    assert caught.value.field == "table"
    assert str(DEFAULT_CONFIG_PATH) in str(caught.value)


# -- percent and points -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("satisfied", "answered", "expected"),
    [
        (3, 4, "75.0"),
        (1, 3, "33.3"),
        (2, 3, "66.7"),
        (1, 8, "12.5"),
        (1, 16, "6.3"),  # 6.25 → 6.3: half up, not half even
        (5, 5, "100.0"),
        (0, 5, "0.0"),  # answered but nobody satisfied: a real 0
    ],
)
def test_percent_one_decimal_half_up(satisfied: int, answered: int, expected: str) -> None:
    assert str(satisfaction_percent(AnswerCounts(satisfied, answered))) == expected


def test_no_answers_is_no_data_not_zero() -> None:
    assert satisfaction_percent(AnswerCounts(0, 0)) is None


@pytest.mark.parametrize(
    ("code", "satisfied", "answered", "percent", "points"),
    [
        ("8.3.3", 7, 8, "87.5", "1.97"),  # 2.25 × 0.875 = 1.96875
        ("8.3.9", 1, 8, "12.5", "0.13"),  # 1 × 0.125: half up, not 0.12
        ("8.3.5", 1, 16, "6.3", "0.08"),  # from the rounded percent: 1.25 × 0.063 = 0.07875
        ("8.3.9", 1, 3, "33.3", "0.33"),
        ("8.3.6", 1, 2, "50.0", "0.75"),
        ("8.3.7", 10, 10, "100.0", "2.00"),
        ("8.3.8", 0, 4, "0.0", "0.00"),
    ],
)
def test_linear_points(
    config: SatisfactionConfig, code: str, satisfied: int, answered: int, percent: str, points: str
) -> None:
    result = satisfaction_points({code: AnswerCounts(satisfied, answered)}, config)
    row = next(row for row in result.sub_criteria if row.code == code)
    assert (str(row.percent), str(row.points)) == (percent, points)
    assert (row.answered, row.satisfied) == (answered, satisfied)


@pytest.mark.parametrize(
    ("code", "percent", "points"),
    [
        ("8.3.7", "100.0", "2.00"),
        ("8.3.7", "80.0", "2.00"),  # ≥ 80 → full
        ("8.3.7", "79.9", "1.00"),  # 70–< 80 → half
        ("8.3.7", "70.0", "1.00"),
        ("8.3.7", "69.9", "0.00"),  # < 70 → nothing
        ("8.3.3", "75.0", "1.13"),  # half of 2.25 = 1.125 → 1.13
        ("8.3.5", "85.0", "1.25"),
    ],
)
def test_banded_points(banded: SatisfactionConfig, code: str, percent: str, points: str) -> None:
    rule = banded.rule(code)
    assert rule.method == "banded"
    assert str(points_for(rule, D(percent))) == points


def test_banded_from_counts(banded: SatisfactionConfig) -> None:
    # 7 of 9 = 77.8 % → half of 1.5.
    result = satisfaction_points({"8.3.6": AnswerCounts(7, 9)}, banded)
    row = next(row for row in result.sub_criteria if row.code == "8.3.6")
    assert (row.percent, row.points, row.method) == (D("77.8"), D("0.75"), "banded")


def test_one_sub_criterion_may_override_method_and_cuts(tmp_path: Path) -> None:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace(
        'questions = ["phieu2.feedback_handling"]',
        'questions = ["phieu2.feedback_handling"]\nmethod = "banded"\n'
        "cuts = [{ min = 90, share = 1 }, { min = 60, share = 0.25 }]",
    )
    path = tmp_path / "override.toml"
    path.write_text(text, encoding="utf-8")
    overridden = load_satisfaction_config(path)
    assert overridden.rule("8.3.8").method == "linear"
    rule = overridden.rule("8.3.9")
    assert [str(points_for(rule, D(p))) for p in ("90.0", "89.9", "60.0", "59.9")] == [
        "1.00",
        "0.25",
        "0.25",
        "0.00",
    ]


def test_total_counts_only_sub_criteria_with_data(config: SatisfactionConfig) -> None:
    counts = {
        "8.3.5": AnswerCounts(9, 10),  # 90.0 → 1.125 → 1.13
        "8.3.7": AnswerCounts(0, 4),  # answered, none satisfied → 0.00, with data
        "8.3.8": AnswerCounts(0, 0),  # no data
    }
    result = satisfaction_points(counts, config)
    assert result.total_points == D("1.13")
    assert result.max_with_data == D("3.25")
    assert result.no_data == ("8.3.1", "8.3.2", "8.3.3", "8.3.4", "8.3.6", "8.3.8", "8.3.9")
    no_data = next(row for row in result.sub_criteria if row.code == "8.3.8")
    assert (no_data.percent, no_data.points, no_data.has_data) == (None, None, False)


def test_imported_percents_fill_8_3_1_to_8_3_4(config: SatisfactionConfig) -> None:
    imported = {"8.3.1": D("80"), "8.3.2": D("75.55"), "8.3.3": D("100"), "8.3.4": D("0")}
    result = satisfaction_points({}, config, imported_percents=imported)
    rows = {row.code: row for row in result.sub_criteria}
    assert rows["8.3.2"].percent == D("75.6")
    assert [rows[code].points for code in ("8.3.1", "8.3.2", "8.3.3", "8.3.4")] == [
        D("1.60"),
        D("1.51"),  # 2 × 0.756 = 1.512
        D("2.25"),
        D("0.00"),
    ]
    assert all(rows[code].imported for code in imported)
    assert result.total_points == D("5.36")


@pytest.mark.parametrize(
    ("counts", "imported", "message"),
    [
        ({"8.4.1": AnswerCounts(1, 1)}, {}, "8.4.1: not a sub-criterion of 8.3"),
        ({"8.3.5": AnswerCounts(3, 2)}, {}, "8.3.5: more satisfied answers than answers"),
        ({"8.3.5": AnswerCounts(-1, 2)}, {}, "8.3.5: counts must be whole numbers"),
        ({"8.3.1": AnswerCounts(1, 2)}, {"8.3.1": D(50)}, "8.3.1: both counted answers"),
        ({}, {"8.3.1": D("100.1")}, "8.3.1: imported percent must be"),
        ({}, {"8.3.1": 50.0}, "8.3.1: imported percent must be"),
    ],
)
def test_faulty_inputs_name_the_sub_criterion(
    config: SatisfactionConfig,
    counts: dict[str, AnswerCounts],
    imported: dict[str, Decimal],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        satisfaction_points(counts, config, imported_percents=imported)


# -- counting answers ---------------------------------------------------------------------------


def test_count_answers_feeds_each_sub_criterion(config: SatisfactionConfig) -> None:
    responses: list[tuple[str, dict[str, object]]] = [
        ("phieu1", {"overall": 5, "courtesy": 4, "guidance": 2, "facilities": 3, "publicity": 1}),
        ("phieu1", {"overall": 4}),  # only the required question: details do not count
        (
            "phieu2",
            {
                "overall": 1,
                "result_quality": 5,
                "officer_conduct": 4,
                "feedback_handling": "khong_phan_anh",
                "on_time": "dung_hen",
            },
        ),
        ("phieu2", {"overall": 4, "feedback_handling": 5}),
    ]
    counts = count_answers(responses, config)
    assert counts == {
        "8.3.1": AnswerCounts(0, 0),
        "8.3.2": AnswerCounts(0, 0),
        "8.3.3": AnswerCounts(0, 0),
        "8.3.4": AnswerCounts(0, 0),
        "8.3.5": AnswerCounts(0, 1),
        "8.3.6": AnswerCounts(0, 1),
        "8.3.7": AnswerCounts(4, 5),  # 5, 4, 2 and 4 on phieu1 + officer_conduct 4 on phieu2
        "8.3.8": AnswerCounts(2, 3),  # overall 1 and 4, result_quality 5
        "8.3.9": AnswerCounts(1, 1),  # khong_phan_anh does not count
    }


@pytest.mark.parametrize(
    "value",
    ["khong_phan_anh", None, 0, 6, "5", 4.0, True, False],
)
def test_count_answers_ignores_anything_but_1_to_5(
    config: SatisfactionConfig, value: object
) -> None:
    counts = count_answers([("phieu2", {"feedback_handling": value})], config)
    assert counts["8.3.9"] == AnswerCounts(0, 0)


def test_count_answers_ignores_other_forms_and_uses_the_shipped_mapping_by_default() -> None:
    counts = count_answers([("sipas", {"overall": 5}), ("phieu1", {"facilities": 4})])
    assert counts["8.3.5"] == AnswerCounts(1, 1)
    assert sum(c.answered for c in counts.values()) == 1


def test_counts_feed_points_directly(config: SatisfactionConfig) -> None:
    responses = [("phieu2", {"feedback_handling": "khong_phan_anh"})] * 3
    result = satisfaction_points(count_answers(responses, config), config)
    assert "8.3.9" in result.no_data
    assert result.total_points == 0


# -- loader errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('method = "linear"', 'method = "steps"', "method"),
        ("max = 15", "max = 16", "max"),
        ("max = 2.25", 'max = "2,25"', "sub_criteria[2] (code 8.3.3).max"),
        (
            'questions = ["phieu1.facilities"]',
            'questions = ["facilities"]',
            "sub_criteria[4] (code 8.3.5).questions",
        ),
        (
            'questions = ["phieu1.publicity"]',
            'questions = ["phieu1.publicity", "phieu1.publicity"]',
            "sub_criteria[5] (code 8.3.6).questions",
        ),
        ('questions = ["phieu1.publicity"]', "", "sub_criteria[5] (code 8.3.6).questions"),
        ('code = "8.3.9"', 'code = "8.3.8"', "sub_criteria[8] (code 8.3.8).code"),
        ("share = 0.5", "share = 5", "cuts[1].share"),
        ("min = 70", "min = 90", "cuts[1].min"),
        ('id = "dien_bien_2024_8_3"', "", "id"),
        ('table = "dien_bien_2024_bang2"', 'tabel = "x"', "tabel"),
    ],
)
def test_config_loader_errors_name_file_and_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "mapping.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(SatisfactionConfigError) as caught:
        load_satisfaction_config(path)
    assert caught.value.field == field
    assert str(path) in str(caught.value)


def test_banded_without_cut_points_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    text = text.replace('method = "linear"', 'method = "banded"')
    text = text[: text.index("\n[[cuts]]")] + text[text.index("\n[[sub_criteria]]") :]
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SatisfactionConfigError, match="banded needs cut points") as caught:
        load_satisfaction_config(path)
    assert caught.value.field == "sub_criteria[0] (code 8.3.1).method"
