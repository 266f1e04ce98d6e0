"""Gradient health: how much gradient reaches each time step and each layer.

Vanishing and exploding gradients are the usual reason a recurrent network does not
learn long-range structure. ``GradientHealth`` makes them visible:

* **per time step** — every recurrent layer (``RNN``, ``LSTM``, ``GRU``) reports, during
  backward, the norm of dLoss/dh_t for each step t of each layer and direction (the fused
  ops' ``recorder`` hook). In a tanh RNN it shrinks geometrically going back in time;
* **per layer** — after backward, the norm of each layer's parameter gradients (recurrent
  layers split into their stacked layers and directions, ``"lstm.l0"``, ``"lstm.l1_reverse"``).

>>> health = GradientHealth(model)                                  # doctest: +SKIP
>>> with health.record():                                           # doctest: +SKIP
...     loss_fn(model(x), y).backward()
>>> health.step_norms("lstm", "l0")       # array, one norm per time step
>>> health.layer_norms()                  # {"lstm.l0": ..., "head": ...}
>>> health.plot("gradients.png")

Inside ``fit`` use ``callbacks=[health.callback()]``: it records every ``every``-th batch.
"""

import contextlib
import math
import re

import numpy

from ..backend import to_numpy

__all__ = ["GradientHealth"]

_RECURRENT_PARAM = re.compile(r"^(?:weight|bias)_(?:ih|hh)_(l\d+(?:_reverse)?)$")


