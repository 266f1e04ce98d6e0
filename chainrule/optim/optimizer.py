"""``Optimizer``: parameter groups, flat buffers, the bulk ``step()`` and resumable state.

A subclass gives its ``defaults``, the state buffers it needs (``_state_spec``) and its update
rule (``_update``), written once on whole flat buffers with in-place ufuncs. The base class packs
the parameters (see ``chainrule/optim/_flat.py`` for the layout), finds which parameters have a
gradient, and calls ``_update`` once per group and dtype in the common case where all do.

Gradients that are ``None`` are skipped exactly as PyTorch skips them: no weight decay, no momentum
update, no step count. ``zero_grad()`` sets gradients to ``None`` by default (as PyTorch >= 2.0);
``zero_grad(set_to_none=False)`` zeroes them in place instead; see its docstring.
"""

import math
import operator

import numpy

from ..backend import to_numpy, xp
from ..function import enable_grad
from ..tensor import Tensor
from . import clip as _clip
from ._flat import FlatParams

__all__ = ["Optimizer", "flatten_state_dict", "unflatten_state_dict"]


class Optimizer:
    """Base class of the optimizers.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The parameters to optimise (e.g. ``model.parameters()``), or parameter groups:
        dicts with a ``"params"`` list and any hyper-parameter overriding the defaults for that group,
        e.g. ``[{"params": body.parameters(), "lr": 1e-4}, {"params": head.parameters()}]``.
    defaults : dict
        Hyper-parameters used by every group that does not override them.

    Notes
    -----
    Construction *copies each parameter's values into the optimizer's flat buffer and rebinds
    ``param.data`` to a view of it* (the layout is described in ``chainrule.optim._flat``). Arrays you
    passed in when making the tensors are therefore no longer the parameters' storage. Update
    weights in place (``param.data[...] = values``; ``Module.load_state_dict`` does this). If
    ``param.data`` is rebound to a new array of the same shape and dtype, the next ``step()``
    notices (one identity check per parameter), copies the new values into the buffer and restores
    the view, keeping the optimizer state; a different shape or dtype raises ``ValueError``.

    Gradients are not invented: a parameter's ``grad`` stays ``None`` until ``backward()`` gives it
    one, and the first ``step()`` (or ``clip_grad_norm``) copies it into the flat gradient buffer and
    rebinds ``param.grad`` to its view; from then on ``backward()`` adds into the view in place.
    (Pre-filling zero views would make ``step()`` decay parameters the loss never reached, which
    PyTorch skips.)
    A parameter belongs to one optimizer at a time: a newer optimizer over the same parameters
    takes them over (an older one that is stepped again would take them back, adopting their
    current values). Code that keeps arrays should keep the Tensor, not ``param.data``.

    Copies: copy a model *together with* its optimizer — ``copy.deepcopy((model, opt))`` or
    ``pickle.loads(pickle.dumps((model, opt)))`` (what scikit-learn's ``clone``, joblib and
    multiprocessing do) — and the copy's parameters are views of the copy's flat buffers again, so it
    trains exactly like the original, step for step. A model copied alone gets parameters that own
    their arrays (give it an optimizer of its own). An optimizer deep-copied alone copies the
    parameters it holds too (as ``torch.optim`` does): it then trains those copies, not the model.
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        self.defaults = dict(defaults)
        self.param_groups = []
        self._packs = []  # per group: list of FlatParams (one per dtype)
        self._slots = []  # per group: (FlatParams, index in it) for each parameter, in group order
        if isinstance(params, Tensor) or isinstance(params, dict):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or of dicts (parameter groups), "
                f"got a single {type(params).__name__}; wrap it in a list"
            )
        try:
            params = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or of dicts, got {type(params).__name__}"
            ) from None
        if not params:
            raise ValueError(f"{name} got an empty parameter list")
        if all(isinstance(p, dict) for p in params):
            groups = params
        elif any(isinstance(p, dict) for p in params):
            raise TypeError(f"{name}: params mixes Tensors and dicts; pass either Tensors or parameter groups")
        else:
            groups = [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------ subclass API
    def _validate(self, group):
        """Raise ValueError for bad hyper-parameters in ``group`` (subclasses extend)."""
        _check_nonnegative(self, group, "lr")

    def _state_spec(self, group):
        """``(name, initial value)`` of the state buffers this group needs (subclasses override)."""
        return ()

    def _update(self, group, step, p, g, state, s1, s2):
        """Update ``p`` in place from gradient ``g``; all are 1-D arrays of one layout.

        ``state`` maps names to state buffers, ``s1``/``s2`` are scratch, ``step`` is the step count
        *after* this step (1 on the first). Never write into ``g``.
        """
        raise NotImplementedError

    # What of a parameter's step count the update rule depends on: "exact" (bias corrections, lr
    # decay), "first" (only whether this is its first step: SGD's momentum buffer) or "none".
    # Parameters whose keys differ (one skipped a step) cannot share one bulk update.
    _step_dependence = "exact"

    def _step_keys(self, steps):
        if self._step_dependence == "exact":
            return steps
        if self._step_dependence == "first":
            return numpy.minimum(steps, 1)
        return numpy.zeros_like(steps)

    # --------------------------------------------------------------- groups
    def add_param_group(self, param_group):
        """Add a parameter group (a dict with ``"params"`` and optional hyper-parameters), e.g. when
        unfreezing layers while fine-tuning. Missing hyper-parameters take the optimizer's defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: the group dict has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be given in a list, not a set (a set has no stable order)")
        else:
            params = list(params)
        if not params:
            raise ValueError(f"{name}: a parameter group has an empty parameter list")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        mine = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, but parameter {i} is a {type(p).__name__}")
            if p.data.dtype.kind != "f":
                raise TypeError(f"{name}: parameter {i} has dtype {p.data.dtype}; only floating parameters can be optimized")
            if not p.is_leaf:
                raise ValueError(f"{name} can't optimize a non-leaf Tensor (parameter {i} was computed by an op)")
            if id(p) in mine:
                raise ValueError(f"{name}: parameter {i} appears twice in the same parameter group")
            if id(p) in seen:
                raise ValueError(f"{name}: some parameters appear in more than one parameter group")
            mine.add(id(p))
        _check_no_shared_memory(name, params)

        group = dict(param_group)
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        if "betas" in group:
            try:
                group["betas"] = tuple(float(b) for b in group["betas"])
            except (TypeError, ValueError):
                raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {group['betas']!r}") from None
        self._validate(group)

        by_dtype = {}
        for p in params:
            by_dtype.setdefault(p.data.dtype, []).append(p)
        where = f"{name} (group {len(self.param_groups)})"
        packs = [FlatParams(ps, dtype, where) for dtype, ps in by_dtype.items()]
        index = {}
        for pack in packs:
            pack.ensure_state(self._state_spec(group))
            for i, p in enumerate(pack.params):
                index[id(p)] = (pack, i)
        self.param_groups.append(group)
        self._packs.append(packs)
        self._slots.append([index[id(p)] for p in params])

    @property
    def buffers(self):
        """The ``FlatParams`` of every group and dtype (``.data``, ``.grad``, ``.state`` flat arrays)."""
        return [pack for packs in self._packs for pack in packs]

    # ---------------------------------------------------------------- steps
    def zero_grad(self, set_to_none=True):
        """Reset the gradients before the next backward pass.

        ``set_to_none=True`` (the default, as in PyTorch >= 2.0): every ``param.grad = None``. Parameters
        the next loss does not reach are then skipped by ``step()``; the others get their fresh
        gradients written straight into their views of the flat buffer by ``backward()`` (no copy in
        ``step()``).

        ``set_to_none=False``: one ``fill(0)`` per flat gradient buffer;
        each ``param.grad`` stays a view of it, so ``backward()`` accumulates straight into the
        buffer and ``step()`` copies nothing. As in PyTorch with ``set_to_none=False``, a gradient
        that is ``None`` stays ``None``, and a parameter that got a (zero) gradient is updated by the
        next ``step()`` even if the loss did not use it (weight decay and momentum still act).
        """
        for packs in self._packs:
            for pack in packs:
                if set_to_none:
                    for p in pack.params:
                        p._drop_grad()
                    continue
                pack.grad.fill(0)
                if not all(map(operator.is_, (p._grad for p in pack.params), pack.grad_views)):
                    for p, view in zip(pack.params, pack.grad_views):
                        if p._grad is not None:
                            p._rebind_grad(view)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if given.

        Common case (every parameter of a group/dtype has its gradient in the flat buffer and their
        step counts agree as far as the rule cares): one ``_update`` call on whole buffers. Otherwise
        ``_update`` runs on each stretch of consecutive parameters that have a gradient and agreeing
        step counts (Adam's bias correction differs for a parameter that skipped a step).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group, packs in zip(self.param_groups, self._packs):
            spec = self._state_spec(group)
            for pack in packs:
                active = pack.sync()
                state = pack.ensure_state(spec)
                s1, s2 = pack.scratch
                # maximize: every rule ascends by descending on -g (PyTorch negates the gradient first)
                grad = _negated_grad(pack) if group.get("maximize") else pack.grad
                if active is None and pack.uniform:
                    pack.steps += 1
                    self._update(group, int(pack.steps[0]), pack.data, grad, state, s1, s2)
                    continue
                for lo, hi, i0, i1 in pack.runs(active, self._step_keys(pack.steps)):
                    pack.steps[i0:i1] += 1
                    self._update(
                        group, int(pack.steps[i0]), pack.data[lo:hi], grad[lo:hi],
                        {k: v[lo:hi] for k, v in state.items()}, s1[lo:hi], s2[lo:hi],
                    )
                pack.refresh_uniform(self._step_keys(pack.steps))
        return loss

    def clip_grad_norm(self, max_norm, norm_type=2.0, error_if_nonfinite=False):
        """Scale all gradients so their total norm is at most ``max_norm``; return the norm before.

        Same result as ``clip_grad_norm_(all parameters, ...)``, computed on the flat gradient
        buffers (one reduction per group and dtype when every parameter has a gradient).
        """
        segments = []
        for packs in self._packs:
            for pack in packs:
                active = pack.sync()
                if active is None:
                    segments.append(pack.grad)
                else:
                    segments.extend(pack.grad[lo:hi] for lo, hi in pack.active_segments(active))
        return _clip.clip_segments_(segments, max_norm, norm_type, error_if_nonfinite)

    def grad_square_sum(self):
        """Σ g² over every gradient the next ``step()`` will use, as a Python float.

        A cheap finiteness probe for the fit loop: any NaN or inf gradient makes it non-finite. It is
        one BLAS dot product per flat buffer (faster than a sum per parameter); a huge but finite
        gradient can overflow it to inf too, so a caller that finds it non-finite confirms elementwise.
        """
        total = 0.0
        for packs in self._packs:
            for pack in packs:
                active = pack.sync()
                segments = [pack.grad] if active is None else [pack.grad[lo:hi] for lo, hi in
                                                               pack.active_segments(active)]
                for segment in segments:
                    total += float(xp.dot(segment, segment))
        return total

    # ---------------------------------------------------------------- state
    @property
    def state(self):
        """``{param: {"step": int, name: view}}`` for inspection; the arrays are views of the flat state
        buffers (writing into them changes the optimizer state)."""
        out = {}
        for packs in self._packs:
            for pack in packs:
                for i, p in enumerate(pack.params):
                    out[p] = pack.param_state(i, copy=False)
        return out

    def state_dict(self):
        """All optimizer state as plain data, enough to resume training exactly.

        Returns ``{"state": {index: {"step": int, name: numpy array shaped like the parameter}},
        "param_groups": [{hyper-parameters..., "params": [index, ...]}]}``, indices numbering the
        parameters across groups in order (as PyTorch does). Only ints, floats, bools, strings, lists
        and NumPy arrays: ``flatten_state_dict`` turns it into arrays + JSON for a safetensors file.
        """
        state, groups, index = {}, [], 0
        for group, slots in zip(self.param_groups, self._slots):
            ids = []
            for pack, i in slots:
                state[index] = pack.param_state(i, copy=True)
                ids.append(index)
                index += 1
            saved = {key: _plain(value) for key, value in group.items() if key != "params"}
            saved["params"] = ids
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters, step counts and state buffers saved by ``state_dict()``.

        The optimizer must have been built over the same number of groups and parameters (in the
        same order, with the same shapes). State keys may be ints or strings (after JSON). A parameter
        without saved state starts fresh (step 0).
        """
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        for gi, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: saved parameter group {gi} has {len(saved['params'])} parameters, "
                    f"this optimizer's has {len(group['params'])}"
                )
        saved_state = state_dict.get("state", {})
        for saved, group, slots, packs in zip(saved_groups, self.param_groups, self._slots, self._packs):
            for key, value in saved.items():
                if key == "params":
                    continue
                group[key] = tuple(value) if isinstance(value, (list, tuple)) else value
            spec = self._state_spec(group)
            fills = dict(spec)
            for pack in packs:
                pack.ensure_state(spec)
            for (pack, i), pid in zip(slots, saved["params"]):
                entry = saved_state.get(pid, saved_state.get(str(pid)))
                lo, hi, shape = pack.offsets[i], pack.offsets[i + 1], pack.shapes[i]
                pack.steps[i] = 0 if entry is None else int(numpy.asarray(entry.get("step", 0)))
                for key, buf in pack.state.items():
                    value = None if entry is None else entry.get(key)
                    if value is None:
                        buf[lo:hi] = fills.get(key, 0.0)
                        continue
                    value = numpy.asarray(value)
                    if value.size != hi - lo or (value.ndim and value.shape != shape):
                        raise ValueError(
                            f"{name}.load_state_dict: state '{key}' of parameter {pid} has shape {value.shape}, "
                            f"but the parameter has shape {shape}"
                        )
                    buf[lo:hi] = xp.asarray(value.reshape(-1), dtype=pack.dtype)
            for pack in packs:
                pack.refresh_uniform(self._step_keys(pack.steps))

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# ------------------------------------------------------------------ helpers
# The largest learning rate an optimizer accepts. Every rule here moves a weight by about lr times a
# gradient of a mean loss (Adam: by about lr itself), so a rate beyond this diverges on any data; a
# typo (1e6 for 1e-6) or an unscaled value is far likelier than a deliberate choice. lr = 0 is allowed
# (as in PyTorch: a warm-up schedule may start there).
MAX_LR = 1e3


def _check_nonnegative(optimizer, group, key):
    """``group[key]`` must be a finite real number >= 0 (``lr`` also <= ``MAX_LR``); ValueError quoting it.

    PyTorch rejects negative values ("Invalid learning rate: -0.1"); NaN and inf are rejected here too,
    since either turns every weight into NaN at the first step."""
    value = group[key]
    if (not isinstance(value, (int, float, numpy.number)) or isinstance(value, (bool, numpy.bool_))
            or not value >= 0 or not math.isfinite(value)):
        raise ValueError(f"{type(optimizer).__name__}: {key} must be a finite number >= 0, got {value!r}")
    if key == "lr" and value > MAX_LR:
        raise ValueError(
            f"{type(optimizer).__name__}: lr must be in [0, {MAX_LR:g}], got {value!r}; a learning rate that "
            "large diverges at once (did you mean a negative exponent, e.g. 1e-6?)"
        )


def _check_betas(optimizer, group):
    betas = group["betas"]
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):  # NaN fails 0 <= b
        raise ValueError(f"{type(optimizer).__name__}: betas must be two numbers in [0, 1), got {betas!r}")


_byte_bounds = getattr(getattr(numpy.lib, "array_utils", numpy), "byte_bounds", None)  # NumPy 2 / 1.x


def _check_no_shared_memory(name, params):
    """Two parameters backed by overlapping memory (tied weights shared as arrays, not as one
    Tensor) would be silently untied by packing; refuse. Pass a shared weight as one Tensor."""
    if xp is not numpy or _byte_bounds is None:  # pragma: no cover - byte bounds are a NumPy notion
        return
    bounds = []
    for i, p in enumerate(params):
        if p.data.size:
            low, high = _byte_bounds(p.data)
            bounds.append((low, high, i))
    bounds.sort()
    for (low_a, high_a, i), (low_b, _, j) in zip(bounds, bounds[1:]):
        if low_b < high_a and numpy.may_share_memory(params[i].data, params[j].data):
            raise ValueError(
                f"{name}: parameters {min(i, j)} and {max(i, j)} share memory (weights tied by sharing an "
                "array?); share the same Tensor object instead so the optimizer sees one parameter"
            )


def _plain(value):
    """Hyper-parameter values as JSON-friendly Python data (tuples -> lists, NumPy scalars -> Python)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, numpy.generic):
        return value.item()
    return value


