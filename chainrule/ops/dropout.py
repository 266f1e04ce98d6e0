"""Inverted dropout, fused: one mask multiply forward, the same multiply backward."""

from ..backend import xp
from ..creation import as_generator
from ..tensor import Tensor, as_tensor, constant, result

__all__ = ["dropout"]


def dropout(x, p=0.5, training=True, seed=None, mask=None, noise_shape=None):
    """Zero each element with probability ``p`` and scale the survivors by 1/(1-p).

    The scaling keeps every element's expected value, so evaluation (``training=False``,
    which returns ``x`` itself) needs no correction.

    Parameters
    ----------
    x : Tensor
    p : float in [0, 1]
        Probability of dropping an element.
    training : bool
        False (or p = 0): return ``x`` unchanged.
    seed : int or numpy.random.Generator, optional
        Source of the mask; a layer passes its own Generator so that successive calls differ.
    mask : array of bool, optional
        Keep-mask (True = keep) to use instead of a random one (for tests and gradient checks);
        must broadcast to ``x``.
    noise_shape : tuple of int, optional
        Shape of the random mask, broadcast against ``x`` (e.g. ``(N, C, 1, 1)`` drops whole
        channels). Default: ``x.shape``.
    """
    x = as_tensor(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if not training or (p == 0.0 and mask is None):
        return x
    if mask is None:
        shape = x.shape if noise_shape is None else tuple(noise_shape)
        # float32 uniforms: drawing float64 ones would put a float64 array in a float32 step
        uniforms = as_generator(seed).random(shape, dtype="float32")
        keep = xp.asarray(uniforms >= p)
    else:
        keep = xp.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
    try:
        fits = xp.broadcast_shapes(keep.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"dropout: mask of shape {keep.shape} does not broadcast to the input shape {x.shape}")
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    factor = keep.astype(x.dtype)  # 0 or 1/(1-p) per element
    factor *= scale
    out = x.data * factor

    # d out/dx = mask / (1 - p)
    def backward(g):
        return (g * factor,)

    def double(g):  # the mask is constant
        return (g * constant(factor),)

    return result(out, (x,), backward, "dropout", double)
