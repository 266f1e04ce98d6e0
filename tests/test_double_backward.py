"""Second derivatives (``cr.grad(..., create_graph=True)``) of every op with a differentiable backward rule,
against ``torch.autograd.grad`` in float64: for an op f with inputs x_i, the gradients
g_i = d(f(x)·w)/dx_i (w a non-uniform upstream gradient) and then the Hessian-vector products
d(Σ_i g_i·v_i)/dx_j."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import Tensor

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _hvp_check(ours, theirs, arrays, seed=0, atol=1e-7):
    """Compare f's gradients and Hessian-vector products with torch's, for float64 ``arrays`` (all differentiated)."""
    rng = np.random.default_rng(seed)
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    txs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    y, ty = ours(*xs), theirs(*txs)
    np.testing.assert_allclose(np.asarray(y.data), ty.detach().numpy(), rtol=1e-7, atol=atol)
    w = rng.standard_normal(ty.shape)
    grads = cr.grad((y * Tensor(w)).sum(), xs, create_graph=True, allow_unused=True)
    tgrads = torch.autograd.grad((ty * torch.tensor(w)).sum(), txs, create_graph=True, allow_unused=True)
    total, ttotal = 0, 0
    for g, tg, a in zip(grads, tgrads, arrays):
        if tg is None:
            assert g is None or not np.any(np.asarray(g.data))
            continue
        np.testing.assert_allclose(np.asarray(g.data), tg.detach().numpy(), rtol=1e-7, atol=atol)
        v = rng.standard_normal(a.shape)
        total = total + (g * Tensor(v)).sum()
        ttotal = ttotal + (tg * torch.tensor(v)).sum()
    if not isinstance(ttotal, torch.Tensor) or not ttotal.requires_grad:
        return
    second = cr.grad(total, xs, allow_unused=True)
    tsecond = torch.autograd.grad(ttotal, txs, allow_unused=True)
    for h, th in zip(second, tsecond):
        expected = np.zeros(1) if th is None else th.numpy()
        got = np.zeros(1) if h is None else np.asarray(h.data)
        np.testing.assert_allclose(got + 0 * expected, expected + 0 * got, rtol=1e-7, atol=atol)


def _normal(*shape, seed=1, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


# --------------------------------------------------------------------------------------- convolutions
CONV2D = [
    dict(),
    dict(stride=2, padding=1),
    dict(padding=(1, 2), dilation=(2, 1)),
    dict(padding="same"),
    dict(groups=2, stride=(1, 2)),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("kwargs", CONV2D)
@pytest.mark.parametrize("with_bias", [False, True])
def test_conv2d(kwargs, with_bias):
    # a tanh after the convolution, so that the second derivative is not zero along every path
    x, w, b = _normal(2, 4, 6, 5), _normal(4, 4 // kwargs.get("groups", 1), 3, 2, seed=2), _normal(4, seed=3)
    arrays = [x, w, b] if with_bias else [x, w]
    _hvp_check(lambda *t: cr.tanh(cr.conv2d(*t, **kwargs)), lambda *t: torch.tanh(F.conv2d(*t, **kwargs)), arrays)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1, output_padding=1), dict(groups=2, dilation=2)])
def test_conv_transpose2d(kwargs):
    x, w, b = _normal(2, 4, 4, 3), _normal(4, 2, 3, 2, seed=2), _normal(2 * kwargs.get("groups", 1), seed=3)
    _hvp_check(lambda *t: cr.tanh(cr.conv_transpose2d(*t, **kwargs)),
               lambda *t: torch.tanh(F.conv_transpose2d(*t, **kwargs)), [x, w, b])


@pytest.mark.parametrize("name, x_shape, w_shape, kwargs", [
    ("conv1d", (2, 2, 7), (3, 2, 3), dict(stride=2, padding=1)),
    ("conv_transpose1d", (2, 2, 5), (2, 3, 3), dict(stride=2)),
    ("conv3d", (1, 2, 4, 3, 4), (2, 2, 2, 2, 3), dict(padding=1)),
    ("conv_transpose3d", (1, 2, 3, 2, 3), (2, 2, 2, 2, 2), dict(stride=2)),
])
def test_conv_nd(name, x_shape, w_shape, kwargs):
    ours, theirs = getattr(cr.nn.functional, name), getattr(F, name)
    _hvp_check(lambda x, w: cr.tanh(ours(x, w, **kwargs)), lambda x, w: torch.tanh(theirs(x, w, **kwargs)),
               [_normal(*x_shape), _normal(*w_shape, seed=2)])


# ------------------------------------------------------------------------------------------ pooling
def _pooled(name, **kwargs):
    """(ours, torch's) x -> pool(x²)·x: the square and product make the second derivatives non-zero."""
    ours, theirs = getattr(cr.nn.functional, name), getattr(F, name)
    return (lambda x: ours(x * x, **kwargs) * ours(x, **kwargs),
            lambda x: theirs(x * x, **kwargs) * theirs(x, **kwargs))


POOLS = [
    ("max_pool2d", (2, 2, 6, 5), dict(kernel_size=2)),
    ("max_pool2d", (2, 2, 6, 5), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", (1, 2, 6, 6), dict(kernel_size=2, dilation=2, ceil_mode=True)),
    ("max_pool1d", (2, 3, 7), dict(kernel_size=3, stride=2)),
    ("max_pool3d", (1, 2, 4, 4, 3), dict(kernel_size=2)),
    ("avg_pool2d", (2, 2, 6, 5), dict(kernel_size=2)),
    ("avg_pool2d", (2, 2, 6, 5), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", (2, 2, 6, 5), dict(kernel_size=2, ceil_mode=True)),
    ("avg_pool1d", (2, 3, 7), dict(kernel_size=3, stride=2)),
    ("avg_pool3d", (1, 2, 4, 4, 3), dict(kernel_size=2)),
    ("adaptive_avg_pool2d", (2, 2, 7, 5), dict(output_size=(3, 2))),
    ("adaptive_avg_pool1d", (2, 2, 7), dict(output_size=3)),
    ("adaptive_avg_pool3d", (1, 2, 5, 4, 3), dict(output_size=2)),
    ("adaptive_max_pool2d", (2, 2, 7, 5), dict(output_size=(3, 2))),
    ("adaptive_max_pool1d", (2, 2, 7), dict(output_size=3)),
    ("interpolate", (1, 2, 4, 3), dict(scale_factor=2, mode="bilinear", align_corners=False)),
    ("interpolate", (1, 2, 5), dict(size=8, mode="linear", align_corners=True)),
    ("interpolate", (1, 2, 3, 3), dict(scale_factor=2, mode="nearest")),
    ("unfold", (2, 2, 5, 4), dict(kernel_size=(2, 3), padding=1, stride=(2, 1))),
]


@pytest.mark.parametrize("name, shape, kwargs", POOLS)
def test_pooling(name, shape, kwargs):
    ours, theirs = _pooled(name, **kwargs)
    _hvp_check(ours, theirs, [_normal(*shape)])


def test_global_avg_pool2d_and_fold():
    x = _normal(2, 3, 4, 5)
    _hvp_check(lambda t: cr.ops.pooling.global_avg_pool2d(t * t) * cr.ops.pooling.global_avg_pool2d(t),
               lambda t: (t * t).mean((2, 3)) * t.mean((2, 3)), [x])
    cols = _normal(2, 2 * 4, 6)
    fold = dict(output_size=(3, 4), kernel_size=2)
    _hvp_check(lambda t: cr.nn.functional.fold(t * t, **fold) * cr.nn.functional.fold(t, **fold),
               lambda t: F.fold(t * t, **fold) * F.fold(t, **fold), [cols])


# -------------------------------------------------------------------------------------- activations
ACTIVATIONS = [
    ("elu", dict(alpha=0.7)), ("gelu", dict()), ("gelu", dict(approximate="tanh")), ("silu", dict()),
    ("mish", dict()), ("selu", dict()), ("celu", dict(alpha=1.3)), ("hardtanh", dict(min_val=-1.5, max_val=2.0)),
    ("relu6", dict()), ("hardswish", dict()), ("hardsigmoid", dict()), ("softsign", dict()), ("logsigmoid", dict()),
    ("tanhshrink", dict()), ("softshrink", dict(lambd=0.4)), ("hardshrink", dict(lambd=0.4)),
    ("threshold", dict(threshold=0.3, value=-1.0)), ("softmin", dict(dim=1)), ("glu", dict(dim=1)),
    ("relu", dict()), ("leaky_relu", dict(negative_slope=0.1)), ("sigmoid", dict()), ("tanh", dict()),
    ("softplus", dict(beta=2.0)), ("softmax", dict(dim=1)), ("log_softmax", dict(dim=0)),
]


# where torch has no double backward of its own: the same function composed of ops that have one
_TORCH_COMPOSED = {"hardsigmoid": lambda t: F.hardtanh(t / 6 + 0.5, 0.0, 1.0)}


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS)
def test_activation(name, kwargs):
    ours, theirs = getattr(cr.nn.functional, name), _TORCH_COMPOSED.get(name, getattr(F, name, None))
    # times x: piecewise-linear activations get a non-zero second derivative
    x = _normal(3, 8, scale=2.5)
    half = slice(0, 4) if name == "glu" else slice(None)  # glu halves axis 1
    _hvp_check(lambda t: ours(t, **kwargs) * t[:, half], lambda t: theirs(t, **kwargs) * t[:, half], [x])


@pytest.mark.parametrize("shape, weight", [((3, 4, 2), (4,)), ((3, 4), (1,)), ((5,), (1,))])
def test_prelu(shape, weight):
    x, w = _normal(*shape, scale=2), np.abs(_normal(*weight, seed=4)) * 0.3
    _hvp_check(lambda t, a: cr.nn.functional.prelu(t, a) * t * a.sum(), lambda t, a: F.prelu(t, a) * t * a.sum(),
               [x, w])


# -------------------------------------------------------------------------------------------- math
MATH = [
    ("frac", 1), ("reciprocal", 1), ("rsqrt", 0), ("square", 1), ("log2", 0), ("log10", 0), ("log1p", 0),
    ("expm1", 1), ("exp2", 1), ("sin", 1), ("cos", 1), ("tan", 2), ("asin", 2), ("acos", 2), ("atan", 1),
    ("sinh", 1), ("cosh", 1), ("asinh", 1), ("acosh", 3), ("atanh", 2), ("erf", 1), ("erfc", 1), ("erfinv", 2),
    ("lgamma", 0), ("digamma", 0), ("floor", 1), ("sign", 1), ("exp", 1), ("log", 0), ("sqrt", 0), ("abs", 1),
]
_DOMAINS = {0: lambda x: np.abs(x) + 0.3, 1: lambda x: x, 2: lambda x: np.tanh(x) * 0.9, 3: lambda x: np.abs(x) + 1.2}


@pytest.mark.parametrize("name, domain", MATH)
def test_math(name, domain):
    x = _DOMAINS[domain](_normal(3, 5))
    ours, theirs = getattr(cr, name), getattr(torch, name)
    _hvp_check(lambda t: ours(t) * t, lambda t: theirs(t) * t, [x])


@pytest.mark.parametrize("name", ["atan2", "remainder", "fmod", "fmax", "fmin", "maximum", "minimum", "pow", "div"])
def test_binary(name):
    a, b = _normal(3, 4) + 0.1, np.abs(_normal(4, seed=2)) + 0.5
    if name in ("remainder", "fmod"):
        a = a * 3
    ours, theirs = getattr(cr, name), getattr(torch, name)
    _hvp_check(lambda s, t: ours(s * s, t) * s * t, lambda s, t: theirs(s * s, t) * s * t, [a, b])


# -------------------------------------------------------------------------------------- reductions
REDUCTIONS = [
    ("var", lambda m, t: m.var(t, 1), lambda t: t.var(1)),
    ("var", lambda m, t: m.var(t, (0, 2), correction=0, keepdim=True),
     lambda t: t.var((0, 2), correction=0, keepdim=True)),
    ("std", lambda m, t: m.std(t, 2), lambda t: t.std(2)),
    ("std", lambda m, t: m.std(t), lambda t: t.std()),
    ("prod", lambda m, t: m.prod(t, 1), lambda t: t.prod(1)),
    ("logsumexp", lambda m, t: m.logsumexp(t, (1, 2)), lambda t: t.logsumexp((1, 2))),
    ("amax", lambda m, t: m.amax(t, 1), lambda t: t.amax(1)),
    ("amin", lambda m, t: m.amin(t, (0, 2), keepdim=True), lambda t: t.amin((0, 2), keepdim=True)),
    ("max", lambda m, t: m.max(t), lambda t: t.max()),
    ("max_dim", lambda m, t: m.max(t, 2)[0], lambda t: t.max(2)[0]),
    ("min_dim", lambda m, t: m.min(t, 1, keepdim=True)[0], lambda t: t.min(1, keepdim=True)[0]),
    ("median", lambda m, t: m.median(t), lambda t: t.median()),
    ("median_dim", lambda m, t: m.median(t, 1)[0], lambda t: t.median(1)[0]),
    ("cumsum", lambda m, t: m.cumsum(t, 1), lambda t: t.cumsum(1)),
    ("cumprod", lambda m, t: m.cumprod(t, 2), lambda t: t.cumprod(2)),
    ("norm", lambda m, t: m.linalg.vector_norm(t, 2, 1), lambda t: torch.linalg.vector_norm(t, 2, 1)),
    ("norm1", lambda m, t: m.linalg.vector_norm(t, 1, (0, 2)), lambda t: torch.linalg.vector_norm(t, 1, (0, 2))),
    ("norm3", lambda m, t: m.linalg.vector_norm(t, 3, 2, keepdim=True),
     lambda t: torch.linalg.vector_norm(t, 3, 2, keepdim=True)),
    ("norm_inf", lambda m, t: m.linalg.vector_norm(t, float("inf"), 1),
     lambda t: torch.linalg.vector_norm(t, float("inf"), 1)),
    ("norm", lambda m, t: m.norm(t), lambda t: t.norm()),
    ("matrix_norm", lambda m, t: m.linalg.matrix_norm(t, 1), lambda t: torch.linalg.matrix_norm(t, 1)),
    ("pairwise_distance", lambda m, t: m.nn.functional.pairwise_distance(t[0], t[1], 3.0),
     lambda t: F.pairwise_distance(t[0], t[1], 3.0)),
    ("cosine_similarity", lambda m, t: m.nn.functional.cosine_similarity(t[0], t[1]),
     lambda t: F.cosine_similarity(t[0], t[1])),
    ("normalize", lambda m, t: m.nn.functional.normalize(t, 2.5), lambda t: F.normalize(t, 2.5)),
]


@pytest.mark.parametrize("name, ours, theirs", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction(name, ours, theirs):
    x = _normal(2, 3, 4) + 0.1
    # squared, so that linear reductions (cumsum, max's routing) have a second derivative too
    _hvp_check(lambda t: ours(cr, t * t) * ours(cr, t), lambda t: theirs(t * t) * theirs(t), [x])


# ------------------------------------------------------------------------------------------- losses
def _probabilities(*shape, seed):
    return 1 / (1 + np.exp(-_normal(*shape, seed=seed)))


LOSSES = [
    ("l1_loss", dict(), "real"), ("l1_loss", dict(reduction="none"), "real"),
    ("huber_loss", dict(delta=0.8), "real"), ("smooth_l1_loss", dict(beta=0.5, reduction="sum"), "real"),
    ("mse_loss", dict(), "real"),
    ("binary_cross_entropy_with_logits", dict(), "prob"),
    ("binary_cross_entropy_with_logits", dict(pos_weight=torch.tensor([0.5, 2.0, 1.5]), reduction="sum"), "prob"),
    ("binary_cross_entropy", dict(), "prob"), ("binary_cross_entropy", dict(reduction="none"), "prob"),
    ("kl_div", dict(reduction="batchmean"), "prob"), ("kl_div", dict(log_target=True, reduction="sum"), "real"),
]


@pytest.mark.parametrize("name, kwargs, target", LOSSES)
def test_loss(name, kwargs, target):
    ours, theirs = getattr(cr.nn.functional, name), getattr(F, name)
    y = _probabilities(4, 3, seed=2) if target == "prob" else _normal(4, 3, seed=2)
    our_kwargs = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
    # the prediction made from x non-linearly (a probability for binary_cross_entropy); the target differentiated too
    if name == "binary_cross_entropy":
        ours_in, theirs_in = cr.sigmoid, torch.sigmoid
    else:
        ours_in = theirs_in = lambda t: t * t * 0.5 + t
    _hvp_check(lambda a, b: ours(ours_in(a), b, **our_kwargs), lambda a, b: theirs(theirs_in(a), b, **kwargs),
               [_normal(4, 3), y])


@pytest.mark.parametrize("kwargs", [dict(), dict(weight=np.array([0.3, 1.0, 2.0, 0.5]), reduction="sum"),
                                    dict(ignore_index=1, reduction="none")])
def test_nll_loss(kwargs):
    target = np.array([1, 0, 3, 2, 1])
    theirs_kwargs = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
    _hvp_check(lambda t: cr.nn.functional.nll_loss(cr.log_softmax(t * t, 1), target, **kwargs),
               lambda t: F.nll_loss(F.log_softmax(t * t, 1), torch.tensor(target), **theirs_kwargs),
               [_normal(5, 4)])


# ------------------------------------------------------------------------ indexing, einsum, rearranging
_INDEX = np.array([[0, 2, 1, 0], [2, 2, 0, 1], [1, 0, 0, 2]])
_ROWS = np.array([2, 0, 2])
_UNARY = [  # (name, f(module, t)) with module chainrule or torch
    ("gather", lambda m, t: m.gather(t, 1, _tensor(m, _INDEX[:, :3]))),
    ("index_select", lambda m, t: m.index_select(t, 0, _tensor(m, _ROWS))),
    ("take_along_dim", lambda m, t: m.take_along_dim(t, _tensor(m, _INDEX[:, :2]), 1)),
    ("masked_fill", lambda m, t: m.masked_fill(t, _tensor(m, _INDEX[:, :4] == 0), 0.5)),
    ("sort", lambda m, t: m.sort(t, 1)[0]),
    ("topk", lambda m, t: m.topk(t, 2, 1)[0]),
    ("getitem", lambda m, t: t[[0, 2, 2], 1:]),
    ("flip", lambda m, t: m.flip(t, (0, 1))),
    ("roll", lambda m, t: m.roll(t, (1, -2), (0, 1))),
    ("repeat", lambda m, t: t.repeat(2, 1, 2)),
    ("repeat_interleave", lambda m, t: m.repeat_interleave(t, _tensor(m, np.array([1, 3, 0, 2])), 1)),
    ("tril", lambda m, t: m.tril(t, -1)),
    ("triu", lambda m, t: m.triu(t, 1)),
    ("diagonal", lambda m, t: m.diagonal(t, 1)),
    ("diag", lambda m, t: m.diag(t[0])),
    ("trace", lambda m, t: m.trace(t)),
    ("max_unpool1d", lambda m, t: (cr.nn.functional if m is cr else F).max_unpool1d(
        t[None], _tensor(m, np.array([[[0, 3, 4, 7], [1, 2, 5, 6], [0, 2, 4, 6]]])), 2)),
    ("pixel_shuffle", lambda m, t: (cr.nn.functional if m is cr else F).pixel_shuffle(t.reshape(1, 4, 3, 1), 2)),
    ("pad", lambda m, t: (cr.nn.functional if m is cr else F).pad(t[None], (1, 2, -1, 1), value=0.3)),
    ("pad_reflect", lambda m, t: (cr.nn.functional if m is cr else F).pad(t[None], (2, 1), mode="reflect")),
    ("pad_circular", lambda m, t: (cr.nn.functional if m is cr else F).pad(t[None, None], (1, 2, 2, 0),
                                                                           mode="circular")),
]


def _tensor(module, array):
    return torch.tensor(array) if module is torch else Tensor(array)


@pytest.mark.parametrize("name, f", _UNARY, ids=[u[0] for u in _UNARY])
def test_linear_op(name, f):
    _hvp_check(lambda t: f(cr, t * t) * f(cr, t), lambda t: f(torch, t * t) * f(torch, t), [_normal(3, 4)])


_SCATTER_INDEX = np.array([[0, 2], [1, 1], [2, 0]])
_BINARY = [
    ("scatter", lambda m, a, b: m.scatter(a, 1, _tensor(m, np.array([[0, 2], [1, 3], [2, 0]])), b)),
    ("scatter_add", lambda m, a, b: m.scatter_add(a, 1, _tensor(m, _SCATTER_INDEX), b)),
    ("scatter_reduce_sum", lambda m, a, b: m.scatter_reduce(a, 1, _tensor(m, _SCATTER_INDEX), b, "sum")),
    ("scatter_reduce_mean", lambda m, a, b: m.scatter_reduce(a, 1, _tensor(m, _SCATTER_INDEX), b, "mean",
                                                             include_self=False)),
    ("scatter_reduce_amax", lambda m, a, b: m.scatter_reduce(a, 1, _tensor(m, _SCATTER_INDEX), b, "amax")),
    ("scatter_reduce_amin", lambda m, a, b: m.scatter_reduce(a, 1, _tensor(m, _SCATTER_INDEX), b, "amin",
                                                             include_self=False)),
    ("index_add", lambda m, a, b: m.index_add(a, 1, _tensor(m, np.array([3, 0])), b, alpha=1.5)),
    ("einsum", lambda m, a, b: m.einsum("ij,kj->ik", a, b)),
    ("einsum_sum", lambda m, a, b: m.einsum("ij,kl->ik", a, b)),
    ("einsum_batch", lambda m, a, b: m.einsum("...j,kj->...k", a, b)),
    ("cross", lambda m, a, b: m.cross(a[:, :3], b[:, :3], dim=1)),
    ("matmul", lambda m, a, b: a @ b.T),
    ("outer", lambda m, a, b: m.outer(a[0], b[1])),
]


@pytest.mark.parametrize("name, f", _BINARY, ids=[b[0] for b in _BINARY])
def test_linear_in_each(name, f):
    a, b = _normal(3, 4), _normal(3, 2, seed=2) if "scatter" in name or "index" in name else _normal(3, 4, seed=2)
    _hvp_check(lambda s, t: f(cr, s * s, t) * f(cr, s, t * t), lambda s, t: f(torch, s * s, t) * f(torch, s, t * t),
               [a, b])


# ------------------------------------------------------------------------------- end to end: WGAN-GP
def _critics():
    """The same tiny convolutional critic in chainrule and in torch (float64, equal weights)."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.LeakyReLU(0.2), torch.nn.AvgPool2d(2),
        torch.nn.Conv2d(4, 3, 2, stride=2), torch.nn.LeakyReLU(0.2), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(3, 1),
    ).double()
    nn = cr.nn
    ours = nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.AvgPool2d(2),
        nn.Conv2d(4, 3, 2, stride=2), nn.LeakyReLU(0.2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 1),
    ).double()
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        p.data = tp.detach().numpy().copy()
    return ours, theirs


def test_wgan_gp_conv_critic_matches_torch():
    ours, theirs = _critics()
    rng = np.random.default_rng(5)
    real, fake, eps = rng.standard_normal((3, 2, 8, 8)), rng.standard_normal((3, 2, 8, 8)), rng.random((3, 1, 1, 1))
    # the penalty: (‖∇D(x̂)‖₂ - 1)² at points x̂ between real and fake samples, its gradient kept as a graph
    mixed = Tensor(eps * real + (1 - eps) * fake, requires_grad=True)
    tmixed = torch.tensor(eps * real + (1 - eps) * fake, requires_grad=True)
    (g,) = cr.grad(ours(mixed).sum(), mixed, create_graph=True)
    (tg,) = torch.autograd.grad(theirs(tmixed).sum(), tmixed, create_graph=True)
    np.testing.assert_allclose(np.asarray(g.data), tg.detach().numpy(), rtol=1e-7, atol=1e-10)
    penalty = (((g * g).reshape(3, -1).sum(1).sqrt() - 1) ** 2).mean()
    tpenalty = ((tg.reshape(3, -1).norm(2, dim=1) - 1) ** 2).mean()
    loss = ours(Tensor(fake)).mean() - ours(Tensor(real)).mean() + 10 * penalty
    tloss = theirs(torch.tensor(fake)).mean() - theirs(torch.tensor(real)).mean() + 10 * tpenalty
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(float(loss.data), tloss.item(), rtol=1e-9)
    # every parameter's gradient (the penalty's part is a second derivative), and the mixed input's
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        assert p.ndim == 1 or np.abs(tp.grad.numpy()).max() > 0  # (the last bias cancels in D(fake) - D(real))
        np.testing.assert_allclose(np.asarray(p.grad), tp.grad.numpy(), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(np.asarray(mixed.grad), tmixed.grad.numpy(), rtol=1e-7, atol=1e-10)


# ------------------------------------------------------------------------------------ third order
THIRD = [
    ("conv2d", lambda m, x, w: m.tanh((cr if m is cr else F).conv2d(x, w, stride=2, padding=1))),
    ("conv_transpose2d",
     lambda m, x, w: m.tanh((cr if m is cr else F).conv_transpose2d(x, w.transpose(0, 1), stride=2))),
    ("max_pool_gather", lambda m, x, w: (cr.nn.functional if m is cr else F).max_pool2d(x * x, 2) * w.sum()
     + m.gather(x.reshape(2, -1), 1, _tensor(m, np.array([[3, 0, 1], [5, 5, 2]]))).sum() * w.mean()),
]


@pytest.mark.parametrize("name, f", THIRD, ids=[t[0] for t in THIRD])
def test_third_derivative(name, f):
    # d/dx of d/dW of (d/dx f·u)·v: every rule of linear_maps differentiated twice
    rng = np.random.default_rng(3)
    x, w = _normal(2, 2, 5, 4), _normal(3, 2, 3, 3, seed=2)
    results = []
    for m, grad, wrap in ((cr, cr.grad, Tensor), (torch, torch.autograd.grad, torch.tensor)):
        xt, wt = wrap(x, requires_grad=True), wrap(w, requires_grad=True)
        y = f(m, xt, wt)
        u = wrap(np.random.default_rng(4).standard_normal(tuple(y.shape)))
        (gx,) = grad((y * u).sum(), xt, create_graph=True)
        (gw,) = grad((gx * wrap(rng.standard_normal(x.shape))).sum(), wt, create_graph=True)
        (gxx,) = grad((gw * wrap(rng.standard_normal(w.shape))).sum(), xt)
        results.append([np.asarray(t.detach().numpy() if m is torch else t.data) for t in (gx, gw, gxx)])
        rng = np.random.default_rng(3)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-9)


_SIGNS = np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0], [1.0, 1.0, -1.0], [-1.0, 1.0, 1.0]])
MORE_LOSSES = [  # (name, f(a module's functional, prediction, second input))
    ("soft_margin_loss", lambda f, a, b: f.soft_margin_loss(a * b, _tensor_like(a, _SIGNS))),
    ("hinge_embedding_loss", lambda f, a, b: f.hinge_embedding_loss(a * b, _tensor_like(a, _SIGNS), 0.8)),
    ("margin_ranking_loss", lambda f, a, b: f.margin_ranking_loss(a, b * b, _tensor_like(a, _SIGNS), 0.2)),
    ("multilabel_soft_margin_loss", lambda f, a, b: f.multilabel_soft_margin_loss(
        a * b, _tensor_like(a, (_SIGNS > 0) * 1.0), reduction="none")),
    ("poisson_nll_loss", lambda f, a, b: f.poisson_nll_loss(a, b * b * 3, full=True)),
    ("poisson_nll_loss_probs", lambda f, a, b: f.poisson_nll_loss(a * a + 0.5, b, log_input=False)),
    ("gaussian_nll_loss", lambda f, a, b: f.gaussian_nll_loss(a, b, (a * b) ** 2 + 0.1)),
]


def _tensor_like(like, array):
    return torch.tensor(array) if isinstance(like, torch.Tensor) else Tensor(array)


@pytest.mark.parametrize("name, f", MORE_LOSSES, ids=[m[0] for m in MORE_LOSSES])
def test_more_losses(name, f):
    _hvp_check(lambda a, b: f(cr.nn.functional, a * a + a, b), lambda a, b: f(F, a * a + a, b),
               [_normal(4, 3), _normal(4, 3, seed=2)])


def test_float32_stays_float32():
    # a float32 model must never create float64 arrays: second derivatives included
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 2, 6, 6)).astype(np.float32), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), requires_grad=True)
    y = cr.nn.functional.max_pool2d(cr.nn.functional.gelu(cr.conv2d(x, w, padding=1)), 2)
    y = cr.nn.functional.elu(cr.avg_pool2d(y, 3, 1)).std() + cr.sin(y).var(1).logsumexp(0).mean()
    (g,) = cr.grad(y, x, create_graph=True)
    hx, hw = cr.grad(cr.linalg.vector_norm(g.reshape(2, -1), 2, 1).sum(), [x, w])
    assert g.dtype == hx.dtype == hw.dtype == np.float32


@pytest.mark.parametrize("kwargs, shape", [
    (dict(), (4, 3)), (dict(label_smoothing=0.2, weight=[0.5, 1.0, 2.0]), (2, 3, 2)), (dict(reduction="none"), (3,)),
])
def test_cross_entropy_with_a_probability_target(kwargs, shape):
    ours_kwargs = {k: (np.asarray(v) if isinstance(v, list) else v) for k, v in kwargs.items()}
    theirs_kwargs = {k: (torch.tensor(v) if isinstance(v, list) else v) for k, v in kwargs.items()}
    _hvp_check(lambda z, q: cr.nn.functional.cross_entropy(z * z, cr.softmax(q, 0), **ours_kwargs),
               lambda z, q: F.cross_entropy(z * z, torch.softmax(q, 0), **theirs_kwargs),
               [_normal(*shape), _normal(*shape, seed=2)])


# --------------------------------------------------------------------------- normalisations (composite rules)
_RUNNING = (np.random.default_rng(5).standard_normal(3), np.random.default_rng(6).random(3) + 0.5)
NORMS = [
    ("layer_norm", lambda F, x, w, b: F.layer_norm(x, (5,), w, b), [(4, 3, 5), (5,), (5,)]),
    ("batch_norm_train", lambda F, x, w, b: F.batch_norm(x, _running(F, 0), _running(F, 1), w, b, training=True),
     [(4, 3, 2, 2), (3,), (3,)]),
    ("batch_norm_eval", lambda F, x, w, b: F.batch_norm(x, _running(F, 0), _running(F, 1), w, b) ** 2,
     [(4, 3, 2), (3,), (3,)]),
    ("group_norm", lambda F, x, w, b: F.group_norm(x, 2, w, b), [(3, 4, 5), (4,), (4,)]),
    ("rms_norm", lambda F, x, w: F.rms_norm(x, (5,), w), [(4, 5), (5,)]),
]


def _running(F, which):
    """Running statistics for either library (a fresh copy: training mode updates them in place)."""
    array = _RUNNING[which].copy()
    return array if F.__name__.startswith("chainrule") else torch.tensor(array)


@pytest.mark.parametrize("name, call, shapes", NORMS, ids=[n[0] for n in NORMS])
def test_normalization(name, call, shapes):
    from chainrule.nn import functional as F

    arrays = [_normal(*shape, seed=i + 2) for i, shape in enumerate(shapes)]
    _hvp_check(lambda *t: call(F, *t), lambda *t: call(torch.nn.functional, *t), arrays)


# (not scale_grad_by_freq: torch's double backward of embedding ignores the scaling its first backward
# applies, so it is not the derivative of that backward; ours is, through the scaled adjoint)
@pytest.mark.parametrize("kwargs", [dict(), dict(padding_idx=1)])
def test_embedding(kwargs):
    from chainrule.nn import functional as F

    ids = np.array([[0, 1, 1], [3, 1, 2]])
    # squared so that the second derivative is not zero
    _hvp_check(lambda w: F.embedding(ids, w, **kwargs) ** 2,
               lambda w: torch.nn.functional.embedding(torch.tensor(ids), w, **kwargs) ** 2, [_normal(4, 3)])
