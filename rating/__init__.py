"""Pure monthly rating engine: facts + rule set → bands with reasons. Standard library only."""

from rating.engine import OfficerResult, evaluate_officer, evaluate_unit
from rating.metrics import FactsError, Metrics, OfficerFacts, compute_metrics
from rating.ruleset import (
    RuleSet,
    RuleSetError,
    available_rulesets,
    default_rulesets_dir,
    find_ruleset,
    load_ruleset,
    ruleset_for_month,
)

__all__ = [
    "FactsError",
    "Metrics",
    "OfficerFacts",
    "OfficerResult",
    "RuleSet",
    "RuleSetError",
    "available_rulesets",
    "compute_metrics",
    "default_rulesets_dir",
    "evaluate_officer",
    "evaluate_unit",
    "find_ruleset",
    "load_ruleset",
    "ruleset_for_month",
]