def flatten_state_dict(state_dict, prefix="state"):
    """Split an optimizer ``state_dict()`` into ``(arrays, metadata)`` for a safetensors file.

    ``arrays`` maps ``"state.<index>.<name>"`` to NumPy arrays; ``metadata`` is JSON-serialisable
    (hyper-parameters, parameter indices and step counts). ``unflatten_state_dict`` inverts it.
    """
    arrays, steps = {}, {}
    for index, entry in state_dict["state"].items():
        for key, value in entry.items():
            if key == "step":
                steps[str(index)] = int(numpy.asarray(value))
            else:
                arrays[f"{prefix}.{index}.{key}"] = numpy.ascontiguousarray(to_numpy(value))
    metadata = {"param_groups": [{k: _plain(v) for k, v in g.items()} for g in state_dict["param_groups"]],
                "steps": steps}
    return arrays, metadata


def unflatten_state_dict(arrays, metadata, prefix="state"):
    """Rebuild a ``state_dict()`` from ``flatten_state_dict``'s ``(arrays, metadata)``."""
    state = {int(index): {"step": step} for index, step in metadata["steps"].items()}
    for key, value in arrays.items():
        head, index, name = key.split(".", 2)
        if head != prefix:
            continue
        state.setdefault(int(index), {"step": 0})[name] = value
    return {"state": state, "param_groups": [dict(g) for g in metadata["param_groups"]]}


