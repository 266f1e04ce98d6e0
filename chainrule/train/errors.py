"""Errors raised by the training loop."""

__all__ = ["NonFiniteError"]


class NonFiniteError(FloatingPointError):
    """A loss or gradient became NaN or infinite during ``fit``.

    Raised before the optimizer step, so the model keeps the weights (and buffers) it had before
    the offending batch. Attributes: ``epoch`` and ``batch`` (0-based indices, as callbacks see
    them; the message counts from 1, as the progress display does), ``quantity`` (``"loss"`` or
    ``"gradient"``) and ``value``.
    """

    def __init__(self, message, epoch=None, batch=None, quantity=None, value=None):
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.quantity = quantity
        self.value = value
