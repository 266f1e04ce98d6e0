"""The graph engine: gradient mode and the reverse-mode sweep.

A tensor produced by an op remembers its ``_parents`` (the input tensors) and its
``_backward`` rule: a function that takes the gradient of the loss with respect to the
output and returns one gradient per parent (the chain rule, one link).
``backward()`` orders the graph topologically (iteratively, so a 100,000-op chain does
not hit Python's recursion limit), then walks it from the output back to the leaves,
summing the gradients that reach each tensor along every path. A graph that is a plain chain
(every node has at most one input with a backward rule, as in a feed-forward network) is already
in order and needs neither the sort nor the sums.
"""

import contextlib
import threading


class _GradMode(threading.local):
    # a class attribute, so a thread that never entered no_grad() reads True by plain attribute lookup
    # (``getattr(local, name, default)`` raises and catches an AttributeError inside: slow for every op)
    enabled = True


_state = _GradMode()


def is_grad_enabled():
    """Whether ops record the graph (False inside ``no_grad()``)."""
    return _state.enabled


@contextlib.contextmanager
def _grad_mode(enabled):
    previous = is_grad_enabled()
    _state.enabled = enabled
    try:
        yield
    finally:
        _state.enabled = previous


def no_grad():
    """Context manager (and decorator) in which ops record no graph: inference, weight updates."""
    return _grad_mode(False)


def enable_grad():
    """Context manager that turns graph recording back on inside ``no_grad()``."""
    return _grad_mode(True)


def _freed_graph(_grad):
    raise RuntimeError(
        "backward() reached a part of the graph that was already freed by an earlier backward(). "
        "Call backward(retain_graph=True) the first time if you need to backpropagate through the "
        "same graph twice, or recompute the forward pass."
    )


def topological_order(root):
    """Tensors of the graph ending at ``root`` that have a backward rule, inputs before outputs."""
    chain = _chain(root)
    return chain[::-1] if chain is not None else _depth_first_order(root)


def _depth_first_order(root):
    """``topological_order`` of any graph: iterative depth-first search, each stack entry (tensor, children_done)."""
    order = []
    seen = set()
    stack = [(root, False)]
    while stack:
        tensor, children_done = stack.pop()
        if children_done:
            order.append(tensor)
            continue
        key = id(tensor)
        if key in seen:
            continue
        seen.add(key)
        stack.append((tensor, True))
        for parent in tensor._parents:
            if parent._backward is not None and id(parent) not in seen:
                stack.append((parent, False))
    return order


def _chain(root):
    """The graph's nodes from ``root`` back, if it is a chain, else None.

    A chain is a graph in which every node has at most one parent that has a backward rule (the
    others are leaves: parameters, inputs), as in a plain feed-forward network. Then the nodes
    reachable from ``root`` are just this path, already in reverse topological order: no depth-first
    search, no visited set.
    """
    chain = []
    node = root
    while node is not None:
        chain.append(node)
        following = None
        for parent in node._parents:
            if parent._backward is not None:
                if following is not None:  # two inner parents (or one used twice): a general graph
                    return None
                following = parent
        node = following
    return chain


def run_backward(root, grad, retain_graph=False):
    """Backpropagate ``grad`` (an array shaped like ``root``) from ``root`` to every leaf.

    Leaves (tensors made by the user, parameters) that require a gradient get it added
    to their ``.grad``; intermediate gradients live only during the sweep.
    """
    if root._backward is None:  # a leaf: its gradient is the seed itself
        root._accumulate_grad(grad)
        return
    chain = _chain(root)
    if chain is not None:
        _run_chain(chain, grad, retain_graph)
        return
    grads = {id(root): grad}
    for tensor in reversed(_depth_first_order(root)):
        g = grads.pop(id(tensor), None)
        if g is None:  # no path from root carried a gradient here
            continue
        for parent, pg in _apply_backward(tensor, g, retain_graph):
            if parent._backward is None:
                parent._accumulate_grad(pg)
            else:
                key = id(parent)
                previous = grads.get(key)
                # never in place: pg may alias an array another path still holds
                grads[key] = pg if previous is None else previous + pg


def _apply_backward(tensor, g, retain_graph):
    """One link of the chain rule: ``tensor``'s backward rule applied to its gradient ``g``.

    Returns the (parent, gradient) pairs that carry a gradient, and frees the node (its rule and
    its inputs, with the arrays they hold) unless ``retain_graph``.
    """
    parent_grads = tensor._backward(g)
    parents = tensor._parents
    if not retain_graph:
        tensor._backward = _freed_graph
        tensor._parents = ()
    return [(parent, pg) for parent, pg in zip(parents, parent_grads) if pg is not None and parent.requires_grad]


def _run_chain(chain, grad, retain_graph):
    """``run_backward`` for a chain (see ``_chain``): each node's one inner parent is the next node, so
    its gradient is handed straight on; no dictionary of pending gradients, no sums of paths."""
    g = grad
    for tensor in chain:
        parent_grads = _apply_backward(tensor, g, retain_graph)
        g = None
        for parent, pg in parent_grads:
            if parent._backward is None:
                parent._accumulate_grad(pg)
            else:
                g = pg  # for the next node of the chain
        if g is None:  # no gradient flows further back
            return
