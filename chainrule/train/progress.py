"""Progress display for ``fit``: a tqdm bar per epoch on a terminal, one plain line per epoch otherwise.

``verbose=0`` prints nothing; ``verbose=1`` draws a bar per epoch (loss and metrics updated as it
runs) when stdout is a terminal and tqdm is installed, and otherwise prints one line per epoch,
so logs and notebooks do not fill with thousands of lines; ``verbose=2`` always prints lines.
"""

import sys
import time

from .callbacks import Callback

__all__ = ["ProgressLogger", "format_logs"]


def format_logs(logs, skip=("size",)):
    """``"loss: 0.1234 - accuracy: 0.9500 - lr: 0.001"`` from a logs dict."""
    parts = []
    for key, value in logs.items():
        if key in skip:
            continue
        if isinstance(value, float) or hasattr(value, "dtype"):
            text = f"{float(value):.3g}" if key == "lr" else f"{float(value):.4f}"
        else:
            text = str(value)
        parts.append(f"{key}: {text}")
    return " - ".join(parts)


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressLogger(Callback):
    """The progress display ``fit`` adds by itself (see the module docstring for ``verbose``)."""

    order = -50
    _REFRESH_S = 0.2  # the bar's postfix (running loss) is re-rendered at most this often

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        if verbose not in (0, 1, 2):
            raise ValueError(f"fit: verbose must be 0 (silent), 1 (bar or lines) or 2 (lines), got {verbose!r}")
        self.verbose = verbose
        self.stream = stream
        self._bar = None

    def _out(self):
        return self.stream if self.stream is not None else sys.stdout  # looked up late: capsys, redirects

    def on_train_begin(self, logs=None):
        self.mode = "silent"
        if self.verbose == 0:
            return
        self.mode = "lines"
        if self.verbose == 1 and _is_terminal(self._out()):
            try:
                import tqdm  # noqa: F401  (optional dependency)

                self.mode = "bar"
            except ImportError:
                pass

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._epoch = epoch
        if self.mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.params.get("steps"),
                desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                file=self._out(),
                leave=True,
                dynamic_ncols=True,
                unit="batch",
            )
            self._sum = 0.0
            self._count = 0
            self._last_refresh = self._start

    def on_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        size = logs.get("size", 1)
        self._sum += logs["loss"] * size
        self._count += size
        self._bar.update(1)
        now = time.perf_counter()
        if now - self._last_refresh >= self._REFRESH_S:
            self._last_refresh = now
            self._bar.set_postfix_str(f"loss: {self._sum / max(self._count, 1):.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        if self.mode == "bar" and self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.mode == "lines":
            text = format_logs(logs or {})
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {elapsed:.1f}s - {text}", file=self._out(),
                  flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:  # training stopped by an exception in the middle of an epoch
            self._bar.close()
            self._bar = None
