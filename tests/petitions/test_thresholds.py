"""The rule engine against the reference systems of PRODUCT.md section 3."""

import pytest

from petitions.thresholds import TerritoryRule, Threshold


def test_uk_parliament_response_at_10000_and_debate_at_100000():
    response, debate = Threshold(10_000), Threshold(100_000)
    assert not response.is_met(9_999)
    assert response.is_met(10_000)
    assert not debate.is_met(99_999)
    assert debate.is_met(100_000)


def test_we_the_people_needs_100000_with_no_territory_condition():
    rule = Threshold(100_000)
    assert rule.is_met(100_000, regions=[])
    assert not rule.is_met(99_999, regions=[(99_999, 1)])


def _departements(with_signatures: int, each: int = 10) -> list[tuple[int, int]]:
    return [(each, 500_000)] * with_signatures


def test_french_national_assembly_needs_500000_from_at_least_30_departements():
    rule = Threshold(500_000, TerritoryRule("fr-departement", min_regions=30, min_signatures=1))
    assert rule.is_met(500_000, _departements(30))
    assert not rule.is_met(500_000, _departements(29))
    assert not rule.is_met(499_999, _departements(101))
    # A département counts from one signature; one without any is simply absent.
    assert not rule.is_met(500_000, [*_departements(29), (0, 600_000)])


# Rough populations (millions) of eight member states; the ECI minimum in each is
# proportional to population, expressed here as signatures per 100,000 inhabitants.
STATES = {"DE": 84, "FR": 68, "IT": 59, "ES": 48, "PL": 37, "NL": 18, "BE": 12, "MT": 0.5}


def _eci(counts: dict[str, int]) -> list[tuple[int, int]]:
    return [(counts[code], int(STATES[code] * 1_000_000)) for code in counts]


def test_european_citizens_initiative_needs_7_states_each_above_a_population_minimum():
    # About 72 signatures per 100,000 inhabitants (720 per MEP ≈ 0.07 % of the population).
    rule = Threshold(
        1_000_000, TerritoryRule("country", min_regions=7, min_signatures=72, per_100k=True)
    )
    above = {code: int(STATES[code] * 1_000_000 * 72 / 100_000) + 1 for code in STATES}
    assert rule.is_met(1_000_000, _eci(above))
    # Malta is small: 400 signatures there are enough, while 40,000 in Germany are not.
    six = {**above, "DE": 40_000, "FR": 10}
    assert not rule.is_met(1_000_000, _eci(six))
    assert not rule.is_met(999_999, _eci(above))


def test_a_per_capita_rule_cannot_count_a_region_of_unknown_population():
    rule = TerritoryRule("country", min_regions=1, min_signatures=1, per_100k=True)
    assert not rule.is_met([(1_000_000, None)])


def test_openpetition_style_quorum_in_one_target_region():
    rule = Threshold(1, TerritoryRule("de-land", min_regions=1, min_signatures=5_000))
    assert rule.is_met(6_000, [(5_000, 3_600_000)])
    assert not rule.is_met(6_000, [(4_999, 3_600_000), (1_001, 1_000_000)])


@pytest.mark.parametrize("per_100k", [True, False])
def test_territory_rules_survive_the_round_trip_through_json(per_100k):
    rule = TerritoryRule("fr-departement", 30, 10, per_100k)
    assert TerritoryRule.from_json(rule.to_json()) == rule
    assert TerritoryRule.from_json(None) is None
