"""Inference: fold an evaluation-mode batch norm into the convolution before it (``torch.nn.utils.fusion``).

In evaluation mode ``bn(conv(x))`` is an affine map per output channel c of the convolution's output,
γ_c·(y_c − μ_c)/√(σ²_c + ε) + β_c with the running mean μ and variance σ², so one convolution computes it:

    w'_c = w_c · s_c,   b'_c = (b_c − μ_c) · s_c + β_c,   s_c = γ_c / √(σ²_c + ε)

(b_c = 0 without a bias, γ = 1 and β = 0 without an affine batch norm). The fused network saves one pass
over every feature map and the batch norm's arrays; it is for inference only (the fused convolution
trains as a plain convolution, not as conv → batch norm).

* ``fuse_conv_bn(conv, bn)`` → a new convolution (``fuse_conv_bn_eval`` is the same, under PyTorch's name).
* ``fuse_conv_bn_model(model, inplace=False)`` → the model with each conv → batch-norm pair replaced by
  the fused convolution and an ``Identity`` (see its docstring for the structures it recognises).
"""

import copy
import re

from ...backend import xp

from ..conv import _ConvNd
from ..linear import Identity
from ..module import Module
from ..normalization import _BatchNorm
from ..parameter import Parameter

__all__ = ["fuse_conv_bn", "fuse_conv_bn_eval", "fuse_conv_bn_model"]


def _check_pair(conv, bn, op):
    """``conv`` must be a (non-transposed) convolution layer and ``bn`` an evaluation-mode batch norm with
    running statistics over its output channels."""
    if not isinstance(conv, _ConvNd) or conv._transposed:
        raise TypeError(f"{op}: conv must be a Conv1d, Conv2d or Conv3d layer, got {type(conv).__name__}")
    if not isinstance(bn, _BatchNorm):
        raise TypeError(f"{op}: bn must be a BatchNorm1d/2d/3d layer, got {type(bn).__name__}")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"{op}: {bn!r} has no running statistics (track_running_stats=False): nothing to fold")
    if bn.training:
        raise ValueError(f"{op}: {bn!r} is in training mode (it would normalise with batch statistics); "
                         "call model.eval() first")
    if bn.num_features != conv.out_channels:
        raise ValueError(f"{op}: bn normalises {bn.num_features} channels, conv gives {conv.out_channels}")


def _fused_arrays(weight, bias, mean, var, eps, gamma, beta):
    """(w', b') from the formulas in the module docstring, computed in float64, returned in w's dtype."""
    dtype = weight.dtype
    scale = (1.0 if gamma is None else gamma.astype(xp.float64)) / xp.sqrt(var.astype(xp.float64) + eps)
    scale = xp.broadcast_to(scale, mean.shape)
    w = weight.astype(xp.float64) * scale.reshape((-1,) + (1,) * (weight.ndim - 1))
    b = ((0.0 if bias is None else bias.astype(xp.float64)) - mean) * scale
    if beta is not None:
        b = b + beta
    return w.astype(dtype), b.astype(dtype)


def fuse_conv_bn(conv, bn):
    """A new convolution equal to ``bn(conv(x))`` with ``bn`` in evaluation mode (running statistics).

    Parameters
    ----------
    conv : Conv1d, Conv2d or Conv3d
        Any stride, padding, dilation and groups; with or without a bias (the fused one has a bias).
    bn : BatchNorm1d, BatchNorm2d or BatchNorm3d
        In evaluation mode, with running statistics, ``num_features == conv.out_channels``.

    Returns
    -------
    A copy of ``conv`` (same class and settings, in evaluation mode) with w' and b'; ``conv`` and ``bn``
    are left unchanged.
    """
    _check_pair(conv, bn, "fuse_conv_bn")
    # a copy of the layer's settings; its weight and bias are replaced below, so they are not copied
    fused = copy.deepcopy(conv, {id(p): p for p in (conv.weight, conv.bias) if p is not None})
    weight, bias = _fused_arrays(
        xp.asarray(conv.weight.data), None if conv.bias is None else xp.asarray(conv.bias.data),
        xp.asarray(bn.running_mean, dtype=xp.float64), xp.asarray(bn.running_var), bn.eps,
        None if bn.weight is None else xp.asarray(bn.weight.data),
        None if bn.bias is None else xp.asarray(bn.bias.data),
    )
    fused.weight = Parameter(weight)
    fused.bias = Parameter(bias)
    return fused.eval()


def fuse_conv_bn_eval(conv, bn):
    """``fuse_conv_bn`` under the name of ``torch.nn.utils.fusion.fuse_conv_bn_eval`` (same arguments)."""
    return fuse_conv_bn(conv, bn)


_CONV_NAME = re.compile(r"^conv(.*)$")


def _pairs(module):
    """(conv name, bn name) pairs among ``module``'s direct children (see ``fuse_conv_bn_model``)."""
    children = list(module._modules.items())
    pairs = []
    if isinstance(module, _sequential()):
        for (a, conv), (b, bn) in zip(children, children[1:]):
            if isinstance(conv, _ConvNd) and not conv._transposed and isinstance(bn, _BatchNorm):
                pairs.append((a, b))
        return pairs
    names = dict(children)
    for name, conv in children:
        match = _CONV_NAME.match(name)
        if match and isinstance(conv, _ConvNd) and not conv._transposed:
            bn = names.get(f"bn{match.group(1)}")
            if isinstance(bn, _BatchNorm):
                pairs.append((name, f"bn{match.group(1)}"))
    return pairs


def _sequential():
    from ..containers import Sequential

    return Sequential


def fuse_conv_bn_model(model, inplace=False):
    """``model`` with every recognised convolution → batch-norm pair folded into one convolution (inference).

    Recognised pairs, at every depth of the module tree:

    * in a ``Sequential``: a Conv1d/2d/3d child directly followed by a BatchNorm child (the BN becomes
      ``Identity``, so indices and ``state_dict`` names of the other children stay as they were);
    * in any other module: children named ``conv<suffix>`` and ``bn<suffix>`` with the same suffix
      (``conv1``/``bn1``, ``conv2``/``bn2``: torchvision's ResNet blocks and stems, the benchmark zoo's
      networks). The module's ``forward`` must apply ``bn<suffix>`` directly to ``conv<suffix>``'s output
      and use that output nowhere else, as those blocks do; a module whose forward does something else
      between them needs ``fuse_conv_bn`` by hand.

    A batch norm whose running statistics are off, or whose channels do not match, is left alone; one in
    training mode is an error (call ``model.eval()`` first).

    Parameters
    ----------
    model : Module
    inplace : bool
        Change ``model`` itself; by default a deep copy is changed and returned.

    Returns
    -------
    The fused model (``model`` itself when ``inplace``), in evaluation mode.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fuse_conv_bn_model: model must be a chainrule Module, got {type(model).__name__}")
    if not isinstance(inplace, bool):
        raise TypeError(f"fuse_conv_bn_model: inplace must be a bool, got {inplace!r}")
    if not inplace:
        model = copy.deepcopy(model)
    for _, parent in list(model.named_modules()):
        for conv_name, bn_name in _pairs(parent):
            conv, bn = parent._modules[conv_name], parent._modules[bn_name]
            if bn.running_mean is None or bn.num_features != conv.out_channels:
                continue
            setattr(parent, conv_name, fuse_conv_bn(conv, bn))
            setattr(parent, bn_name, Identity())
    return model.eval()
