"""Compiled LSTM and GRU step kernels (chainrule/ops/recurrent_kernels.py): the tanh they use, and that the
ops give the same outputs and gradients with them as with their NumPy paths."""

import math

import numpy as np
import pytest

from chainrule import Tensor, no_grad
from chainrule.ops import compiled, recurrent_kernels
from chainrule.ops.recurrent import gru, lstm


def _continued_fraction_tanh(x, depth):
    d = 2 * depth + 1.0
    for k in range(depth, 0, -1):
        d = (2 * k - 1) + x * x / d
    return x / d


def test_tanh_coefficients_are_the_continued_fraction():
    P, Q = recurrent_kernels._tanh_coefficients()
    assert Q[0] == 1.0
    for x in np.linspace(-9, 9, 37):
        z = x * x
        rational = x * sum(c * z**k for k, c in enumerate(P)) / sum(c * z**k for k, c in enumerate(Q))
        assert rational == pytest.approx(_continued_fraction_tanh(x, recurrent_kernels.TANH_DEPTH), rel=1e-12, abs=1e-15)
        assert rational == pytest.approx(math.tanh(x), abs=1e-7)  # the cut is deep enough


def _float32_kernels_or_skip(cell):
    """``recurrent_kernels.lstm`` or ``.gru`` for float32; the test is skipped where they are unavailable."""
    pytest.importorskip("numba")
    found = getattr(recurrent_kernels, cell)(np.float32)
    if found is None:
        pytest.skip("the compiled kernels are turned off (CHAINRULE_NUMBA=0)")
    return found


@pytest.fixture
def kernels():
    return _float32_kernels_or_skip("lstm")


def test_compiled_gates_are_within_the_stated_error(kernels):
    """The gates of the compiled forward step against float64 σ and tanh, over and beyond [-9, 9]."""
    forward, _ = kernels
    H, B = 64, 32
    x = np.concatenate([np.linspace(-12, 12, 200_000), [-1e30, -50.0, 0.0, 1e-30, 50.0, 1e30]])
    x = np.resize(x, (-(-x.size // (H * B))) * H * B).astype(np.float32).reshape(-1, H, B)
    for block in x:
        a = np.stack([block * 0.5, block * 0.5, block * 0.5, block])  # sigmoid gates take A/2
        c_prev = np.zeros((H, B), np.float32)
        out = [np.empty((H, B), np.float32) for _ in range(3)]
        forward(a, c_prev, *out, np.empty((4, H, B), np.float32), np.empty((H, B), np.float32), True)
        exact = block.astype(np.float64)
        sigmoid = 0.5 + 0.5 * np.tanh(exact / 2)
        assert np.abs(a[3] - np.tanh(exact)).max() <= 4e-7
        assert np.abs(a[0] - sigmoid).max() <= 4e-7
        assert np.abs(a).max() <= 1.0


def _fused_and_numpy(monkeypatch, run):
    results = []
    for enabled in (True, False):
        monkeypatch.setattr(compiled, "ENABLED", enabled)
        results.append(run())
    return results


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [6, 2, 5, 1, 6]])
@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_with_kernels_matches_numpy_path(kernels, monkeypatch, reverse, lengths, batch_first):
    T, B, I, H = 6, 5, 4, 7
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal((B, T, I) if batch_first else (T, B, I)),
              rng.standard_normal((4 * H, I)), rng.standard_normal((4 * H, H)),
              rng.standard_normal(4 * H) * 0.3, rng.standard_normal(4 * H) * 0.3,
              rng.standard_normal((B, H)), rng.standard_normal((B, H))]
    arrays = [a.astype(np.float32) for a in arrays]
    weights = [rng.standard_normal(s).astype(np.float32) for s in [(B, T, H) if batch_first else (T, B, H),
                                                                     (B, H), (B, H)]]

    def run():
        tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        outs = lstm(*tensors, lengths=lengths, reverse=reverse, batch_first=batch_first)
        sum((o * Tensor(w)).sum() for o, w in zip(outs, weights)).backward()
        with no_grad():
            inference = lstm(*arrays, lengths=lengths, reverse=reverse, batch_first=batch_first)
        return [o.data for o in outs] + [o.data for o in inference] + [t.grad for t in tensors]

    fused, plain = _fused_and_numpy(monkeypatch, run)
    for name, a, b in zip(["output", "h_n", "c_n"] * 2 + ["x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0"],
                          fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6, err_msg=name)


