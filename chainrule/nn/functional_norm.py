"""``torch.nn.functional``'s normalisation, embedding and bilinear functions, with PyTorch's signatures
(re-exported by ``chainrule.nn.functional``). Each is a thin call of a fused op in ``chainrule.ops``."""

from ..ops import normalization as _norm
from ..ops.bilinear import bilinear as _bilinear
from ..ops.embedding import embedding as _embedding
from ..ops.embedding import embedding_bag as _embedding_bag

__all__ = [
    "batch_norm", "instance_norm", "layer_norm", "rms_norm", "group_norm", "local_response_norm", "bilinear",
    "embedding", "embedding_bag",
]


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over every axis but 1 (the channels) of ``input`` (N, C, *).

    ``training``: normalise with the batch's statistics and update ``running_mean``/``running_var`` (arrays
    of shape (C,), or None) in place; else normalise with them.
    """
    return _norm.batch_norm(input, weight, bias, running_mean, running_var, training=training,
                            momentum=momentum, eps=eps, axis=1)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalisation of ``input`` (N, C, *): each channel of each sample over its positions."""
    return _norm.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the trailing ``normalized_shape`` axes."""
    return _norm.layer_norm(input, normalized_shape, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` axes."""
    return _norm.rms_norm(input, normalized_shape, weight, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation of ``input`` (N, C, *) in ``num_groups`` groups of channels."""
    return _norm.group_norm(input, num_groups, weight, bias, eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across the channels of ``input`` (N, C, *)."""
    return _norm.local_response_norm(input, size, alpha, beta, k)


def bilinear(input1, input2, weight, bias=None):
    """``x1ᵀ A x2 + b`` for weight A (out, in1, in2)."""
    return _bilinear(input1, input2, weight, bias)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer ids ``input`` (see ``chainrule.ops.embedding.embedding``)."""
    return _embedding(input, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embedding rows (see ``chainrule.ops.embedding.embedding_bag``)."""
    return _embedding_bag(input, weight, offsets, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                          per_sample_weights, include_last_offset, padding_idx)
