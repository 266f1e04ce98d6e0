"""The graph engine: gradient mode and the reverse-mode sweep.

A tensor produced by an op remembers its ``_parents`` (the input tensors) and its
``_backward`` rule: a function that takes the gradient of the loss with respect to the
output and returns one gradient per parent (the chain rule, one link).
``backward()`` orders the graph topologically (iteratively, so a 100,000-op chain does
not hit Python's recursion limit), then walks it from the output back to the leaves,
summing the gradients that reach each tensor along every path. A graph that is a plain chain
(every node has at most one input with a backward rule, as in a feed-forward network) is already
in order and needs neither the sort nor the sums.

``sweep`` is the general form, taken only when needed: several roots, gradient hooks and
``retain_grad()``, anomaly checks, gradients returned instead of accumulated (``chainrule.grad``),
and ``create_graph``, where gradients are Tensors and each op's differentiable rule (``_double``,
written with Tensor ops next to its array rule) records the backward pass as a new graph.
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
    return chain[::-1] if chain is not None else _depth_first_order((root,))


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


def run_backward(root, grad, retain_graph=False, create_graph=False):
    """Backpropagate ``grad`` (an array shaped like ``root``; a Tensor when ``create_graph``) from ``root``
    to every leaf.

    Leaves (tensors made by the user, parameters) that require a gradient get it added
    to their ``.grad``; intermediate gradients live only during the sweep. Hooks, ``retain_grad()``,
    anomaly mode and ``create_graph`` take the general sweep (``sweep``); plain graphs the fast one.
    """
    if create_graph or _special.count or _special.anomaly:
        sweep([root], [grad], retain_graph, create_graph)
        return
    if root._backward is None:  # a leaf: its gradient is the seed itself
        root._accumulate_grad(grad)
        return
    chain = _chain(root)
    if chain is not None:
        _run_chain(chain, grad, retain_graph)
        return
    grads = {id(root): grad}
    for tensor in reversed(_depth_first_order((root,))):
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


# ---------------------------------------------------------------------------------------------------------
# The general sweep: several roots, hooks, retain_grad, anomaly checks, gradients returned instead of
# accumulated (``chainrule.grad``), and create_graph (a differentiable backward pass).


class _Special:
    """How many tensors carry hooks or ``retain_grad()`` (any: take the general sweep), and anomaly mode."""

    count = 0
    anomaly = False


_special = _Special()


def _depth_first_order(roots):
    """The nodes with a backward rule of the graphs ending at ``roots``, inputs before outputs, each once:
    iterative depth-first search, each stack entry (tensor, children_done)."""
    order, seen = [], set()
    for root in roots:
        if root._backward is None:
            continue
        stack = [(root, False)]
        while stack:
            tensor, children_done = stack.pop()
            if children_done:
                order.append(tensor)
                continue
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            stack.append((tensor, True))
            for parent in tensor._parents:
                if parent._backward is not None and id(parent) not in seen:
                    stack.append((parent, False))
    return order


def _wrap(g, create_graph):
    """A gradient as a Tensor for a hook (arrays are wrapped without a graph)."""
    if create_graph:
        return g
    from .tensor import constant

    return constant(g)


def _run_hooks(tensor, g, create_graph):
    """Apply ``tensor``'s hooks, in registration order, to its (complete) gradient ``g``."""
    hooks = getattr(tensor, "_hooks", None)
    if not hooks:
        return g
    for hook in list(hooks.values()):
        out = hook(_wrap(g, create_graph))
        if out is not None:
            data = getattr(out, "data", out)
            if tuple(data.shape) != tuple(g.shape):
                raise RuntimeError(
                    f"a hook returned a gradient of shape {tuple(data.shape)} for a tensor of shape {tensor.shape}"
                )
            g = out if create_graph else data
    return g


