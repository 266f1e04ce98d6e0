"""Recurrent layers ``RNN``, ``LSTM``, ``GRU`` (stacks of the fused ops in ``chainrule.ops.recurrent``)
and the one-step cells ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Same constructor arguments, parameter names and shapes as ``torch.nn.RNN/LSTM/GRU``
(``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``..._reverse`` for the
second direction), so a ``state_dict`` copies across in either direction.

``forward(x, hx=None, lengths=None)`` returns ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``):

* ``output``: every step's hidden state of the last layer, ``(T, B, D·H)`` (``(B, T, D·H)`` with
  ``batch_first``), D = 2 if bidirectional (forward and reverse halves concatenated);
* ``h_n`` (and ``c_n``): ``(num_layers·D, B, H)``, the final state of each layer and direction.

``lengths`` (one int per sequence) makes padded steps invisible: they neither change the
state nor receive gradient, and their outputs are zero. A ``PackedSequence``
(``chainrule.nn.utils.rnn``) as ``x`` does the same and gives a packed ``output``. ``last_step(output, lengths)``
picks each sequence's output at its last real step.

``layer.gradient_recorder``: a callable ``(name, t, norm)`` (``name`` like ``"l0"`` or
``"l1_reverse"``) that, when set, receives during backward the norm of dLoss/dh_t for every
step of every stacked layer and direction; ``chainrule.diagnostics.GradientHealth`` sets it.
"""

import math
import numbers

from ..backend import xp
from ..creation import as_generator
from ..ops.dropout import dropout
from ..ops.recurrent import check_lengths, gru, last_step, lstm, lstm_projected, rnn
from ..ops.shape import concat, permute, stack
from .module import Module, as_input, config_seed, layer_dtype
from .parameter import Parameter
from .utils.rnn import PackedSequence, _repack, pad_packed_sequence

__all__ = ["RNN", "LSTM", "GRU", "RNNBase", "last_step", "RNNCell", "LSTMCell", "GRUCell", "RNNCellBase"]


def _positive_int(value, name, layer):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {value!r}")
    return int(value)


