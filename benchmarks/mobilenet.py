"""Zoo benchmark section ``mobilenet``: MobileNetV2 inverted-residual blocks at 32×32 (1×1 expand, 3×3
depthwise, 1×1 project, BN, ReLU6), training at batch 32.

    python -m benchmarks.mobilenet [--quick] [--threads N]
    python -m benchmarks --only mobilenet

chainrule against PyTorch, same weights and batches, each peer in its own process; the cases, timing and
memory rules are in ``benchmarks/zoo.py``, the networks in ``benchmarks/models.py``.
"""

from .zoo import section_main, section_rows

SECTION = "mobilenet"


def rows(quick=False, threads=1):
    """The section's rows for the suite table (see benchmarks/suite.py)."""
    return section_rows(SECTION, quick, threads)


def main(argv=None):
    section_main(SECTION, argv)


if __name__ == "__main__":
    main()