def _check_finite(tensor, grads, xp_module):
    for i, pg in enumerate(grads):
        if pg is None:
            continue
        data = getattr(pg, "data", pg)
        if not xp_module.isfinite(data).all():
            kind = "nan" if xp_module.isnan(data).any() else "inf"
            raise RuntimeError(
                f"anomaly detected: the backward rule of '{tensor._op}' returned {kind} values in its gradient "
                f"for input {i} (shape {tuple(data.shape)}); the forward op '{tensor._op}' made a tensor of "
                f"shape {tensor.shape}. Check the inputs of that op (log of 0, division by 0, sqrt at 0 ...)"
            )


def _leading_to(order, wanted):
    """ids of the nodes of ``order`` (topological) from which some tensor in ``wanted`` is reachable."""
    needed = set()
    for tensor in order:
        if id(tensor) in wanted or any(id(p) in wanted or id(p) in needed for p in tensor._parents):
            needed.add(id(tensor))
    return needed


def _add(previous, g):
    # never in place: g may alias an array another path still holds
    return g if previous is None else previous + g


def sweep(roots, grads, retain_graph=False, create_graph=False, inputs=None):
    """Backpropagate ``grads`` from ``roots`` (lists of equal length).

    ``inputs=None``: leaves get their gradients added to ``.grad`` (as ``Tensor.backward``).
    Otherwise returns the list of gradients of ``inputs`` (None where no path reached one) and
    touches no ``.grad`` (as ``chainrule.grad``). With ``create_graph`` the gradients are Tensors and
    every backward rule used is the op's differentiable one, so the result can be differentiated again.
    """
    from .backend import xp

    if create_graph:
        retain_graph = True  # the new graph reads the saved inputs of the old one
    wanted = None if inputs is None else {id(t): i for i, t in enumerate(inputs)}
    captured = None if inputs is None else [None] * len(inputs)
    pending, leaves = {}, {}
    for root, g in zip(roots, grads):
        if root._backward is None:
            leaves[id(root)] = (root, _add(leaves.get(id(root), (None, None))[1], g))
        else:
            pending[id(root)] = _add(pending.get(id(root)), g)
    order = _depth_first_order(roots)
    needed = None if wanted is None else _leading_to(order, wanted)
    with _grad_mode(create_graph):
        for tensor in reversed(order):
            g = pending.pop(id(tensor), None)
            if g is None or (needed is not None and id(tensor) not in needed):
                continue
            g = _run_hooks(tensor, g, create_graph)
            if wanted is not None and id(tensor) in wanted:
                captured[wanted[id(tensor)]] = g
            if inputs is None and getattr(tensor, "_retains", False):
                tensor._store_grad(g)
            if create_graph:
                rule = getattr(tensor, "_double", None)
                if rule is None:
                    raise RuntimeError(
                        f"double backward is not implemented for '{tensor._op}': create_graph=True needs every op "
                        "between the outputs and the inputs to have a differentiable backward rule; compute "
                        "this part without create_graph, or express it with ops that have one"
                    )
                parent_grads = rule(g)
            else:
                parent_grads = tensor._backward(g)
            if _special.anomaly:
                _check_finite(tensor, parent_grads, xp)
            parents = tensor._parents
            if not retain_graph:
                tensor._backward = _freed_graph
                tensor._parents = ()
            for parent, pg in zip(parents, parent_grads):
                if pg is None or not parent.requires_grad:
                    continue
                if parent._backward is None:
                    leaves[id(parent)] = (parent, _add(leaves.get(id(parent), (None, None))[1], pg))
                else:
                    pending[id(parent)] = _add(pending.get(id(parent)), pg)
        for leaf, g in leaves.values():
            g = _run_hooks(leaf, g, create_graph)
            if wanted is None:
                if create_graph:
                    leaf._accumulate_grad_tensor(g)
                else:
                    leaf._accumulate_grad(g)
            elif id(leaf) in wanted:
                captured[wanted[id(leaf)]] = g
    return captured
