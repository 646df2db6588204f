"""The agreement statistics against hand-computed and published textbook values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nciss.calibration import (
    agreement_matrix,
    average_ranks,
    krippendorff_alpha,
    spearman_rho,
    spearman_rho_from_matrix,
    weighted_kappa,
)

# Ten items rated by A (rows) and B (columns) on three ordered categories.
# Row shares p = (.4, .4, .2), column shares q = (.4, .3, .3); 7 of 10 on the diagonal.
HAND = [[3, 1, 0], [1, 2, 1], [0, 0, 2]]


def test_it_computes_unweighted_kappa_by_the_textbook_formula() -> None:
    # po = .7, pe = .4*.4 + .4*.3 + .2*.3 = .34, kappa = (.7 - .34) / (1 - .34) = 6/11
    assert weighted_kappa(HAND, "unweighted") == pytest.approx(6 / 11)


def test_it_computes_linearly_weighted_kappa_by_hand() -> None:
    # weights |i-j|/2; observed disagreement (.5 + .5 + .5)/10 = .15;
    # expected: .4*.3*.5 + .4*.3*1 + .4*.4*.5 + .4*.3*.5 + .2*.4*1 + .2*.3*.5 = .43
    assert weighted_kappa(HAND, "linear") == pytest.approx(1 - 0.15 / 0.43)


def test_it_computes_quadratically_weighted_kappa_by_hand() -> None:
    # weights (i-j)²/4; observed (.25 * 3)/10 = .075; expected .03 + .12 + .04 + .03 + .08 + .015 = .315
    assert weighted_kappa(HAND, "quadratic") == pytest.approx(1 - 0.075 / 0.315)


def test_it_gives_kappa_one_for_perfect_agreement_and_nan_when_chance_explains_all() -> None:
    assert weighted_kappa([[5, 0], [0, 5]], "linear") == 1.0
    assert math.isnan(weighted_kappa([[7, 0], [0, 0]], "quadratic"))


def test_it_refuses_kappa_without_a_common_category_set() -> None:
    with pytest.raises(ValueError, match="square"):
        weighted_kappa([[1, 2, 3], [4, 5, 6]])


def test_it_builds_the_agreement_matrix_from_two_ratings() -> None:
    a = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    b = [0, 0, 0, 1, 0, 1, 1, 2, 2, 2]
    assert agreement_matrix(a, b, 3, 3).tolist() == HAND


def test_it_ranks_ties_at_their_average_rank() -> None:
    assert average_ranks([10, 20, 20, 30, 20]).tolist() == [1.0, 3.0, 3.0, 5.0, 3.0]


def test_it_computes_spearmans_rho_with_ties_by_hand() -> None:
    # ranks of a: 1, 2.5, 2.5, 4; of b: 1, 3, 2, 4; deviations (-1.5, 0, 0, 1.5) and (-1.5, .5, -.5, 1.5):
    # rho = 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10)
    assert spearman_rho([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(3 / math.sqrt(10))
    assert spearman_rho([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert math.isnan(spearman_rho([1, 1, 1], [1, 2, 3]))


def test_it_computes_rho_from_a_matrix_as_from_the_items() -> None:
    a = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]
    b = [0, 0, 0, 1, 0, 1, 1, 2, 2, 2]
    assert spearman_rho_from_matrix(np.array(HAND)) == pytest.approx(spearman_rho(a, b))


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", example C: 4 observers, 12 units,
# missing values; published: nominal 0.743, ordinal 0.815, interval 0.849.
KRIPPENDORFF = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
# The 3-coder, 15-unit example of the Wikipedia article: nominal 0.691, interval 0.811.
WIKIPEDIA = [
    [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
    [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
    [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
]


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)])
def test_it_reproduces_krippendorffs_own_example(level: str, expected: float) -> None:
    assert round(krippendorff_alpha(KRIPPENDORFF, level), 3) == expected


@pytest.mark.parametrize(("level", "expected"), [("nominal", 0.691358), ("interval", 0.810845)])
def test_it_reproduces_the_wikipedia_example(level: str, expected: float) -> None:
    assert round(krippendorff_alpha(WIKIPEDIA, level), 6) == expected


def test_it_orders_named_categories_as_told_for_ordinal_alpha() -> None:
    names = {1: "baseline", 2: "low", 3: "medium", 4: "high", 5: "severe"}
    named = [[None if v is None else names[v] for v in row] for row in KRIPPENDORFF]
    order = list(names.values())
    assert krippendorff_alpha(named, "ordinal", order) == pytest.approx(krippendorff_alpha(KRIPPENDORFF, "ordinal"))
    assert krippendorff_alpha(named, "nominal") == pytest.approx(krippendorff_alpha(KRIPPENDORFF, "nominal"))


def test_it_gives_alpha_one_for_perfect_agreement_and_nan_without_pairable_values() -> None:
    assert krippendorff_alpha([[1, 2, 3], [1, 2, 3]], "interval") == 1.0
    assert math.isnan(krippendorff_alpha([[1, None], [None, 2]]))
    assert math.isnan(krippendorff_alpha([[1, 1], [1, 1]]))
