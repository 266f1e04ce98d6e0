"""``einsum``: Einstein summation over any number of tensors, differentiable.

The forward pass is ``numpy.einsum(optimize=True)``. The backward rule is itself an einsum: for
``out = einsum("ij,jk->ik", A, B)``, ``out[i,k] = Σ_j A[i,j]·B[j,k]``, so
``dL/dA[i,j] = Σ_k G[i,k]·B[j,k]``, i.e. ``einsum("ik,jk->ij", G, B)`` — the upstream gradient takes
the output's place and the operand's own subscripts become the output. Three cases need more than
that swap, and each is handled:

- an index only the operand itself has (summed inside it, as ``j`` in ``"ij->i"``): the gradient
  does not depend on it, so it is computed without it and broadcast along it;
- an index repeated in one operand (a diagonal, as in ``"ii->"``): the gradient is computed on the
  diagonal and written there, zero elsewhere;
- ``...`` broadcast between operands of different size: each operand is broadcast first, and its
  gradient summed back over the broadcast axes.
"""

import string

from ..backend import xp
from ..tensor import as_tensor, result
from .broadcast import unbroadcast

__all__ = ["einsum"]


def _parse(equation, shapes):
    """Explicit subscripts for ``equation``: one letter string per operand and the output's, with
    ``...`` replaced by letters of their own, and the implicit output (NumPy's rule) written out."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a str, got {type(equation).__name__}")
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} has {len(terms)} operand(s), got {len(shapes)} tensor(s)")
    for term in terms + [output]:
        if any(c not in string.ascii_letters for c in term.replace("...", "")):
            raise ValueError(f"einsum: subscripts must be letters (and '...'), got {term!r} in {equation!r}")
    unused = [c for c in string.ascii_letters if c not in equation]
    ellipsis_dims = 0
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if "..." in term:
            ellipsis_dims = max(ellipsis_dims, len(shape) - named)
        elif named != len(shape):
            raise ValueError(f"einsum: subscripts {term!r} name {named} axes, but the operand has shape {shape}")
    broadcast_letters = "".join(unused[:ellipsis_dims])
    explicit = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            own = len(shape) - len(term.replace("...", ""))
            if own < 0:
                raise ValueError(f"einsum: subscripts {term!r} name more axes than the operand's shape {shape}")
            term = term.replace("...", broadcast_letters[ellipsis_dims - own :])
        explicit.append(term)
    if arrow:
        output = output.replace("...", broadcast_letters)
    else:  # implicit: the broadcast axes, then the letters used exactly once, in alphabetical order
        letters = "".join(terms).replace("...", "")
        output = broadcast_letters + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return explicit, output


def _sizes(terms, arrays, equation):
    """Each letter's size; size 1 broadcasts against a larger size (NumPy's rule for '...')."""
    sizes = {}
    for term, array in zip(terms, arrays):
        for letter, n in zip(term, array.shape):
            if sizes.get(letter, 1) == 1:
                sizes[letter] = n
            elif n not in (1, sizes[letter]):
                raise ValueError(f"einsum: index {letter!r} has sizes {sizes[letter]} and {n} in {equation!r}")
    return sizes


def _gradient(g, i, terms, output, arrays, sizes):
    """dL/d operand ``i``: the einsum of ``g`` (in the output's place) with the other operands."""
    term = terms[i]
    unique = "".join(dict.fromkeys(term))  # its letters, each once, in order
    others = [output] + terms[:i] + terms[i + 1 :]
    known = set("".join(others))
    kept = "".join(c for c in unique if c in known)
    operands = [g] + arrays[:i] + arrays[i + 1 :]
    grad = xp.einsum(",".join(others) + "->" + kept, *operands, optimize=True)
    if kept != unique:  # letters summed inside this operand alone: the gradient is constant along them
        grad = grad.reshape(tuple(sizes[c] if c in known else 1 for c in unique))
        grad = xp.broadcast_to(grad, tuple(sizes[c] for c in unique))
    if unique != term:  # repeated letters: write the gradient on the diagonal, zero elsewhere
        full = xp.zeros(tuple(sizes[c] for c in term), dtype=g.dtype)
        grids = xp.ix_(*[xp.arange(sizes[c]) for c in unique])
        full[tuple(grids[unique.index(c)] for c in term)] = grad
        grad = full
    return grad


def einsum(equation, *operands):
    """Einstein summation, as ``torch.einsum``: ``einsum("bij,bjk->bik", a, b)`` is a batched matmul.

    ``operands`` may also be given as one list. Subscripts are letters; ``...`` stands for the
    broadcast axes; without ``->`` the output is NumPy's/PyTorch's implicit one.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    tensors = tuple(as_tensor(t) for t in operands)
    terms, output = _parse(equation, [t.shape for t in tensors])
    sizes = _sizes(terms, [t.data for t in tensors], equation)
    # broadcast '...' axes of size 1 up front, so the gradient einsums see one size per letter
    arrays = [
        t.data if t.shape == tuple(sizes[c] for c in term) else xp.broadcast_to(t.data, tuple(sizes[c] for c in term))
        for t, term in zip(tensors, terms)
    ]
    if len(set(output)) != len(output) or any(c not in sizes for c in output):
        raise ValueError(f"einsum: output subscripts {output!r} must be distinct letters of the inputs in {equation!r}")
    out = xp.einsum(",".join(terms) + "->" + output, *arrays, optimize=True)

    # dL/d operand_i = einsum(G, the other operands -> operand_i's subscripts)  (see the module docstring)
    def backward(g):
        return tuple(
            unbroadcast(_gradient(g, i, terms, output, arrays, sizes), t.shape) if t.requires_grad else None
            for i, t in enumerate(tensors)
        )

    def double(g):  # the same einsums on Tensors (einsum is differentiable: so is its gradient)
        return tuple(
            unbroadcast(_gradient_tensor(g, i, terms, output, tensors, sizes), t.shape) if t.requires_grad else None
            for i, t in enumerate(tensors)
        )

    return result(xp.asarray(out), tensors, backward, "einsum", double)


def _gradient_tensor(g, i, terms, output, tensors, sizes):
    """``_gradient`` with Tensors: ``einsum(G, the other operands -> operand i's letters)``, broadcast along
    the letters summed inside operand i alone."""
    from .shape import expand, reshape

    term = terms[i]
    unique = "".join(dict.fromkeys(term))
    if unique != term:
        raise RuntimeError("double backward is not implemented for 'einsum' with a letter repeated in one operand "
                           f"({term!r})")
    others = [output] + terms[:i] + terms[i + 1 :]
    known = set("".join(others))
    kept = "".join(c for c in unique if c in known)
    operands = [g] + [
        t if t.shape == tuple(sizes[c] for c in term) else expand(t, tuple(sizes[c] for c in term))
        for t, term in zip(tensors[:i] + tensors[i + 1 :], terms[:i] + terms[i + 1 :])
    ]
    grad = einsum(",".join(others) + "->" + kept, *operands)
    if kept != unique:
        grad = expand(reshape(grad, tuple(sizes[c] if c in known else 1 for c in unique)),
                      tuple(sizes[c] for c in unique))
    return grad