class RNNBase(Module):
    """Shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (see the module docstring)."""

    GATES = 1
    NUM_STATES = 1  # LSTM: 2 (h and c)
    proj_size = 0  # LSTM: the size of the projected hidden state (0: none)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, seed=None, dtype="float32"):
        super().__init__()
        name = type(self).__name__
        self.input_size = _positive_int(input_size, "input_size", name)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", name)
        self.num_layers = _positive_int(num_layers, "num_layers", name)
        if not isinstance(dropout, numbers.Real) or isinstance(dropout, bool) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1), got {dropout!r}")
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.seed = seed
        self.dtype = layer_dtype(dtype)
        self._rng = as_generator(seed if config_seed(seed) is not None else None)
        self.gradient_recorder = None  # callable(name, t, norm), e.g. from chainrule.diagnostics
        G, H = self.GATES, self.hidden_size
        R = self.proj_size or H  # the size of h (and of each direction's output)
        for layer in range(self.num_layers):
            inputs = self.input_size if layer == 0 else R * self.num_directions
            for suffix in self._suffixes():
                setattr(self, f"weight_ih_l{layer}{suffix}", Parameter(xp.empty((G * H, inputs), dtype=self.dtype)))
                setattr(self, f"weight_hh_l{layer}{suffix}", Parameter(xp.empty((G * H, R), dtype=self.dtype)))
                if self.bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", Parameter(xp.empty(G * H, dtype=self.dtype)))
                    setattr(self, f"bias_hh_l{layer}{suffix}", Parameter(xp.empty(G * H, dtype=self.dtype)))
                if self.proj_size:
                    setattr(self, f"weight_hr_l{layer}{suffix}", Parameter(xp.empty((R, H), dtype=self.dtype)))
        self.reset_parameters()

    @property
    def num_directions(self):
        return 2 if self.bidirectional else 1

    def _suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self, seed=None):
        """Every weight and bias ~ U(-1/√H, 1/√H) (PyTorch's initialisation), from ``seed`` or the layer's seed."""
        rng = as_generator(self.seed if seed is None else seed)
        bound = 1.0 / math.sqrt(self.hidden_size)
        for _, param in self.named_parameters():
            values = rng.uniform(-bound, bound, size=param.shape)
            param.data[...] = xp.asarray(values, dtype=param.dtype)

    def _cell(self, x, weights, states, lengths, reverse, recorder, suffix):
        raise NotImplementedError

    def _state_sizes(self):
        """The size of each state (LSTM with ``proj_size``: h is smaller than c)."""
        return ((self.proj_size or self.hidden_size),) + (self.hidden_size,) * (self.NUM_STATES - 1)

    def _check_states(self, hx, B, batched=True):
        """``hx`` as a list of per-state tensors of shape (L·D, B, H), or None (unbatched: (L·D, H) given)."""
        if hx is None:
            return None
        name = type(self).__name__
        states = tuple(hx) if self.NUM_STATES > 1 else (hx,)
        if self.NUM_STATES > 1 and len(states) != self.NUM_STATES:
            raise ValueError(f"{name}: hx must be a pair (h0, c0), got {len(states)} tensors")
        checked = []
        for label, state, size in zip(("h0", "c0"), states, self._state_sizes()):
            state = as_input(state, self.dtype)
            expected = (self.num_layers * self.num_directions,) + ((B,) if batched else ()) + (size,)
            if state.shape != expected:
                raise ValueError(
                    f"{name}: {label} must have shape (num_layers·directions, {'batch, ' if batched else ''}hidden) = "
                    f"{expected}, got {state.shape}"
                )
            checked.append(state if batched else state.reshape((expected[0], 1, size)))
        return checked

    def forward(self, x, hx=None, lengths=None):
        """``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``), as ``torch.nn.RNN``; see the module docstring.

        ``x`` may also be a ``PackedSequence`` (then ``output`` is one, packed alike; ``hx`` and the
        final states are in the original batch order, as PyTorch's) or, without a batch axis,
        ``(T, input_size)`` (with ``hx`` of shape ``(num_layers·D, H)``).
        """
        name = type(self).__name__
        if isinstance(x, PackedSequence):
            if lengths is not None:
                raise ValueError(f"{name}: a PackedSequence carries its lengths; do not pass lengths too")
            padded, lengths = pad_packed_sequence(x)
            output, final = self._forward(as_input(padded, self.dtype), hx, lengths, batched=True)
            return _repack(output, x), final
        x = as_input(x, self.dtype)
        if x.ndim == 2 and x.shape[-1] == self.input_size and lengths is None:  # one sequence, no batch axis
            x = x.reshape((x.shape[0], 1, x.shape[1]))
            output, final = self._forward(x, hx, None, batched=False)
            return output.reshape((output.shape[0], output.shape[2])), final
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
            raise ValueError(
                f"{name}: expected input of shape {layout} with {self.input_size} features, got {x.shape} "
                f"(or (time, features) for one sequence)"
            )
        if self.batch_first:
            x = permute(x, (1, 0, 2))
        output, final = self._forward(x, hx, lengths, batched=True)
        return (permute(output, (1, 0, 2)) if self.batch_first else output), final

    def _forward(self, x, hx, lengths, batched):
        """The stack over a time-major ``(T, B, I)`` input; returns time-major output and the final states."""
        name = type(self).__name__
        T, B = x.shape[:2]
        if lengths is not None:
            lengths = check_lengths(name, lengths, T, B)
        states = self._check_states(hx, B, batched)

        finals = [[] for _ in range(self.NUM_STATES)]
        inp = x
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes()):
                k = layer * self.num_directions + direction
                p = f"l{layer}{suffix}"
                weights = [getattr(self, f"weight_ih_{p}"), getattr(self, f"weight_hh_{p}")]
                weights += [getattr(self, f"bias_ih_{p}"), getattr(self, f"bias_hh_{p}")] if self.bias else [None, None]
                initial = [None] * self.NUM_STATES if states is None else [s[k] for s in states]
                recorder = None
                if self.gradient_recorder is not None:
                    recorder = (lambda rec, label: lambda t, norm: rec(label, t, norm))(self.gradient_recorder, p)
                out, *final = self._cell(inp, weights, initial, lengths, direction == 1, recorder, p)
                outputs.append(out)
                for collected, state in zip(finals, final):
                    collected.append(state)
            inp = outputs[0] if len(outputs) == 1 else concat(outputs, axis=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                inp = dropout(inp, self.dropout, training=True, seed=self._rng)
        finals = [stack(collected, axis=0) for collected in finals]
        if not batched:
            finals = [f.reshape((f.shape[0], f.shape[2])) for f in finals]
        return inp, (tuple(finals) if self.NUM_STATES > 1 else finals[0])

    def get_config(self):
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "bias": self.bias,
            "batch_first": self.batch_first,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
            "seed": config_seed(self.seed),
            "dtype": self.dtype.name,
        }

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False}
        for key, default in defaults.items():
            if getattr(self, key) != default:
                text += f", {key}={getattr(self, key)}"
        return text + ("" if self.dtype == xp.float32 else f", dtype={self.dtype.name}")