class GradientHealth:
    """Record per-time-step and per-layer gradient norms of ``model`` (see the module docstring).

    Attributes
    ----------
    sweeps : dict
        ``(module name, "l0" | "l0_reverse" | ...)`` -> list of arrays, one per recorded backward,
        each holding the norm of dLoss/dh_t for t = 0..T-1.
    history : list of dict
        One ``{layer name: gradient norm}`` per ``collect()``.
    """

    def __init__(self, model):
        self.model = model
        self.sweeps = {}
        self.history = []
        self._current = {}
        self._saved = None

    # ------------------------------------------------------------------ recording
    def _recurrent_modules(self):
        return [(name or type(module).__name__, module) for name, module in self.model.named_modules()
                if hasattr(module, "gradient_recorder")]

    def attach(self):
        """Make every recurrent layer report per-step gradient norms from now on."""
        if self._saved is not None:
            return
        self._saved = []
        for name, module in self._recurrent_modules():
            self._saved.append((module, module.gradient_recorder))
            module.gradient_recorder = self._recorder(name)

    def detach(self):
        """Stop recording per-step norms (restores the layers' previous recorders)."""
        self._flush()
        for module, previous in self._saved or ():
            module.gradient_recorder = previous
        self._saved = None

    def _recorder(self, module_name):
        def record(label, t, norm):
            key = (module_name, label)
            current = self._current.setdefault(key, {})
            if t in current:  # a new backward pass has started: file the finished sweep
                self._file(key, current)
                current = self._current[key] = {}
            current[t] = norm

        return record

    def _file(self, key, steps):
        if steps:
            values = numpy.full(max(steps) + 1, numpy.nan)
            for t, norm in steps.items():
                values[t] = norm
            self.sweeps.setdefault(key, []).append(values)

    def _flush(self):
        for key, steps in self._current.items():
            self._file(key, steps)
        self._current = {}

    def collect(self):
        """Store the gradient norm of each layer's parameters now (call after ``backward()``)."""
        self._flush()
        groups = {}
        for module_name, module in self.model.named_modules():
            for param_name, param in module._parameters.items():
                if param is None or param._grad is None:
                    continue
                group = module_name or type(module).__name__
                match = _RECURRENT_PARAM.match(param_name) if hasattr(module, "gradient_recorder") else None
                if match:
                    group = f"{group}.{match.group(1)}"
                g = to_numpy(param._grad).astype(numpy.float64)
                groups[group] = groups.get(group, 0.0) + float(numpy.vdot(g, g))
        norms = {name: math.sqrt(total) for name, total in groups.items()}
        self.history.append(norms)
        return norms

    @contextlib.contextmanager
    def record(self):
        """Within the block, record per-step norms of every backward; at its end, ``collect()`` the layer norms."""
        self.attach()
        try:
            yield self
        finally:
            self.detach()
            self.collect()

    # ------------------------------------------------------------------ results
    def step_norms(self, module, label="l0", sweep=-1):
        """Norms of dLoss/dh_t for t = 0..T-1 of recurrent ``module`` (its name in the model), layer and
        direction ``label`` ("l0", "l1_reverse", ...), for recorded backward ``sweep`` ("mean": averaged)."""
        self._flush()
        key = (module, label)
        if key not in self.sweeps:
            known = ", ".join(f"({m!r}, {l!r})" for m, l in self.sweeps) or "none yet: run backward inside record()"
            raise KeyError(f"GradientHealth: no step norms for ({module!r}, {label!r}); recorded: {known}")
        runs = self.sweeps[key]
        if sweep == "mean":
            length = max(len(r) for r in runs)
            padded = numpy.full((len(runs), length), numpy.nan)
            for i, r in enumerate(runs):
                padded[i, : len(r)] = r
            return numpy.nanmean(padded, axis=0)
        return runs[sweep]

    def layer_norms(self, index=-1):
        """``{layer: gradient norm}`` of collection ``index`` (default the latest)."""
        if not self.history:
            raise RuntimeError("GradientHealth: nothing collected yet; call collect() after backward() or use record()")
        return dict(self.history[index])

    def summary(self):
        """Per recurrent layer: ratio of the gradient norm reaching the first step to that at the last step."""
        self._flush()
        lines = []
        for (module, label), runs in self.sweeps.items():
            norms = runs[-1]
            ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("nan")
            verdict = "vanishing" if ratio < 1e-3 else "exploding" if ratio > 1e3 else "healthy"
            lines.append(f"{module}.{label}: |dL/dh_0| / |dL/dh_T-1| = {ratio:.3g} ({verdict})")
        return "\n".join(lines)

    # ------------------------------------------------------------------ display
    def plot(self, path=None, sweep=-1):
        """Two panels: per-step gradient norms (log scale) and per-layer gradient norms. Returns the Figure;
        saves it to ``path`` if given. Needs matplotlib (imported here, with the Agg backend if none is set)."""
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        self._flush()
        fig, (ax_steps, ax_layers) = plt.subplots(1, 2, figsize=(11, 4))
        for (module, label), runs in self.sweeps.items():
            norms = self.step_norms(module, label, sweep)
            ax_steps.semilogy(numpy.arange(len(norms)), norms, label=f"{module}.{label}")
        ax_steps.set_xlabel("time step t")
        ax_steps.set_ylabel("‖dLoss/dh_t‖")
        ax_steps.set_title("gradient reaching each time step")
        if self.sweeps:
            ax_steps.legend()
        if self.history:
            norms = self.history[sweep if sweep != "mean" else -1]
            names = list(norms)
            ax_layers.barh(names, [norms[n] for n in names])
            ax_layers.set_xscale("log")
            ax_layers.invert_yaxis()
        ax_layers.set_xlabel("‖dLoss/dθ‖ of the layer's parameters")
        ax_layers.set_title("gradient reaching each layer")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
        return fig

    # ------------------------------------------------------------------ fit
    def callback(self, every=1):
        """A ``chainrule.train`` callback recording during ``fit`` every ``every``-th batch (after clipping)."""
        from ..train.callbacks import Callback

        health = self

        class _GradientHealthCallback(Callback):
            def on_train_begin(self, logs=None):
                health.attach()

            def on_batch_end(self, batch, logs=None):
                if batch % every == 0:
                    health.collect()

            def on_train_end(self, logs=None):
                health.detach()

        return _GradientHealthCallback()
