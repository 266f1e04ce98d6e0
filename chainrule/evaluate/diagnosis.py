"""Over- and underfitting diagnosis from a training history.

``diagnose(history)`` reads the per-epoch training and validation losses and returns a
verdict with the evidence, a plain-language explanation and the remedies that evidence
supports. The rules, in the order they are tried:

1. **overfitting** — the validation loss reached its minimum at some epoch and has since
   risen clearly (by more than ``rise_tolerance`` of its minimum) while the training loss
   kept falling: the network is learning the training set's noise. The epoch of the
   minimum is where it began.
2. **not converged** — the training loss was still falling at the end (it dropped by more
   than ``slope_tolerance`` per epoch over the last fifth of the epochs, relative to the final
   loss or to 5 % of the reference loss, whichever is larger — a loss creeping towards zero has
   finished learning): train longer.
3. **underfitting** — both losses have flattened out, far from zero: the final training
   loss is still more than ``high_fraction`` of the starting loss (or of ``baseline_loss``,
   e.g. ln(C) for C balanced classes), and the validation loss is no lower: the model
   is too small or too constrained to fit even the training data.
4. **good fit** — otherwise.

A learning curve (scores over growing training-set sizes, from
:func:`chainrule.evaluate.validation.learning_curve`) refines the advice: a validation
score still climbing at the largest size says more data would help.
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Diagnosis", "diagnose"]

VERDICTS = ("good_fit", "overfitting", "underfitting", "not_converged")


@dataclass
class Diagnosis:
    """Result of :func:`diagnose`: ``verdict`` is one of ``VERDICTS``."""

    verdict: str
    explanation: str
    remedies: list
    evidence: dict = field(default_factory=dict)

    @property
    def title(self):
        return self.verdict.replace("_", " ").capitalize()

    def __str__(self):
        lines = [f"Diagnosis: {self.title}", "", self.explanation]
        if self.remedies:
            lines += ["", "What to try:"] + [f"  - {remedy}" for remedy in self.remedies]
        return "\n".join(lines)

    def to_dict(self):
        return {"verdict": self.verdict, "explanation": self.explanation, "remedies": list(self.remedies),
                "evidence": dict(self.evidence)}


def _losses(history, key):
    values = history.get(key) if isinstance(history, dict) else None
    if values is None:
        return None
    values = np.asarray(values, dtype=np.float64)
    return values if values.size else None


def _relative_slope(losses, window, reference):
    """Average per-epoch decrease over the last ``window`` epochs (positive = falling), relative to the
    final loss — but never to less than 5 % of the reference loss, so a training loss
    creeping towards zero (0.002 -> 0.001) does not count as "still learning"."""
    window = min(window, losses.size)
    if window < 2:
        return 0.0
    start, end = losses[-window], losses[-1]
    scale = max(abs(end), _FLOOR_FRACTION * abs(reference), 1e-12)
    return float((start - end) / (window - 1) / scale)


_FLOOR_FRACTION = 0.05


def diagnose(history, baseline_loss=None, learning_curve=None, rise_tolerance=0.1, slope_tolerance=0.01,
             high_fraction=0.3):
    """Diagnose over- or underfitting from a training history.

    Parameters
    ----------
    history : History or dict
        Per-epoch lists under ``"loss"`` and (for most verdicts) ``"val_loss"``.
    baseline_loss : float, optional
        Loss of a trivial predictor (ln C for C balanced classes with cross-entropy, the
        target variance with MSE). Defaults to the first epoch's training loss.
    learning_curve : dict, optional
        ``{"train_sizes": [...], "train_scores": [...], "val_scores": [...]}`` (higher is better).
    rise_tolerance, slope_tolerance, high_fraction : float
        Thresholds of the rules in the module docstring.

    Returns
    -------
    Diagnosis
    """
    history = getattr(history, "history", history)
    train = _losses(history, "loss")
    if train is None:
        raise ValueError("diagnose: the history has no 'loss' entries; pass the History returned by fit()")
    if not np.isfinite(train).all():
        raise ValueError("diagnose: the training loss contains NaN or infinity; fix the divergence first")
    val = _losses(history, "val_loss")
    epochs = train.size
    window = max(3, epochs // 5)
    reference = float(baseline_loss) if baseline_loss is not None else float(train[0])
    evidence = {"epochs": epochs, "final_train_loss": float(train[-1]), "reference_loss": reference,
                "train_slope": _relative_slope(train, window, reference)}
    remedies_more_data = _more_data_helps(learning_curve)

    if val is not None:
        best = int(np.argmin(val))
        evidence.update(final_val_loss=float(val[-1]), best_val_loss=float(val[best]), best_epoch=best + 1,
                        generalisation_gap=float(val[-1] - train[-1]))
        rise = val[-1] - val[best]
        train_fell_after_best = train[-1] < train[best]
        if best < epochs - 1 and rise > rise_tolerance * max(abs(val[best]), 1e-12) and train_fell_after_best:
            explanation = (
                f"The validation loss was lowest at epoch {best + 1} ({val[best]:.4g}) and has risen since, "
                f"to {val[-1]:.4g} at epoch {epochs}, while the training loss kept falling "
                f"(to {train[-1]:.4g}). From epoch {best + 1} on the network has been memorising the "
                "training set — fitting its noise — rather than learning what carries over to new data."
            )
            remedies = [
                f"stop early: keep the weights from epoch {best + 1} (EarlyStopping with restore_best_weights=True)",
                "add regularisation: weight decay (AdamW or weight_decay=) or Dropout between layers",
                "collect more training data, or augment it",
                "use a smaller network (fewer units or layers)",
            ]
            return Diagnosis("overfitting", explanation, remedies, dict(evidence, overfitting_began=best + 1))

    if evidence["train_slope"] > slope_tolerance:
        explanation = (
            f"The training loss was still falling at the last epoch (about {100 * evidence['train_slope']:.1f}% "
            f"per epoch over the last {min(window, epochs)} epochs, now {train[-1]:.4g}), and the validation "
            "loss has not started to rise: training stopped before the network finished learning."
        )
        remedies = ["train for more epochs", "raise the learning rate, or use a schedule with warm-up and decay",
                    "check that the inputs are standardised (unscaled inputs slow learning down)"]
        return Diagnosis("not_converged", explanation, remedies, evidence)

    high = train[-1] > high_fraction * reference
    val_no_better = val is None or val[-1] >= train[-1] - 0.05 * abs(train[-1])
    if high and val_no_better:
        explanation = (
            f"Both losses have flattened out far from zero: the training loss ended at {train[-1]:.4g}, still "
            f"{100 * train[-1] / reference:.0f}% of the starting reference ({reference:.4g})"
            + (f", and the validation loss ({val[-1]:.4g}) is no better" if val is not None else "")
            + ". The network cannot fit even the data it trains on: it is too small or too constrained for "
            "the problem, or the learning rate is too low to make progress."
        )
        remedies = ["use a bigger network (more units per layer, or more layers)",
                    "reduce regularisation (weight decay, dropout) if any is used",
                    "try a different learning rate or optimizer (e.g. Adam with lr=1e-3)",
                    "check the inputs: standardise features and make sure the target is learnable from them"]
        return Diagnosis("underfitting", explanation, remedies, evidence)

    explanation = (
        f"The training loss has levelled off at {train[-1]:.4g}"
        + (f" and the validation loss at {val[-1]:.4g}, close to its best ({np.min(val):.4g}); "
           "the network fits the training data without losing ground on unseen data."
           if val is not None else "; without validation data, generalisation cannot be judged — "
           "pass validation_split or validation_data to fit().")
    )
    remedies = []
    if remedies_more_data:
        remedies.append("the validation score was still rising with more training data: collect more data")
    return Diagnosis("good_fit", explanation, remedies, evidence)


def _more_data_helps(learning_curve):
    """True when the validation score still rose between the two largest training sizes."""
    if not learning_curve:
        return False
    val = np.asarray(learning_curve.get("val_scores", []), dtype=np.float64)
    if val.ndim == 2:
        val = val.mean(axis=1)
    return val.size >= 2 and val[-1] - val[-2] > 0.005