def _scalars(group, *keys):
    """Hyper-parameters as Python floats, so float32 buffers never meet a float64 NumPy scalar."""
    return [float(group[key]) for key in keys]


# In-place update pieces the optimizers share (every array is a flat buffer or a view of one;
# ``scratch`` is a buffer of the same shape the update may overwrite).
def _l2_decayed(p, g, weight_decay, scratch):
    """The gradient with an L2 penalty, g + weight_decay·p, in ``scratch`` (p.grad is left as
    backward() made it); g itself when weight_decay is 0."""
    if weight_decay == 0:
        return g
    xp.multiply(p, weight_decay, out=scratch)
    scratch += g
    return scratch


def _decayed(p, g, lr, weight_decay, decoupled, scratch):
    """The Adam family's weight decay: ``decoupled`` shrinks ``p`` in place, ``p *= 1 - lr·weight_decay``
    (AdamW), and returns ``g``; otherwise it returns the L2 gradient ``g + weight_decay·p`` (``_l2_decayed``)."""
    if not decoupled:
        return _l2_decayed(p, g, weight_decay, scratch)
    if weight_decay != 0:
        p *= 1.0 - lr * weight_decay
    return g


def _check_adam_like(optimizer, group, *extra):
    """``lr``, ``eps``, ``weight_decay`` and the ``extra`` keys finite and >= 0; ``betas`` two numbers in [0, 1)."""
    for key in ("lr", "eps", "weight_decay", *extra):
        _check_nonnegative(optimizer, group, key)
    _check_betas(optimizer, group)


def _running_average_(avg, value, beta, scratch):
    """avg <- beta·avg + (1 - beta)·value, written as PyTorch's lerp: avg += (1 - beta)·(value - avg)."""
    xp.subtract(value, avg, out=scratch)
    scratch *= 1.0 - beta
    avg += scratch


def _running_square_average_(avg, g, beta, scratch):
    """avg <- beta·avg + (1 - beta)·g²."""
    avg *= beta
    xp.multiply(g, g, out=scratch)
    scratch *= 1.0 - beta
    avg += scratch


def _spare(g, scratch):
    """A buffer the update may overwrite besides ``s2``: ``scratch`` (s1) unless ``g`` lives there
    (weight decay wrote the gradient into it), else a fresh temporary."""
    return scratch if g is not scratch else xp.empty_like(scratch)


def _negated_grad(pack):
    """``-pack.grad`` in a buffer of the pack's own (allocated at the first ``maximize`` step)."""
    negated = getattr(pack, "negated_grad", None)
    if negated is None or negated.shape != pack.grad.shape:
        negated = pack.negated_grad = xp.empty_like(pack.grad)
    xp.negative(pack.grad, out=negated)
    return negated
