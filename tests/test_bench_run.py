"""benchmarks.run's ratios to bare: paired by round, with their range."""

from __future__ import annotations

import pytest
from benchmarks.run import judged, paired, spread


def test_a_ratio_pairs_each_round_with_its_own_bare_run() -> None:
    # The host ran the second round twice as fast: its variant is at 0.5 of bare as the
    # first round's, where a ratio of medians would read (400 + 200) / (1000 + 500) = 0.4.
    assert paired([250, 500], [500, 1000]) == (0.5, 0.5, 0.5)
    assert paired([100, 300, 200], [400, 400, 400]) == (0.5, 0.25, 0.75)


def test_the_spread_is_shown_only_when_rounds_differ() -> None:
    assert spread((0.49, 0.49, 0.49)) == "0.49"
    assert spread((0.49, 0.45, 0.53)) == "0.49 (0.45-0.53)"


def test_rounds_that_do_not_pair_are_refused() -> None:
    with pytest.raises(ValueError, match="shorter"):
        paired([1.0, 2.0], [1.0])


def test_a_target_is_met_only_when_every_round_meets_it() -> None:
    assert judged((0.80, 0.76, 0.90), 0.75) == "met"
    assert judged((0.80, 0.65, 1.03), 0.75) == "NOT met in every round"
    assert judged((0.57, 0.54, 0.62), 0.75) == "NOT met"


def test_only_names_a_variant_by_its_end_with_a_dollar() -> None:
    import argparse

    from benchmarks.run import bare_needed, only

    options = argparse.Namespace(only="as shipped, memory$|leases on$")
    assert only(options, "scrapeshield as shipped, memory")
    assert only(options, "scrapeshield as shipped, memory, leases on")
    assert not only(options, "scrapeshield as shipped, memory, person mix")
    assert not only(options, "scrapeshield as shipped, memory, leases on, person mix")
    order = ["bare", "bare, person mix", "scrapeshield as shipped, memory, person mix"]
    assert bare_needed(options, "bare", [*order, "scrapeshield as shipped, memory"])
    assert not bare_needed(options, "bare, person mix", order)
