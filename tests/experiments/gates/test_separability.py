"""The separability LP: its verdict on each gate against the known answer and a brute-force search over lines,
and the proof it returns (a separating line or a certificate) checked on gates, random point sets and a cube."""

import numpy as np
import pytest

from replab.experiments.gates.separability import separability
from tests.experiments.gates.test_run import KNOWN_SEPARABLE, TRUTH_TABLES, X, signs


def brute_force_separable(points, y):
    """Whether any line on a fine grid of directions and offsets puts the two classes strictly apart."""
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    offsets = np.linspace(-4, 4, 801)
    scores = points @ directions.T  # (points, directions)
    margins = signs(y)[:, None, None] * (scores[:, :, None] + offsets[None, None, :])
    return bool((margins > 1e-9).all(axis=0).any())


def assert_valid_proof(points, y, answer):
    """The LP's answer is a proof: a line that separates, or a λ that satisfies the alternative system."""
    s = signs(y)
    if answer.separable:
        assert answer.certificate is None
        assert np.all(s * (points @ np.array(answer.weights) + answer.bias) >= 1 - 1e-9)
    else:
        assert answer.weights is None and answer.bias is None
        lam = np.array(answer.certificate)
        assert np.all(lam >= -1e-12)
        assert lam.sum() == pytest.approx(1.0, abs=1e-9)
        np.testing.assert_allclose((lam * s) @ points, 0.0, atol=1e-9)
        assert (lam * s).sum() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("gate", list(TRUTH_TABLES))
def test_separability_verdict_matches_known_answer_and_brute_force(gate):
    y = np.array(TRUTH_TABLES[gate])
    answer = separability(X, y)
    assert answer.separable == (gate in KNOWN_SEPARABLE)
    assert answer.separable == brute_force_separable(X, y)
    assert_valid_proof(X, y, answer)


def test_xor_certificate_is_a_quarter_on_each_row():
    answer = separability(X, np.array(TRUTH_TABLES["XOR"]))
    np.testing.assert_allclose(answer.certificate, [0.25] * 4, atol=1e-9)


@pytest.mark.slow
def test_separability_proofs_hold_on_random_point_sets():
    rng = np.random.default_rng(0)
    outcomes = set()
    for _ in range(40):
        points = rng.normal(size=(6, 2))
        y = rng.integers(0, 2, size=6)
        answer = separability(points, y)
        assert_valid_proof(points, y, answer)
        if not answer.separable:  # the grid search can only miss lines, never invent them
            assert not brute_force_separable(points, y)
        outcomes.add(answer.separable)
    assert outcomes == {True, False}


def test_separability_in_three_dimensions():
    cube = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=float)
    parity = cube.sum(axis=1).astype(int) % 2
    majority = (cube.sum(axis=1) >= 2).astype(int)
    assert not separability(cube, parity).separable
    assert separability(cube, majority).separable
    assert_valid_proof(cube, parity, separability(cube, parity))
    assert_valid_proof(cube, majority, separability(cube, majority))
