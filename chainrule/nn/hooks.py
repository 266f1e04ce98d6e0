"""Module backward hooks (``register_full_backward_hook`` / ``register_full_backward_pre_hook``).

The module's tensor inputs and outputs are each passed through one identity node that sees all of
their gradients at once (the hub of ``_multi_result``): the output node records ``grad_output`` (and
lets the pre-hooks replace it); the input node, reached after the whole module's backward, calls the
hooks with ``grad_input`` and ``grad_output`` and passes on what they return. So the gradients a hook
sees are those at the module's boundary, as in PyTorch, whatever ops its forward is built from.
"""

from ..backend import xp
from ..function import is_grad_enabled
from ..ops.recurrent import _multi_result
from ..tensor import Tensor

__all__ = ["call_with_backward_hooks"]


def _output_tensors(output):
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        return [item for item in output if isinstance(item, Tensor)]
    return []


def _replace_tensors(output, new):
    if isinstance(output, Tensor):
        return new[0]
    items = iter(new)
    replaced = [next(items) if isinstance(item, Tensor) else item for item in output]
    return type(output)(replaced) if isinstance(output, tuple) else replaced


def _checked(hook, returned, reference, what):
    returned = tuple(returned) if isinstance(returned, (tuple, list)) else (returned,)
    if len(returned) != len(reference):
        raise RuntimeError(f"backward hook {hook!r} returned {len(returned)} {what}, expected {len(reference)}")
    return returned


def call_with_backward_hooks(module, args, kwargs):
    """``module.forward(*args, **kwargs)`` with the inputs and outputs wrapped so its backward hooks run."""
    if not is_grad_enabled():
        return module.forward(*args, **kwargs)
    state = {"grad_output": None, "called": False}
    positions = [k for k, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]

    def call_hooks(grad_input):
        state["called"] = True
        grad_output = state["grad_output"]
        for hook in list(module._backward_hooks.values()):
            changed = hook(module, grad_input, grad_output)
            if changed is not None:
                grad_input = _checked(hook, changed, grad_input, "gradients for the inputs")
        return grad_input

    if positions:
        # d(identity)/dx = 1: the gradients pass through, after the hooks had their say
        # as PyTorch, a tensor input gets a gradient entry even where none reached it (zeros)
        tensors_in = [(k, a) for k, a in enumerate(args) if isinstance(a, Tensor)]

        def inputs_backward(grads):
            grad_input = [None] * len(args)
            for k, a in tensors_in:
                grad_input[k] = xp.zeros(a.shape, dtype=a.dtype)
            for k, g in zip(positions, grads):
                if g is not None:
                    grad_input[k] = g
            grad_input = call_hooks(tuple(grad_input))
            return tuple(grad_input[k] for k in positions)

        wrapped = _multi_result([args[k].data for k in positions], tuple(args[k] for k in positions),
                                inputs_backward, "backward_hook_inputs")
        args = list(args)
        for k, tensor in zip(positions, wrapped):
            args[k] = tensor
        args = tuple(args)

    output = module.forward(*args, **kwargs)
    tensors = [t for t in _output_tensors(output) if t.requires_grad]
    if not tensors:
        return output

    def outputs_backward(grads):
        grad_output = tuple(xp.zeros(t.shape, dtype=t.dtype) if g is None else g for t, g in zip(tensors, grads))
        for hook in list(module._backward_pre_hooks.values()):
            changed = hook(module, grad_output)
            if changed is not None:
                grad_output = _checked(hook, changed, grad_output, "gradients for the outputs")
        state["grad_output"] = grad_output
        if not positions:  # no input node will be reached: call the hooks now
            call_hooks((None,) * len(args))
        return grad_output

    wrapped = _multi_result([t.data for t in tensors], tuple(tensors), outputs_backward, "backward_hook_outputs")
    if len(tensors) != len(_output_tensors(output)):
        new, it = [], iter(wrapped)
        for t in _output_tensors(output):
            new.append(next(it) if t.requires_grad else t)
        wrapped = new
    return _replace_tensors(output, list(wrapped))