class RNN(RNNBase):
    """Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), stacked ``num_layers`` deep.

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int
    nonlinearity : {"tanh", "relu"}
    bias : bool
    batch_first : bool
        Input and output are (batch, time, features) instead of (time, batch, features).
    dropout : float
        Dropout on the outputs of every layer but the last (training mode only).
    bidirectional : bool
    seed : int or numpy.random.Generator, optional
    dtype : str or dtype
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, seed=None, dtype="float32"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, seed, dtype)

    def _cell(self, x, weights, states, lengths, reverse, recorder, suffix):
        return rnn(x, *weights, states[0], nonlinearity=self.nonlinearity, lengths=lengths, reverse=reverse,
                   recorder=recorder)

    def get_config(self):
        return {**super().get_config(), "nonlinearity": self.nonlinearity}

    def extra_repr(self):
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else text + f", nonlinearity={self.nonlinearity!r}"


class LSTM(RNNBase):
    """Long short-term memory (PyTorch's equations; gates i, f, g, o), stacked ``num_layers`` deep.

    ``forward(x, hx=None, lengths=None)`` takes ``hx = (h0, c0)`` and returns ``(output, (h_n, c_n))``.
    Arguments as for ``RNN`` (without ``nonlinearity``), plus

    proj_size : int
        If > 0, the hidden state is projected to this size, h = W_hr·(o·tanh(c)) (``weight_hr_l{k}``,
        (proj_size, hidden_size)): outputs and h have proj_size features, c hidden_size (PyTorch's).
    forget_bias : float
        Added to the forget-gate biases after initialisation. A positive value makes the cell
        start out remembering (σ(3) ≈ 0.95 kept per step), which lets gradient reach early steps
        of long sequences from the first update; 1.0 is Keras's ``unit_forget_bias``, 0 (the
        default) PyTorch's initialisation.
    """

    GATES = 4
    NUM_STATES = 2

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, forget_bias=0.0, seed=None, dtype="float32"):
        if not isinstance(forget_bias, numbers.Real) or isinstance(forget_bias, bool):
            raise ValueError(f"LSTM: forget_bias must be a number, got {forget_bias!r}")
        if forget_bias and not bias:
            raise ValueError(f"LSTM: forget_bias={forget_bias} needs bias=True")
        if not isinstance(proj_size, numbers.Integral) or isinstance(proj_size, bool) or proj_size < 0:
            raise ValueError(f"LSTM: proj_size must be a non-negative int, got {proj_size!r}")
        if proj_size and isinstance(hidden_size, numbers.Integral) and proj_size >= hidden_size:
            raise ValueError(f"LSTM: proj_size ({proj_size}) must be smaller than hidden_size ({hidden_size})")
        self.forget_bias = float(forget_bias)
        self.proj_size = int(proj_size)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, seed, dtype)

    def reset_parameters(self, seed=None):
        """PyTorch's U(-1/√H, 1/√H) for everything, then ``forget_bias`` added to every forget-gate bias_ih."""
        super().reset_parameters(seed)
        if self.forget_bias:
            H = self.hidden_size
            for name, param in self.named_parameters():
                if name.startswith("bias_ih"):
                    param.data[H:2 * H] += self.forget_bias

    def get_config(self):
        config = {**super().get_config(), "forget_bias": self.forget_bias}
        if self.proj_size:
            config["proj_size"] = self.proj_size
        return config

    def extra_repr(self):
        text = super().extra_repr()
        if not self.proj_size:
            return text
        sizes = f"{self.input_size}, {self.hidden_size}"
        return sizes + f", proj_size={self.proj_size}" + text[len(sizes):]

    def _cell(self, x, weights, states, lengths, reverse, recorder, suffix):
        if self.proj_size:
            return lstm_projected(x, *weights, getattr(self, f"weight_hr_{suffix}"), states[0], states[1],
                                  lengths=lengths, reverse=reverse, recorder=recorder)
        return lstm(x, *weights, states[0], states[1], lengths=lengths, reverse=reverse, recorder=recorder)


class GRU(RNNBase):
    """Gated recurrent unit (PyTorch's equations; gates r, z, n), stacked ``num_layers`` deep.

    Arguments as for ``RNN`` (without ``nonlinearity``).
    """

    GATES = 3

    def _cell(self, x, weights, states, lengths, reverse, recorder, suffix):
        return gru(x, *weights, states[0], lengths=lengths, reverse=reverse, recorder=recorder)


class RNNCellBase(Module):
    """Shared by ``RNNCell``, ``LSTMCell`` and ``GRUCell``: one step of the recurrence, PyTorch's
    parameters ``weight_ih`` (gates·H, I), ``weight_hh`` (gates·H, H), ``bias_ih``, ``bias_hh``.

    ``forward(input, hx=None)``: input (B, I) or (I,) without a batch axis; hx (B, H) or (H,)
    (LSTMCell: a pair (h, c)), zeros when omitted. A step is the layer's fused sequence op run
    over one time step, so a cell and its layer compute the same thing.
    """

    GATES = 1

    def __init__(self, input_size, hidden_size, bias=True, seed=None, dtype="float32"):
        super().__init__()
        name = type(self).__name__
        self.input_size = _positive_int(input_size, "input_size", name)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", name)
        self.bias = bool(bias)
        self.seed = seed
        self.dtype = layer_dtype(dtype)
        G, H = self.GATES, self.hidden_size
        self.weight_ih = Parameter(xp.empty((G * H, self.input_size), dtype=self.dtype))
        self.weight_hh = Parameter(xp.empty((G * H, H), dtype=self.dtype))
        if self.bias:
            self.bias_ih = Parameter(xp.empty(G * H, dtype=self.dtype))
            self.bias_hh = Parameter(xp.empty(G * H, dtype=self.dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _step(self, x, states):
        raise NotImplementedError

    def forward(self, input, hx=None):
        name = type(self).__name__
        x = as_input(input, self.dtype)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: expected input of shape (batch, {self.input_size}) or ({self.input_size},), got {x.shape}"
            )
        batched = x.ndim == 2
        B = x.shape[0] if batched else 1
        states = [None, None][: 2 if self.GATES == 4 else 1]
        if hx is not None:
            given = tuple(hx) if self.GATES == 4 else (hx,)
            if len(given) != len(states):
                raise ValueError(f"{name}: hx must be a pair (h, c), got {len(given)} tensors")
            for k, state in enumerate(given):
                state = as_input(state, self.dtype)
                expected = (B, self.hidden_size) if batched else (self.hidden_size,)
                if state.shape != expected:
                    raise ValueError(f"{name}: hx must have shape {expected}, got {state.shape}")
                states[k] = state.reshape((B, self.hidden_size))
        x = x.reshape((1, B, self.input_size))
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        _, *final = self._step(x, weights, states)
        if not batched:
            final = [f.reshape((self.hidden_size,)) for f in final]
        return tuple(final) if len(final) > 1 else final[0]

    def get_config(self):
        return {
            "input_size": self.input_size, "hidden_size": self.hidden_size, "bias": self.bias,
            "seed": config_seed(self.seed), "dtype": self.dtype.name,
        }

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
        return text + ("" if self.dtype == xp.float32 else f", dtype={self.dtype.name}")


class RNNCell(RNNCellBase):
    """One Elman step, h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu); returns h'.

    Parameters: input_size, hidden_size, bias=True, nonlinearity="tanh", seed, dtype.
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", seed=None, dtype="float32"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, seed, dtype)

    def _step(self, x, weights, states):
        return rnn(x, *weights, states[0], nonlinearity=self.nonlinearity)

    def get_config(self):
        return {**super().get_config(), "nonlinearity": self.nonlinearity}

    def extra_repr(self):
        text, dtype = super().extra_repr(), f", dtype={self.dtype.name}"
        text = text.replace(dtype, "")
        text += "" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity}"
        return text + ("" if self.dtype == xp.float32 else dtype)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o as PyTorch); ``forward(input, (h, c))`` returns ``(h', c')``."""

    GATES = 4

    def _step(self, x, weights, states):
        return lstm(x, *weights, states[0], states[1])


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n as PyTorch); returns h'."""

    GATES = 3

    def _step(self, x, weights, states):
        return gru(x, *weights, states[0])
