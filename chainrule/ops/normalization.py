"""Normalisation ops, fused: ``batch_norm``, ``layer_norm``, ``group_norm`` (and ``instance_norm``,
its one-channel-per-group case) and ``rms_norm`` with hand-written backward, and ``local_response_norm``.

Both compute, over some axes with n elements per group,
    x̂ = (x - μ) / σ,   σ = √(var + eps),   y = γ·x̂ + β
and share one backward. With the batch statistics μ and var depending on x,
    dL/dx = (γ/σ) · (g - mean(g) - x̂ · mean(g·x̂))          (means over the n elements)
    dL/dγ = Σ g·x̂,   dL/dβ = Σ g                            (sums over everything but γ's axes)
Written as chains of small ops this would take a dozen graph nodes and arrays per call;
fused it takes two reductions forward and two backward.
"""

import math

from ..backend import xp
from ..tensor import Tensor, as_tensor, result
from .linear_maps import composite_double

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "local_response_norm", "rms_norm"]


def _check_param(name, param, shape, op):
    if param is None:
        return None
    param = as_tensor(param)
    if param.shape != shape:
        raise ValueError(f"{op}: {name} must have shape {shape}, got {param.shape}")
    return param


def _buffer(array):
    return array.data if isinstance(array, Tensor) else array


def batch_norm(
    x, weight=None, bias=None, running_mean=None, running_var=None,
    training=True, momentum=0.1, eps=1e-5, axis=1,
):
    """Batch normalisation over every axis except the channel ``axis``.

    Parameters
    ----------
    x : Tensor
        (N, C), (N, C, L) or (N, C, H, W) with the default ``axis=1``; any layout whose
        channel axis is ``axis``.
    weight, bias : Tensor of shape (C,), optional
        γ and β (None: 1 and 0, not learned).
    running_mean, running_var : array of shape (C,), optional
        Running statistics. In training mode they are updated **in place**:
        ``r = (1 - momentum)·r + momentum·batch_stat``, with the unbiased variance
        (divided by n - 1), as PyTorch does. In evaluation mode they normalise the input.
    training : bool
        True: normalise with the batch's statistics. False: with the running ones.
    momentum : float
        Weight of the new batch in the running statistics.
    eps : float
        Added to the variance before the square root.
    axis : int
        The channel axis.
    """
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input needs a batch axis and a channel axis, got shape {x.shape}")
    axis = axis % x.ndim
    channels = x.shape[axis]
    axes = tuple(i for i in range(x.ndim) if i != axis)
    param_shape = tuple(channels if i == axis else 1 for i in range(x.ndim))  # broadcasts against x
    weight = _check_param("weight", weight, (channels,), "batch_norm")
    bias = _check_param("bias", bias, (channels,), "batch_norm")
    running_mean, running_var = _buffer(running_mean), _buffer(running_var)
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and stat.shape != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape {(channels,)}, got {stat.shape}")
    n = x.data.size // channels if channels else 0
    data = x.data
    gamma = None if weight is None else weight.data.reshape(param_shape)

    if training:
        if n <= 1:
            raise ValueError(
                f"batch_norm: training needs more than one value per channel to compute a variance, got input "
                f"shape {x.shape}; use a larger batch, or call eval() to normalise with the running statistics"
            )
        mean = data.mean(axis=axes, keepdims=True)
        xhat = data - mean
        var = (xhat * xhat).mean(axis=axes, keepdims=True)
        inv_std = 1.0 / xp.sqrt(var + eps)
        xhat *= inv_std  # centred -> normalised, in place on our own array
        out = xhat * gamma if gamma is not None else xhat.copy()
        if running_mean is not None:
            running_mean *= 1.0 - momentum
            running_mean += momentum * mean.reshape(channels)
        if running_var is not None:
            running_var *= 1.0 - momentum
            running_var += (momentum * n / (n - 1)) * var.reshape(channels)  # unbiased, like PyTorch
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode (training=False) needs running_mean and running_var")
        mean = running_mean.reshape(param_shape)
        inv_std = 1.0 / xp.sqrt(running_var.reshape(param_shape) + eps)
        xhat = None  # y = x·(γ/σ) + (β - μ·γ/σ): one pass over x; x̂ is recomputed in backward if needed
        scale = inv_std if gamma is None else gamma * inv_std
        out = data * scale
        out -= mean * scale
    if bias is not None:
        out += bias.data.reshape(param_shape)

    parents = tuple(t for t in (x, weight, bias) if t is not None)

    # training:  dL/dx = γ/σ · (g - mean(g) - x̂·mean(g·x̂))    (μ and σ depend on x)
    # eval:      dL/dx = γ/σ · g                              (running statistics are constants)
    # dL/dγ = Σ g·x̂,  dL/dβ = Σ g  over every axis but the channel axis
    def backward(g):
        need_gamma = weight is not None and weight.requires_grad
        normalized = xhat if training or not need_gamma else (data - mean) * inv_std
        sum_g = g.sum(axis=axes, keepdims=True) if training or (bias is not None and bias.requires_grad) else None
        sum_gx = (g * normalized).sum(axis=axes, keepdims=True) if need_gamma or (training and x.requires_grad) else None
        gx = None
        if x.requires_grad:
            scale = inv_std if gamma is None else gamma * inv_std
            if training:
                gx = (g - sum_g / n - xhat * (sum_gx / n)) * scale
            else:
                gx = g * scale
        grads = [gx]
        if weight is not None:
            grads.append(sum_gx.reshape(channels) if need_gamma else None)
        if bias is not None:
            grads.append(sum_g.reshape(channels) if bias.requires_grad else None)
        return tuple(grads)

    def composite(x, *params):  # the same normalisation in differentiable ops (for create_graph)
        w, b = _affine_params(weight, bias, params)
        if training:
            centred = x - x.mean(dim=axes, keepdim=True)
            xn = centred / ((centred * centred).mean(dim=axes, keepdim=True) + eps).sqrt()
        else:  # the running statistics are constants
            xn = (x - Tensor(mean)) * Tensor(inv_std)
        return _scaled(xn, w, b, param_shape)

    return result(out, parents, backward, "batch_norm", composite_double(composite, parents))


