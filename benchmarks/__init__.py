"""Benchmarks: chainrule against PyTorch (and others), printed as tables of medians and ratios.

Run one with ``python -m benchmarks.<name>``, e.g. ``python -m benchmarks.ops``.
"""
