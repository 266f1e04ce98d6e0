"""Zoo benchmark section ``vgg``: a VGG-style 32×32 net (conv3×3 + BN + ReLU twice per stage at 32, 64,
128 channels, max pooling), training at batch 32.

    python -m benchmarks.vgg [--quick] [--threads N]
    python -m benchmarks --only vgg

chainrule against PyTorch, same weights and batches, each peer in its own process; the cases, timing and
memory rules are in ``benchmarks/zoo.py``, the networks in ``benchmarks/models.py``.
"""

from .zoo import section_main, section_rows

SECTION = "vgg"


def rows(quick=False, threads=1):
    """The section's rows for the suite table (see benchmarks/suite.py)."""
    return section_rows(SECTION, quick, threads)


def main(argv=None):
    section_main(SECTION, argv)


if __name__ == "__main__":
    main()
