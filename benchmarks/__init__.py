"""Benchmarks: chainrule against PyTorch (and others), printed as tables of medians and ratios.

``python -m benchmarks`` prints the whole table (MLP, CNN and LSTM training, MLP inference, import
time, installed size, peak memory); ``--quick``, ``--threads N``, ``--json PATH``, ``--markdown PATH``.
Run one section with ``python -m benchmarks.<name>``: ``mlp``, ``cnn``, ``lstm``, ``ops``,
``optimizer_step``, ``startup``. They run on demand, never as tests: the machines are shared and noisy.
"""
