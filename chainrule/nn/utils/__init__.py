"""``nn.utils``, as ``torch.nn.utils``: gradient clipping and parameters as one vector."""

from .clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector", "vector_to_parameters"]
from . import rnn  # noqa: E402  (as torch.nn.utils.rnn)
from .rnn import PackedSequence, pack_padded_sequence, pack_sequence, pad_packed_sequence, pad_sequence  # noqa: E402

__all__ += ["rnn", "PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence", "pad_sequence"]
from .fusion import fuse_conv_bn, fuse_conv_bn_eval, fuse_conv_bn_model  # noqa: E402  (inference: BN folded into conv)
__all__ += ["fuse_conv_bn", "fuse_conv_bn_eval", "fuse_conv_bn_model"]