@pytest.fixture
def gru_kernels():
    return _float32_kernels_or_skip("gru")


@pytest.mark.parametrize("with_biases", [True, False])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [6, 2, 5, 1, 6]])
@pytest.mark.parametrize("batch_first", [False, True])
def test_gru_with_kernels_matches_numpy_path(gru_kernels, monkeypatch, with_biases, reverse, lengths, batch_first):
    T, B, I, H = 6, 5, 4, 7
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((B, T, I) if batch_first else (T, B, I)),
              rng.standard_normal((3 * H, I)), rng.standard_normal((3 * H, H)),
              rng.standard_normal(3 * H) * 0.3, rng.standard_normal(3 * H) * 0.3, rng.standard_normal((B, H))]
    arrays = [a.astype(np.float32) for a in arrays]
    if not with_biases:
        arrays[3] = arrays[4] = None
    weights = [rng.standard_normal(s).astype(np.float32) for s in [(B, T, H) if batch_first else (T, B, H), (B, H)]]

    def run():
        tensors = [None if a is None else Tensor(a.copy(), requires_grad=True) for a in arrays]
        outs = gru(*tensors, lengths=lengths, reverse=reverse, batch_first=batch_first)
        sum((o * Tensor(w)).sum() for o, w in zip(outs, weights)).backward()
        with no_grad():
            inference = gru(*arrays, lengths=lengths, reverse=reverse, batch_first=batch_first)
        return [o.data for o in outs] + [o.data for o in inference] + [None if t is None else t.grad for t in tensors]

    fused, plain = _fused_and_numpy(monkeypatch, run)
    for name, a, b in zip(["output", "h_n"] * 2 + ["x", "w_ih", "w_hh", "b_ih", "b_hh", "h0"], fused, plain):
        if b is None:
            assert a is None, name
            continue
        # the weight gradients sum T·B products of O(1) terms: float32 rounding reaches a few 1e-6
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("op, gates, kernels", [(lstm, 4, "lstm"), (gru, 3, "gru")])
def test_float64_never_uses_the_kernels(monkeypatch, op, gates, kernels):
    """The kernels are float32 only: float64 (gradcheck's precision) stays on the exact NumPy path."""
    requested, load = [], compiled.load
    monkeypatch.setattr(compiled, "load", lambda name, *args, **kwargs: requested.append(name) or load(name, *args, **kwargs))
    arrays = [np.ones((2, 1, 1)), np.ones((gates, 1)), np.ones((gates, 1))]
    op(*arrays)
    assert f"_{kernels}_numba" not in requested
    op(*[a.astype(np.float32) for a in arrays])  # and the check sees a float32 call ask for them
    assert f"_{kernels}_numba" in requested


def test_turned_off_gives_none(monkeypatch):
    monkeypatch.setattr(compiled, "ENABLED", False)
    assert recurrent_kernels.lstm(np.float32) is None
    assert recurrent_kernels.gru(np.float32) is None


@pytest.mark.parametrize("op, gates, kernels, weight, nan_at", [
    (lstm, 4, "lstm", "w_ih", (1, 0)),  # the input gate of unit 1
    (gru, 3, "gru", "w_hh", (2, 1)),  # the update gate of unit 0
])
def test_nan_goes_through_as_on_the_numpy_path(monkeypatch, op, gates, kernels, weight, nan_at):
    """A NaN weight makes NaN outputs (so a diverged run shows in its loss), never clamped gates."""
    _float32_kernels_or_skip(kernels)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 2, 3)).astype(np.float32)
    weights = {"w_ih": rng.standard_normal((2 * gates, 3)).astype(np.float32),
               "w_hh": rng.standard_normal((2 * gates, 2)).astype(np.float32)}
    weights[weight][nan_at] = np.nan

    def run():
        return [o.data for o in op(x, weights["w_ih"], weights["w_hh"])]

    fused, plain = _fused_and_numpy(monkeypatch, run)
    for a, b in zip(fused, plain):
        assert np.isnan(b).any()
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
