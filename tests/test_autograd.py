"""chainrule.autograd: grad(), create_graph (second derivatives), hooks, retain_grad, anomaly mode, grad modes."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import Tensor

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _pair(array):
    """The same float64 values as a chainrule leaf and a torch leaf, both requiring grad."""
    return Tensor(array.copy(), requires_grad=True), torch.tensor(array.copy(), requires_grad=True)


def _close(ours, theirs, tol=1e-7):
    np.testing.assert_allclose(np.asarray(ours), theirs.detach().numpy(), rtol=tol, atol=tol)




# --------------------------------------------------------------------------------- grad()
def test_grad_returns_tensors_and_leaves_dot_grad_alone():
    x, tx = _pair(RNG.standard_normal((3, 4)))
    upstream = RNG.standard_normal((3, 4))
    (g,) = cr.grad(cr.tanh(x) * x, x, grad_outputs=Tensor(upstream))
    (tg,) = torch.autograd.grad(torch.tanh(tx) * tx, tx, grad_outputs=torch.tensor(upstream))
    assert isinstance(g, Tensor) and not g.requires_grad
    assert x.grad is None
    _close(g, tg)
    assert cr.autograd.grad is cr.grad


def test_grad_of_an_intermediate_and_several_outputs():
    x, tx = _pair(RNG.standard_normal(5))
    h, th = x * 2.0, tx * 2.0
    outs = [(h * h).sum(), h.exp().sum()]
    touts = [(th * th).sum(), th.exp().sum()]
    ours = cr.grad(outs, [h, x])
    theirs = torch.autograd.grad(touts, [th, tx])
    for a, b in zip(ours, theirs):
        _close(a, b)


def test_grad_unused_input():
    x, y = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        cr.grad((x * 2).sum(), [x, y])
    assert cr.grad((x * 2).sum(), [x, y], allow_unused=True)[1] is None
    np.testing.assert_array_equal(cr.grad((x * 2).sum(), [x, y], materialize_grads=True)[1], [0.0, 0.0])


def test_grad_of_a_non_scalar_needs_grad_outputs():
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(RuntimeError, match="single-element"):
        cr.grad(x * 2, x)


# ---------------------------------------------------------------- second derivatives
def _mlp(lib, x, params, act):
    w1, b1, w2, b2 = params
    if lib == "torch":
        return act(x @ w1.T + b1) @ w2.T + b2
    return cr.linear(act(cr.linear(x, w1, b1)), w2, b2)


def test_gradient_penalty_matches_torch():
    # WGAN-GP: ((|d D(x)/dx|₂ - 1)²).mean(), backpropagated to D's parameters
    arrays = [RNG.standard_normal(s) for s in [(6, 3), (6,), (1, 6), (1,)]]
    ours, theirs = zip(*(_pair(a) for a in arrays))
    x, tx = _pair(RNG.standard_normal((4, 3)))
    (g,) = cr.grad(_mlp("cr", x, ours, lambda z: cr.leaky_relu(z, 0.2)).sum(), x, create_graph=True)
    assert g.requires_grad
    gp = ((((g * g).sum(1)).sqrt() - 1) ** 2).mean()
    gp.backward()
    (tg,) = torch.autograd.grad(
        _mlp("torch", tx, theirs, lambda z: torch.nn.functional.leaky_relu(z, 0.2)).sum(), tx, create_graph=True
    )
    tgp = ((tg.norm(2, dim=1) - 1) ** 2).mean()
    tgp.backward()
    _close(gp, tgp)
    assert np.abs(np.asarray(ours[0].grad)).max() > 0
    for p, tp in [*zip(ours, theirs), (x, tx)]:  # None exactly where torch has None (b2), zeros where zeros
        assert (p.grad is None) == (tp.grad is None)
        if p.grad is not None:
            _close(p.grad, tp.grad)


def test_hessian_vector_product_of_a_tanh_mlp():
    arrays = [RNG.standard_normal((5, 3)), RNG.standard_normal((2, 5))]
    vectors = [RNG.standard_normal(a.shape) for a in arrays]
    x = RNG.standard_normal((4, 3))
    ours, theirs = zip(*(_pair(a) for a in arrays))
    loss = ((cr.tanh(Tensor(x) @ ours[0].T) @ ours[1].T) ** 2).mean()
    tloss = ((torch.tanh(torch.tensor(x) @ theirs[0].T) @ theirs[1].T) ** 2).mean()
    grads = cr.grad(loss, list(ours), create_graph=True)
    tgrads = torch.autograd.grad(tloss, list(theirs), create_graph=True)
    dot = sum((g * Tensor(v)).sum() for g, v in zip(grads, vectors))
    tdot = sum((g * torch.tensor(v)).sum() for g, v in zip(tgrads, vectors))
    for a, b in zip(cr.grad(dot, list(ours)), torch.autograd.grad(tdot, list(theirs))):
        _close(a, b)


UNARY = [
    ("exp", lambda m, x: m.exp(x)),
    ("log", lambda m, x: m.log(x * x + 1)),
    ("sqrt", lambda m, x: m.sqrt(x * x + 1)),
    ("sigmoid", lambda m, x: m.sigmoid(x)),
    ("tanh", lambda m, x: m.tanh(x)),
    ("softplus", lambda m, x: (cr.softplus(x, beta=2.0) if m is cr else torch.nn.functional.softplus(x, beta=2.0))),
    ("relu", lambda m, x: m.relu(x) * x),
    ("div", lambda m, x: x / (x * x + 2)),
    ("pow", lambda m, x: x**3),
    ("softmax", lambda m, x: (m.softmax(x, -1) if m is cr else torch.softmax(x, -1)) * x),
    ("log_softmax", lambda m, x: (m.log_softmax(x, -1) if m is cr else torch.log_softmax(x, -1)) * x),
    ("getitem", lambda m, x: x[:, [0, 2, 0]] ** 2),
    ("mean_reshape", lambda m, x: (x.reshape(6, 2) ** 3).mean(0)),
    ("permute_matmul", lambda m, x: x.permute(1, 0) @ (x * x)),
    ("broadcast", lambda m, x: (x * x.sum(0, keepdims=True) if m is cr else x * x.sum(0, keepdim=True))),
    ("mse", lambda m, x: (cr.mse_loss(x * x, x) if m is cr else torch.nn.functional.mse_loss(x * x, x))),
    ("concat_split", lambda m, x: (m.concat([x, x * x], 1) if m is cr else torch.cat([x, x * x], 1)) ** 2),
    ("stack", lambda m, x: m.stack([x, x.exp()], 0) * x),
    ("split", lambda m, x: (m.split(x * x, 2, 1)[1] if m is cr else torch.split(x * x, 2, 1)[1]) ** 2),
]


@pytest.mark.parametrize("name,fn", UNARY, ids=[u[0] for u in UNARY])
def test_second_derivatives_match_torch(name, fn):
    # d/dx of <v, d f(x)/dx · u>: every differentiable backward rule is itself differentiated
    x, tx = _pair(RNG.standard_normal((3, 4)))
    out, tout = fn(cr, x), fn(torch, tx)
    u = RNG.standard_normal(tout.shape)
    v = RNG.standard_normal((3, 4))
    (g,) = cr.grad(out, x, grad_outputs=Tensor(u), create_graph=True)
    (tg,) = torch.autograd.grad(tout, tx, grad_outputs=torch.tensor(u), create_graph=True)
    _close(g, tg)
    (g2,) = cr.grad((g * Tensor(v)).sum(), x)
    (tg2,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tx)
    _close(g2, tg2)


def test_second_derivative_of_abs():
    # f = |x|·x: f' = 2|x|, f'' = 2·sign(x) (torch's abs double backward takes seconds to warm up)
    x = Tensor(RNG.standard_normal(5), requires_grad=True)
    u, v = RNG.standard_normal(5), RNG.standard_normal(5)
    (g,) = cr.grad(cr.abs(x) * x, x, grad_outputs=Tensor(u), create_graph=True)
    np.testing.assert_allclose(np.asarray(g), 2 * np.abs(x.data) * u, rtol=1e-12)
    (g2,) = cr.grad((g * Tensor(v)).sum(), x)
    np.testing.assert_allclose(np.asarray(g2), 2 * np.sign(x.data) * u * v, rtol=1e-12)


CE_CASES = [
    ("plain", (4, 3), dict()),
    ("weights smoothing", (4, 3), dict(weight=np.array([0.5, 2.0, 1.0]), label_smoothing=0.1)),
    ("sum ignore", (4, 3), dict(reduction="sum", ignore_index=1)),
    ("none", (4, 3), dict(reduction="none")),
    ("spatial", (2, 3, 2), dict()),
    ("unbatched", (3,), dict()),
    ("probabilities", (4, 3), dict(probabilities=True)),
]


@pytest.mark.parametrize("name,shape,kwargs", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_second_derivatives_match_torch(name, shape, kwargs):
    kwargs = dict(kwargs)
    rng = np.random.default_rng(3)
    z, tz = _pair(rng.standard_normal(shape))
    if kwargs.pop("probabilities", False):
        target = rng.dirichlet(np.ones(shape[1]), shape[0])
        t_target = torch.tensor(target)
    else:
        n_classes = shape[0] if len(shape) == 1 else shape[1]
        target = rng.integers(0, n_classes, () if len(shape) == 1 else (shape[0], *shape[2:]))
        target = np.array(target)
        target.reshape(-1)[0] = 1  # so that ignore_index=1 ignores at least one sample
        t_target = torch.tensor(target)
    tkw = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kwargs.items()}
    loss = cr.cross_entropy(z * z, target, **kwargs)
    tloss = torch.nn.functional.cross_entropy(tz * tz, t_target, **tkw)
    u = rng.standard_normal(tuple(tloss.shape))
    (g,) = cr.grad(loss, z, grad_outputs=Tensor(u), create_graph=True)
    (tg,) = torch.autograd.grad(tloss, tz, grad_outputs=torch.tensor(u), create_graph=True)
    _close(g, tg)
    v = rng.standard_normal(shape)
    (g2,) = cr.grad((g * Tensor(v)).sum(), z)
    (tg2,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), tz)
    _close(g2, tg2)


@pytest.mark.filterwarnings("ignore:Using backward")  # torch's note on the reference cycle
def test_backward_with_create_graph_leaves_a_differentiable_grad():
    x, tx = _pair(np.array([0.3, -1.2, 2.0]))
    (x.exp() * x * x).sum().backward(create_graph=True)
    (tx.exp() * tx * tx).sum().backward(create_graph=True)
    g, tg = x.grad, tx.grad
    assert g.requires_grad
    x.grad, tx.grad = None, None
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    _close(x.grad, tx.grad)


def test_op_without_a_differentiable_backward_says_so():
    x = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="double backward is not implemented for 'ctc_loss'"):
        log_probs = cr.log_softmax(x.reshape(3, 1, 2), -1)
        cr.grad(cr.nn.functional.ctc_loss(log_probs, np.array([[1]]), [3], [1]), x, create_graph=True)


# ------------------------------------------------------------------------ hooks
def test_hooks_on_leaves_and_non_leaves_match_torch():
    x, tx = _pair(RNG.standard_normal(4))
    seen = []
    h, th = x * 3.0, tx * 3.0
    handle = h.register_hook(lambda g: g * 2)
    th.register_hook(lambda g: g * 2)
    x.register_hook(lambda g: seen.append(np.asarray(g).copy()))
    tx.register_hook(lambda g: None)
    (h * h).sum().backward()
    (th * th).sum().backward()
    _close(x.grad, tx.grad)
    np.testing.assert_allclose(seen[0], np.asarray(x.grad))
    handle.remove()
    x.grad = None
    (x * 3.0 * (x * 3.0)).sum().backward()  # a new graph: the removed hook is gone anyway
    assert len(seen) == 2


def test_a_leaf_hook_can_replace_the_gradient_before_accumulation():
    x, tx = _pair(RNG.standard_normal(3))
    x.register_hook(lambda g: g * 3)
    tx.register_hook(lambda g: g * 3)
    for _ in range(2):  # the second backward accumulates the replaced gradient
        (x.exp() * x).sum().backward()
        (tx.exp() * tx).sum().backward()
    _close(x.grad, tx.grad)


def test_retain_grad_keeps_a_non_leaf_gradient():
    x, tx = _pair(RNG.standard_normal(3))
    h, th = x.exp(), tx.exp()
    h.retain_grad()
    th.retain_grad()
    assert h.retains_grad
    (h * x).sum().backward()
    (th * tx).sum().backward()
    _close(h.grad, th.grad)
    _close(x.grad, tx.grad)


# ---------------------------------------------------------------------- anomaly mode
def test_detect_anomaly_names_the_op():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    y = cr.sqrt(x).sum()  # d sqrt/dx at 0 is inf
    with cr.autograd.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError, match="'sqrt' returned inf"):
            y.backward()
    assert not cr.autograd.is_anomaly_enabled()
    with np.errstate(divide="ignore"):
        cr.sqrt(x).sum().backward()  # outside: no check, as PyTorch
    assert np.isinf(np.asarray(x.grad)[0])


def test_set_detect_anomaly_switches_now_and_restores_as_a_context():
    with cr.autograd.set_detect_anomaly(True):
        assert cr.autograd.is_anomaly_enabled()
    assert not cr.autograd.is_anomaly_enabled()


# ------------------------------------------------------------------------ grad modes
def test_set_grad_enabled_and_inference_mode():
    x = Tensor(np.ones(2), requires_grad=True)
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    with cr.inference_mode():
        assert not (x * 2).requires_grad
    cr.set_grad_enabled(False)
    try:
        assert not cr.is_grad_enabled()
    finally:
        cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()


def test_the_fast_path_returns_when_tensors_with_hooks_are_gone():
    from chainrule.function import _special

    before = _special.count
    h = Tensor(np.ones(2), requires_grad=True) * 2
    h.retain_grad()
    h.register_hook(lambda g: None)
    assert _special.count == before + 1
    del h
    assert _special.count == before


def test_maml_style_inner_step_matches_torch():
    # one inner SGD step with create_graph, then the outer loss differentiated back through it
    rng = np.random.default_rng(4)
    w, tw = _pair(rng.standard_normal((2, 3)))
    x_in, y_in = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    x_out, y_out = rng.standard_normal((4, 3)), rng.integers(0, 2, 4)
    (g,) = cr.grad(cr.cross_entropy(cr.tanh(Tensor(x_in) @ w.T), y_in), w, create_graph=True)
    fast = w - 0.5 * g
    cr.cross_entropy(Tensor(x_out) @ fast.T, y_out).backward()
    (tg,) = torch.autograd.grad(
        torch.nn.functional.cross_entropy(torch.tanh(torch.tensor(x_in) @ tw.T), torch.tensor(y_in)), tw,
        create_graph=True,
    )
    torch.nn.functional.cross_entropy(torch.tensor(x_out) @ (tw - 0.5 * tg).T, torch.tensor(y_out)).backward()
    _close(w.grad, tw.grad)


def test_grad_fn_and_new_tensors():
    x = Tensor(np.ones(2, np.float32), requires_grad=True)
    assert x.grad_fn is None and (x * 2).grad_fn.name() == "mul"
    z = x.new_zeros(3)
    assert z.dtype == cr.float32 and z.shape == (3,) and x.new_full((2,), 7).tolist() == [7.0, 7.0]
    assert x.new_ones((1, 2)).shape == (1, 2) and x.new_tensor([1, 2]).dtype == cr.float32


def test_backward_inputs_accumulates_only_into_those():
    x, tx = _pair(RNG.standard_normal(3))
    y, ty = _pair(RNG.standard_normal(3))
    (x * y).sum().backward(inputs=[y])
    (tx * ty).sum().backward(inputs=[ty])
    assert x.grad is None and tx.grad is None
    _close(y.grad, ty.grad)


def test_set_grad_enabled_as_a_decorator():
    x = Tensor(np.ones(2), requires_grad=True)

    @cr.set_grad_enabled(False)
    def double(t):
        return t * 2

    assert cr.is_grad_enabled()  # decorating changes nothing outside the calls
    assert not double(x).requires_grad and cr.is_grad_enabled()
