"""Benchmarks: chainrule against PyTorch (and others), printed as tables of medians and ratios.

``python -m benchmarks`` prints the whole table (MLP, CNN and LSTM training, MLP inference, import
time, installed size, peak memory); ``--quick``, ``--threads N``, ``--json PATH``, ``--markdown PATH``.
``python -m benchmarks --suite zoo`` runs the networks of issue 16 instead (ResNet-20, a VGG-style net,
MobileNetV2 blocks, ResNet-18, a 2-layer LSTM language model: ``benchmarks/zoo.py``; a few minutes).
Run one section with ``python -m benchmarks.<name>``: ``mlp``, ``cnn``, ``lstm``, ``ops``,
``optimizer_step``, ``startup``, and the zoo's ``resnet`` (``--profile``: per-op time of one step),
``vgg``, ``mobilenet``, ``resnet18``, ``lstm_lm``. They run on demand, never as tests: the machines are
shared and noisy.
"""
