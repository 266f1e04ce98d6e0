"""Flat parameter buffers: the memory layout every optimizer works on.

Layout
------
For each parameter group and each floating dtype in it, the optimizer owns one ``FlatParams``:

* ``data``  : 1-D array of ``size`` elements holding the values of all the parameters, one after the
  other in group order. Parameter ``i`` occupies ``data[offsets[i]:offsets[i + 1]]`` and its
  ``param.data`` *is* that slice reshaped to the parameter's shape (a view, no copy), so an in-place
  update of ``data`` is visible through every parameter.
* ``grad``  : the same layout for gradients. Once a parameter has a gradient, its gradient array
  ``param._grad`` (which the Tensor ``param.grad`` wraps) is the matching view of ``grad``; the
  engine's ``Tensor._accumulate_grad`` adds into an existing gradient in place, and writes a fresh
  one (after ``zero_grad()`` set it to None) into the view ``param._grad_home``, so ``backward()``
  writes straight into the flat buffer either way.
* ``state`` : name -> 1-D buffer of the same layout (momentum, Adam's ``exp_avg``/``exp_avg_sq``...).
* ``scratch``: two preallocated 1-D buffers for temporaries, so a step allocates no arrays.
* ``steps`` : per-parameter step counts (host int64), as PyTorch keeps them; a parameter that had
  no gradient in a step is skipped and its count does not move.

With this layout an optimizer step is a handful of whole-buffer ufunc calls (``out=``), the same
count for 2 parameters or 200, and all gradients can be all-reduced in one call.
"""

import operator
import weakref

import numpy

from ..backend import to_numpy, xp

# id(grad buffer) -> FlatParams, so clip_grad_norm_ can recognise gradients that tile one buffer.
_GRAD_BUFFERS = weakref.WeakValueDictionary()

_get_data = operator.attrgetter("data")
_get_grad = operator.attrgetter("_grad")  # the gradient array (``grad`` is its Tensor wrapper)


