"""L-BFGS with an optional strong-Wolfe line search, PyTorch's algorithm (``torch.optim.LBFGS``).

L-BFGS is a quasi-Newton method: from the last ``history_size`` steps ``s = x_{k+1} - x_k`` and gradient
changes ``y = g_{k+1} - g_k`` it builds an approximation of the inverse Hessian (the two-loop recursion)
and steps along ``d = -H g``. Each ``step(closure)`` runs up to ``max_iter`` such iterations, calling
``closure()`` (which must zero the gradients, compute the loss, call ``backward()`` and return the
loss) to re-evaluate. It works on the whole parameter vector: the optimizer's flat buffer is exactly
that vector, so no gathering is needed.
"""

import numpy

from ..backend import xp
from ..function import enable_grad
from .optimizer import Optimizer, _check_nonnegative

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    """Limited-memory BFGS, as ``torch.optim.LBFGS``: one parameter group of one dtype, full-batch problems.

    Parameters
    ----------
    params : iterable of Tensor
    lr : float
        Step length (the line search's initial step).
    max_iter : int
        Iterations per ``step()``.
    max_eval : int, optional
        Function evaluations per ``step()`` (default ``max_iter * 5 // 4``).
    tolerance_grad : float
        Stop when the largest gradient entry is at most this.
    tolerance_change : float
        Stop when the loss or the step changes less than this.
    history_size : int
        Number of (s, y) pairs kept.
    line_search_fn : None or "strong_wolfe"
        None: fixed steps of ``lr`` (after a scaled first one).

    Examples
    --------
    >>> opt = LBFGS(model.parameters(), line_search_fn="strong_wolfe")     # doctest: +SKIP
    >>> def closure():                                                     # doctest: +SKIP
    ...     opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); return loss
    >>> opt.step(closure)                                                  # doctest: +SKIP
    """

    _step_dependence = "none"

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        if len(self._packs[0]) != 1:
            raise ValueError("LBFGS needs all parameters in one dtype (it works on one parameter vector)")
        self._lbfgs = {"func_evals": 0, "n_iter": 0}

    def _validate(self, group):
        for key in ("lr", "tolerance_grad", "tolerance_change"):
            _check_nonnegative(self, group, key)
        for key in ("max_iter", "max_eval", "history_size"):
            if isinstance(group[key], bool) or not isinstance(group[key], int) or group[key] < 1:
                raise ValueError(f"LBFGS: {key} must be an integer >= 1, got {group[key]!r}")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {group['line_search_fn']!r}")

    # -------------------------------------------------------------- the vector
    @property
    def _pack(self):
        return self._packs[0][0]

    def _flat_grad(self):
        """The gradient as one vector (a copy); parameters without a gradient contribute zeros."""
        pack = self._pack
        active = pack.sync()
        grad = pack.grad.copy()
        if active is not None:
            for i, has_grad in enumerate(active):
                if not has_grad:
                    grad[pack.offsets[i]:pack.offsets[i + 1]] = 0
        return grad

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return float(loss.item() if hasattr(loss, "item") else loss), self._flat_grad()

    def _directional_evaluate(self, closure, x, t, d):
        """Loss and gradient at ``x + t d``; the parameters are put back to ``x`` afterwards."""
        data = self._pack.data
        data += t * d
        loss, grad = self._evaluate(closure)
        data[...] = x
        return loss, grad

    # ------------------------------------------------------------------ step
    def step(self, closure):
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss of the first ``closure()`` call."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure that re-evaluates the model and returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = float(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = float(group["tolerance_grad"]), float(group["tolerance_change"])
        history_size = group["history_size"]
        state = self._lbfgs
        data = self._pack.data

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss.item() if hasattr(orig_loss, "item") else orig_loss)
        flat_grad = self._flat_grad()
        current_evals = 1
        state["func_evals"] += 1
        if xp.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the direction d = -H g, by the two-loop recursion over the stored (s, y) pairs
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:  # curvature condition: keep the pair only if it is informative
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y @ y)  # the initial inverse Hessian is H_diag * I
                al = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = float(old_dirs[i] @ r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            # the step length: a scaled first step, then lr
            t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(flat_grad @ d)  # directional derivative
            if gtd > -tolerance_change:
                break
            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x_init = data.copy()
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    lambda x, step, direction: self._directional_evaluate(closure, x, step, direction),
                    x_init, t, d, loss, flat_grad, gtd)
                data += t * d
                opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
            else:
                data += t * d
                opt_cond = False
                if n_iter != max_iter:
                    loss, flat_grad = self._evaluate(closure)
                    opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if xp.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break
        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # ------------------------------------------------------------------ state
    def state_dict(self):
        """The L-BFGS memory as plain data: directions and steps stacked into 2-D arrays (index 0's state)."""
        base = super().state_dict()
        state = self._lbfgs
        entry = {"step": int(state["n_iter"]), "func_evals": int(state["func_evals"])}
        if state.get("d") is not None:
            k, n = len(state["old_dirs"]), self._pack.size
            entry.update(
                d=numpy.asarray(state["d"]).copy(), t=float(state["t"]), H_diag=float(state["H_diag"]),
                prev_flat_grad=numpy.asarray(state["prev_flat_grad"]).copy(), prev_loss=float(state["prev_loss"]),
                old_dirs=numpy.asarray(state["old_dirs"]).reshape(k, n), ro=numpy.asarray(state["ro"], float),
                old_stps=numpy.asarray(state["old_stps"]).reshape(k, n),
            )
        base["state"] = {0: entry}
        return base

    def load_state_dict(self, state_dict):
        entry = dict(state_dict.get("state", {}).get(0, state_dict.get("state", {}).get("0", {})))
        groups = state_dict["param_groups"]
        for key, value in groups[0].items():
            if key != "params":
                self.param_groups[0][key] = value
        dtype = self._pack.dtype
        state = {"func_evals": int(numpy.asarray(entry.get("func_evals", 0))),
                 "n_iter": int(numpy.asarray(entry.get("step", 0)))}
        if "d" in entry:
            state.update(
                d=xp.asarray(entry["d"], dtype=dtype), t=float(numpy.asarray(entry["t"])),
                H_diag=float(numpy.asarray(entry["H_diag"])), prev_loss=float(numpy.asarray(entry["prev_loss"])),
                prev_flat_grad=xp.asarray(entry["prev_flat_grad"], dtype=dtype),
                old_dirs=[xp.asarray(v, dtype=dtype) for v in numpy.asarray(entry["old_dirs"])],
                old_stps=[xp.asarray(v, dtype=dtype) for v in numpy.asarray(entry["old_stps"])],
                ro=[float(v) for v in numpy.asarray(entry["ro"]).reshape(-1)],
            )
        self._lbfgs = state


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clipped to ``bounds``
    (default: the interval between x1 and x2); the midpoint when the cubic has no minimum."""
    xmin_bound, xmax_bound = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square**0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step ``t`` along ``d`` satisfying the strong Wolfe conditions (sufficient decrease, curvature),
    by bracketing then zooming with cubic interpolation (Nocedal & Wright, algorithms 3.5 and 3.6).

    Returns ``(loss, gradient, t, function evaluations)`` at the chosen step.
    """
    d_norm = float(xp.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket_gtd = None
    # bracketing phase
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: shrink the bracket until a point satisfies the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # keep away from the bracket's ends unless progress is being made
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals
