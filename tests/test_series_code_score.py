"""The SPE + T^2 series score: an in-span but unusual window, medians as units."""

from __future__ import annotations

import numpy as np

from aekit.analysis.series_code_score import CodeScore


def normal_codes(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    mixing = np.array([[2.0, 0.0, 0.0], [1.0, 0.5, 0.0], [0.0, 0.0, 0.1]])
    return rng.standard_normal((n, 3)) @ mixing, rng.gamma(2.0, 1.0, n)


def test_a_code_far_from_normal_codes_scores_high_at_a_normal_error():
    z, spe = normal_codes()
    fitted = CodeScore.fit(z, spe)
    typical = np.median(spe)
    # same reconstruction error; one code at the mean, one 5 sd out along the
    # thin third direction (small in Euclidean terms, large in Mahalanobis ones)
    codes = np.array([z.mean(0), z.mean(0) + [0.0, 0.0, 0.5]])
    scores = fitted.score(codes, np.full(2, typical))
    # T^2 = 5^2 = 25, in units of the chi^2(3) median (about 2.37)
    assert abs(scores[1] - (1.0 + 25 / fitted.t2_scale)) < 0.5
    assert scores[1] > 5 * scores[0]
    assert abs(scores[0] - 1.0) < 0.05  # SPE term 1, T^2 term about 0


def test_each_term_is_in_units_of_its_training_median():
    z, spe = normal_codes(seed=1)
    fitted = CodeScore.fit(z, spe)
    assert np.isclose(np.median(fitted.t2(z)), fitted.t2_scale)
    assert np.isclose(fitted.spe_scale, np.median(spe))
    # rescaling the errors (another unit) leaves the scores unchanged
    again = CodeScore.fit(z, 1000 * spe)
    assert np.allclose(again.score(z, 1000 * spe), fitted.score(z, spe))


def test_t2_is_the_mahalanobis_distance():
    z, spe = normal_codes(seed=2)
    fitted = CodeScore.fit(z, spe)
    cov = np.cov(z, rowvar=False, bias=True)
    d = z[:5] - z.mean(0)
    expected = np.einsum("nd,de,ne->n", d, np.linalg.inv(cov), d)
    assert np.allclose(fitted.t2(z[:5]), expected, rtol=1e-4)
