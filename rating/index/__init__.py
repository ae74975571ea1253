"""The annual administrative-reform (PAR) index: tables as data, scoring, criterion 8.3 points.

Standard library only, no clock: every fact is an argument.

- ``tree``: index tables (``load_table``, ``available_tables``) as a tree of criteria.
- ``scoring``: a unit's totals, index percent and band (``score_unit``), and ``rank_units``.
- ``satisfaction``: criterion 8.3 points from form answers (``count_answers``,
  ``satisfaction_points``), with the question mapping in ``satisfaction_8_3.toml``.
"""

from rating.index.satisfaction import (
    AnswerCounts,
    SatisfactionConfig,
    SatisfactionConfigError,
    SatisfactionResult,
    SubCriterionResult,
    SubCriterionRule,
    check_against_table,
    count_answers,
    load_satisfaction_config,
    satisfaction_percent,
    satisfaction_points,
)
from rating.index.scoring import (
    NOT_ASSESSED,
    LeafScore,
    NodeResult,
    RankedUnit,
    ScoringError,
    UnitResult,
    rank_units,
    score_unit,
)
from rating.index.tree import (
    Band,
    Criterion,
    IndexTable,
    IndexTableError,
    available_tables,
    load_shipped_table,
    load_table,
)

__all__ = [
    "NOT_ASSESSED",
    "AnswerCounts",
    "Band",
    "Criterion",
    "IndexTable",
    "IndexTableError",
    "LeafScore",
    "NodeResult",
    "RankedUnit",
    "SatisfactionConfig",
    "SatisfactionConfigError",
    "SatisfactionResult",
    "ScoringError",
    "SubCriterionResult",
    "SubCriterionRule",
    "UnitResult",
    "available_tables",
    "check_against_table",
    "count_answers",
    "load_satisfaction_config",
    "load_shipped_table",
    "load_table",
    "rank_units",
    "satisfaction_percent",
    "satisfaction_points",
    "score_unit",
]