def _affine_params(weight, bias, params):
    """(γ, β) among a composite's extra arguments, which hold the ones that are not None, in that order."""
    params = list(params)
    w = params.pop(0) if weight is not None else None
    b = params.pop(0) if bias is not None else None
    return w, b


def _scaled(xn, w, b, shape=None):
    """γ·x̂ + β on Tensors, γ and β reshaped to ``shape`` (they broadcast against x̂)."""
    if w is not None:
        xn = xn * (w.reshape(shape) if shape is not None else w)
    if b is not None:
        xn = xn + (b.reshape(shape) if shape is not None else b)
    return xn


def _normalized_input_grad(gh, xhat, inv_std):
    """dL/dx of x̂ = (x - μ)/σ with μ, σ over the last axis of the (groups, n) arrays, given
    ĝ = dL/dx̂:  (1/σ)·(ĝ - mean(ĝ) - x̂·mean(ĝ·x̂))  (shared by layer_norm and group_norm)."""
    mean_gh = gh.mean(axis=1, keepdims=True)
    mean_ghx = (gh * xhat).mean(axis=1, keepdims=True)
    return (gh - mean_gh - xhat * mean_ghx) * inv_std


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the last ``len(normalized_shape)`` axes of ``x``.

    Parameters
    ----------
    x : Tensor of shape (..., *normalized_shape)
    normalized_shape : int or tuple of int
    weight, bias : Tensor of shape ``normalized_shape``, optional
        Element-wise γ and β.
    eps : float
        Added to the variance before the square root.
    """
    x = as_tensor(x)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or x.shape[x.ndim - k :] != normalized_shape or x.ndim < k:
        raise ValueError(
            f"layer_norm: input shape {x.shape} must end with normalized_shape {normalized_shape}"
        )
    weight = _check_param("weight", weight, normalized_shape, "layer_norm")
    bias = _check_param("bias", bias, normalized_shape, "layer_norm")
    d = 1
    for size in normalized_shape:
        d *= size
    data = x.data.reshape(-1, d)  # (groups, d): every row is normalised on its own

    mean = data.mean(axis=1, keepdims=True)
    xhat = data - mean
    var = (xhat * xhat).mean(axis=1, keepdims=True)
    inv_std = 1.0 / xp.sqrt(var + eps)
    xhat *= inv_std
    gamma = None if weight is None else weight.data.reshape(d)
    out = xhat * gamma if gamma is not None else xhat.copy()
    if bias is not None:
        out += bias.data.reshape(d)
    out = out.reshape(x.shape)
    parents = tuple(t for t in (x, weight, bias) if t is not None)

    # dL/dx = (1/σ) · (ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)),  ĝ = γ·g, means over the normalised axes
    # dL/dγ = Σ g·x̂,  dL/dβ = Σ g  over the leading axes
    def backward(g):
        g2 = g.reshape(-1, d)
        grads = []
        if x.requires_grad:
            gh = g2 * gamma if gamma is not None else g2
            grads.append(_normalized_input_grad(gh, xhat, inv_std).reshape(x.shape))
        else:
            grads.append(None)
        if weight is not None:
            grads.append((g2 * xhat).sum(axis=0).reshape(normalized_shape) if weight.requires_grad else None)
        if bias is not None:
            grads.append(g2.sum(axis=0).reshape(normalized_shape) if bias.requires_grad else None)
        return tuple(grads)

    def composite(x, *params):  # the same normalisation in differentiable ops (for create_graph)
        w, b = _affine_params(weight, bias, params)
        dims = tuple(range(x.ndim - k, x.ndim))
        centred = x - x.mean(dim=dims, keepdim=True)
        return _scaled(centred / ((centred * centred).mean(dim=dims, keepdim=True) + eps).sqrt(), w, b)

    return result(out, parents, backward, "layer_norm", composite_double(composite, parents))


def _channel_shape(x):
    """The shape (1, C, 1, ...) that broadcasts a per-channel vector against ``x`` (N, C, *)."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation: the C channels of each sample in ``num_groups`` groups, each group
    normalised over its channels and positions, then a per-channel γ·x̂ + β.

    Parameters
    ----------
    x : Tensor of shape (N, C, *)
    num_groups : int
        Dividing C. ``num_groups = C`` is instance normalisation, ``1`` layer normalisation over (C, *).
    weight, bias : Tensor of shape (C,), optional
    eps : float
    """
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"group_norm: input must have shape (N, C, *), got {x.shape}")
    N, C = x.shape[:2]
    if not isinstance(num_groups, int) or num_groups < 1 or C % num_groups:
        raise ValueError(f"group_norm: num_groups must be a positive int dividing the {C} channels, got {num_groups!r}")
    weight = _check_param("weight", weight, (C,), "group_norm")
    bias = _check_param("bias", bias, (C,), "group_norm")
    shape = _channel_shape(x)
    data = x.data.reshape(N * num_groups, -1)  # (groups, n): every row is normalised on its own
    mean = data.mean(axis=1, keepdims=True)
    xhat = data - mean
    var = (xhat * xhat).mean(axis=1, keepdims=True)
    inv_std = 1.0 / xp.sqrt(var + eps)
    xhat *= inv_std
    gamma = None if weight is None else weight.data.reshape(shape)
    out = xhat.reshape(x.shape)
    out = out * gamma if gamma is not None else out.copy()
    if bias is not None:
        out += bias.data.reshape(shape)
    parents = tuple(t for t in (x, weight, bias) if t is not None)
    axes = (0,) + tuple(range(2, x.ndim))

    # dL/dx = (1/σ)·(ĝ - mean(ĝ) - x̂·mean(ĝ·x̂)), ĝ = γ_c·g, means over each group
    # dL/dγ_c = Σ g·x̂,  dL/dβ_c = Σ g  over the samples and positions of channel c
    def backward(g):
        grads = []
        if x.requires_grad:
            gh = g * gamma if gamma is not None else g
            grads.append(_normalized_input_grad(gh.reshape(N * num_groups, -1), xhat, inv_std).reshape(x.shape))
        else:
            grads.append(None)
        if weight is not None:
            grads.append((g * xhat.reshape(x.shape)).sum(axis=axes) if weight.requires_grad else None)
        if bias is not None:
            grads.append(g.sum(axis=axes) if bias.requires_grad else None)
        return tuple(grads)

    def composite(x, *params):  # the same normalisation in differentiable ops (for create_graph)
        w, b = _affine_params(weight, bias, params)
        rows = x.reshape(N * num_groups, -1)
        centred = rows - rows.mean(dim=1, keepdim=True)
        xn = (centred / ((centred * centred).mean(dim=1, keepdim=True) + eps).sqrt()).reshape(x.shape)
        return _scaled(xn, w, b, shape)

    return result(out, parents, backward, "group_norm", composite_double(composite, parents))


def instance_norm(
    x, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-5,
):
    """Instance normalisation: each channel of each sample normalised over its positions (PyTorch's signature).

    Parameters
    ----------
    x : Tensor of shape (N, C, *)
    running_mean, running_var : array of shape (C,), optional
        With ``use_input_stats`` they are updated in place with the instances' statistics averaged
        over the batch, ``r = (1 - momentum)·r + momentum·mean_n(stat)`` (unbiased variance, as PyTorch);
        without it they normalise the input (as ``batch_norm`` in evaluation mode).
    weight, bias : Tensor of shape (C,), optional
    use_input_stats : bool
    """
    x = as_tensor(x)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: input must have shape (N, C, *) with positions, got {x.shape}")
    if not use_input_stats:
        return batch_norm(x, weight, bias, running_mean, running_var, training=False, eps=eps, axis=1)
    N, C = x.shape[:2]
    running_mean, running_var = _buffer(running_mean), _buffer(running_var)
    if running_mean is not None or running_var is not None:
        per_instance = x.data.reshape(N, C, -1)
        n = per_instance.shape[2]
        if running_mean is not None:
            running_mean *= 1.0 - momentum
            running_mean += momentum * per_instance.mean(axis=2).mean(axis=0)
        if running_var is not None:
            if n <= 1:
                raise ValueError(f"instance_norm: needs more than one position per channel, got input shape {x.shape}")
            running_var *= 1.0 - momentum
            running_var += momentum * per_instance.var(axis=2, ddof=1).mean(axis=0)
    return group_norm(x, C, weight, bias, eps)


def _window_sum(a, before, after):
    """Along axis 1: out[:, c] = Σ a[:, c'] for c' from c - before to c + after (zero outside)."""
    out = a.copy()
    C = a.shape[1]
    for d in range(1, before + 1):
        if d < C:
            out[:, d:] += a[:, : C - d]
    for d in range(1, after + 1):
        if d < C:
            out[:, : C - d] += a[:, d:]
    return out


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels (AlexNet), as PyTorch:
    y_c = x_c / s_c^β,  s_c = k + (α/size)·Σ x_c'² over the channels c' from c - size//2 to c + (size-1)//2.

    x : Tensor of shape (N, C, *)
    """
    x = as_tensor(x)
    if x.ndim < 3:
        raise ValueError(f"local_response_norm: input must have shape (N, C, *) with at least 3 axes, got {x.shape}")
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"local_response_norm: size must be a positive int, got {size!r}")
    before, after = size // 2, (size - 1) // 2
    data = x.data
    s = _window_sum(data * data, before, after)
    s *= alpha / size
    s += k
    s_pow = s ** -beta
    out = data * s_pow

    # dL/dx_j = g_j·s_j^-β - (2αβ/size)·x_j·Σ_{c: j in window(c)} g_c·x_c·s_c^(-β-1)
    # (j is in c's window when c runs from j - (size-1)//2 to j + size//2: the window reflected)
    def backward(g):
        inner = g * data * s_pow / s
        return (g * s_pow - (2 * alpha * beta / size) * data * _window_sum(inner, after, before),)

    return result(out, (x,), backward, "local_response_norm")


def rms_norm(x, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the last ``len(normalized_shape)`` axes (PyTorch's ``rms_norm``):
    y = x / √(mean(x²) + eps) · γ, with ``eps`` the dtype's machine epsilon when None.

    x : Tensor of shape (..., *normalized_shape);  weight : Tensor of shape ``normalized_shape``, optional.
    """
    x = as_tensor(x)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k :] != normalized_shape:
        raise ValueError(f"rms_norm: input shape {x.shape} must end with normalized_shape {normalized_shape}")
    weight = _check_param("weight", weight, normalized_shape, "rms_norm")
    if eps is None:
        eps = float(xp.finfo(x.dtype).eps)
    d = math.prod(normalized_shape)
    data = x.data.reshape(-1, d)
    inv_rms = 1.0 / xp.sqrt((data * data).mean(axis=1, keepdims=True) + eps)
    xhat = data * inv_rms
    gamma = None if weight is None else weight.data.reshape(d)
    out = (xhat * gamma if gamma is not None else xhat).reshape(x.shape)
    parents = tuple(t for t in (x, weight) if t is not None)

    # dL/dx = r·(ĝ - x̂·mean(ĝ·x̂)),  ĝ = γ·g,  r = 1/√(mean(x²) + eps)
    # (no mean is subtracted in the forward, so no mean(ĝ) term, unlike layer_norm)
    # dL/dγ = Σ g·x̂ over the leading axes
    def backward(g):
        g2 = g.reshape(-1, d)
        grads = []
        if x.requires_grad:
            gh = g2 * gamma if gamma is not None else g2
            grads.append(((gh - xhat * (gh * xhat).mean(axis=1, keepdims=True)) * inv_rms).reshape(x.shape))
        else:
            grads.append(None)
        if weight is not None:
            grads.append((g2 * xhat).sum(axis=0).reshape(normalized_shape) if weight.requires_grad else None)
        return tuple(grads)

    def composite(x, *params):  # the same normalisation in differentiable ops (for create_graph)
        rows = x.reshape(-1, d)
        xn = (rows / ((rows * rows).mean(dim=1, keepdim=True) + eps).sqrt()).reshape(x.shape)
        return _scaled(xn, params[0] if weight is not None else None, None, normalized_shape)

    return result(out, parents, backward, "rms_norm", composite_double(composite, parents))