class FlatParams:
    """Parameters of one dtype (from one group) packed into contiguous buffers; see the module docstring.

    Construction copies each parameter's values into ``data`` and rebinds ``param.data`` to its view.
    A gradient that already exists is copied into ``grad`` and ``param.grad`` rebound likewise; a
    parameter without a gradient keeps ``grad = None`` (PyTorch skips such parameters in ``step``).
    """

    def __init__(self, params, dtype, where="optimizer"):
        self.params = list(params)
        self.dtype = xp.dtype(dtype)
        self.where = where
        self.shapes = [p.data.shape for p in self.params]
        offsets = [0]
        for p in self.params:
            offsets.append(offsets[-1] + int(p.data.size))
        self.offsets = offsets
        self.size = n = offsets[-1]
        self.data = xp.empty(n, dtype=self.dtype)
        self.grad = xp.zeros(n, dtype=self.dtype)
        self.scratch = (xp.empty(n, dtype=self.dtype), xp.empty(n, dtype=self.dtype))
        self.state = {}
        self.steps = numpy.zeros(len(self.params), dtype=numpy.int64)
        self.uniform = True  # all step counts alike as far as the update rule cares (see Optimizer._step_keys)
        self.data_views = []
        self.grad_views = []
        for i, p in enumerate(self.params):
            lo, hi = offsets[i], offsets[i + 1]
            data_view = self.data[lo:hi].reshape(self.shapes[i])
            data_view[...] = p.data
            p.data = data_view
            self.data_views.append(data_view)
            grad_view = self.grad[lo:hi].reshape(self.shapes[i])
            self.grad_views.append(grad_view)
            p._grad_home = grad_view  # backward() writes a parameter's fresh gradient here (no copy in step)
            if p._grad is not None:
                self._adopt_grad(i, p._grad)
        _GRAD_BUFFERS[id(self.grad)] = self

    # ------------------------------------------------------------ copy/pickle
    # ``copy.deepcopy`` and ``pickle`` copy a view as an array of its own, so a restored pack would update
    # a ``data`` buffer no parameter looks at. The views are therefore not stored: they are re-made from
    # the restored buffers and each restored parameter is bound to them again. A parameter's own pickled
    # arrays hold the same values (they were views of these buffers), so rebinding loses nothing.
    def __getstate__(self):
        state = self.__dict__.copy()
        del state["data_views"], state["grad_views"]
        # which parameters had their data / grad in the buffers (anything else is adopted by sync())
        state["_bound"] = [(p.data is d, p._grad is g) for p, d, g in zip(self.params, self.data_views,
                                                                           self.grad_views)]
        return state

    def __setstate__(self, state):
        bound = state.pop("_bound")
        self.__dict__.update(state)
        self.data_views, self.grad_views = [], []
        for i, (p, (data_bound, grad_bound)) in enumerate(zip(self.params, bound)):
            lo, hi = self.offsets[i], self.offsets[i + 1]
            data_view = self.data[lo:hi].reshape(self.shapes[i])
            grad_view = self.grad[lo:hi].reshape(self.shapes[i])
            self.data_views.append(data_view)
            self.grad_views.append(grad_view)
            if data_bound:
                p.data = data_view
            p._grad_home = grad_view  # where backward() writes a fresh gradient (see __init__)
            if grad_bound:
                p._rebind_grad(grad_view)
        _GRAD_BUFFERS[id(self.grad)] = self

    # ------------------------------------------------------------------ syncing
    def sync(self):
        """Make sure every present gradient lives in ``grad`` and every ``param.data`` is its view.

        Returns None when every parameter has its gradient in the buffer (the common, bulk case),
        else a list of booleans: which parameters have a gradient (``grad is None`` means skip).
        Cost in the common case: two C-level identity scans over the parameter list.
        """
        params = self.params
        if all(map(operator.is_, map(_get_grad, params), self.grad_views)) and all(
            map(operator.is_, map(_get_data, params), self.data_views)
        ):
            return None
        active = None
        for i, p in enumerate(params):
            if p.data is not self.data_views[i]:
                self._adopt_data(i)
            g = p._grad
            if g is self.grad_views[i]:
                continue
            if g is None:
                if active is None:
                    active = [True] * len(params)
                active[i] = False
            else:
                self._adopt_grad(i, g)
        return active

    def _adopt_grad(self, i, g):
        """A gradient array that is not our view (first backward, or assigned by the user): copy it in."""
        p, view = self.params[i], self.grad_views[i]
        g = getattr(g, "data", g)  # a Tensor assigned as grad
        if tuple(g.shape) != view.shape:
            raise ValueError(
                f"{self.where}: the gradient of parameter {i} (shape {view.shape}) has shape {tuple(g.shape)}"
            )
        view[...] = g
        p._grad_home = view
        p._rebind_grad(view)

    def _adopt_data(self, i):
        """``param.data`` was rebound to a new array: take its values into the buffer and restore the view.

        Same shape and dtype: the new values are adopted and the optimizer state is kept (e.g. after
        re-initialising a layer with ``p.data = new_array``). Anything else is an error, because the
        optimizer state would no longer describe the parameter.
        """
        p, view = self.params[i], self.data_views[i]
        new = p.data
        if getattr(new, "shape", None) != view.shape or getattr(new, "dtype", None) != view.dtype:
            raise ValueError(
                f"{self.where}: parameter {i} was rebound to an array of shape "
                f"{getattr(new, 'shape', '?')} and dtype {getattr(new, 'dtype', type(new).__name__)}, but the "
                f"optimizer holds it as shape {view.shape}, dtype {view.dtype}. Change dtype or shape before "
                "creating the optimizer (or create a new optimizer); to load weights, copy into param.data "
                "in place (param.data[...] = values), as Module.load_state_dict does"
            )
        view[...] = new
        p.data = view

    # ------------------------------------------------------------------ pieces
    def runs(self, active, keys):
        """Maximal stretches of consecutive parameters that have a gradient and equal step ``keys``
        (the step counts, or what of them the update rule depends on).

        Returns ``[(lo, hi, i0, i1), ...]``: elements ``lo:hi`` of the buffers, parameters ``i0:i1``.
        """
        n, i = len(self.params), 0
        out = []
        while i < n:
            if active is not None and not active[i]:
                i += 1
                continue
            j = i + 1
            while j < n and (active is None or active[j]) and keys[j] == keys[i]:
                j += 1
            out.append((self.offsets[i], self.offsets[j], i, j))
            i = j
        return out

    def active_segments(self, active):
        """Element ranges ``(lo, hi)`` covering the parameters that have a gradient."""
        if active is None:
            return [(0, self.size)]
        out, i, n = [], 0, len(self.params)
        while i < n:
            if not active[i]:
                i += 1
                continue
            j = i + 1
            while j < n and active[j]:
                j += 1
            out.append((self.offsets[i], self.offsets[j]))
            i = j
        return out

    def refresh_uniform(self, keys):
        self.uniform = len(keys) == 0 or bool((keys == keys[0]).all())

    def ensure_state(self, spec):
        """Allocate any missing state buffer; ``spec`` is a sequence of ``(name, initial value)``."""
        state = self.state
        for name, fill in spec:
            if name not in state:
                state[name] = xp.full(self.size, fill, dtype=self.dtype)
        return state

    def param_state(self, i, copy=True):
        """Parameter ``i``'s state as ``{"step": int, name: array shaped like the parameter}``."""
        lo, hi, shape = self.offsets[i], self.offsets[i + 1], self.shapes[i]
        entry = {"step": int(self.steps[i])}
        for name, buf in self.state.items():
            view = buf[lo:hi].reshape(shape)
            entry[name] = to_numpy(view).copy() if copy else view
        return entry
