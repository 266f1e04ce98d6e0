"""Zoo benchmark section ``resnet18``: ResNet-18 at 224×224: training at batch 8; inference (eval mode
under no_grad) at batch 1 and 8.

    python -m benchmarks.resnet18 [--quick] [--threads N]
    python -m benchmarks --only resnet18

chainrule against PyTorch, same weights and batches, each peer in its own process; the cases, timing and
memory rules are in ``benchmarks/zoo.py``, the networks in ``benchmarks/models.py``.
"""

from .zoo import section_main, section_rows

SECTION = "resnet18"


def rows(quick=False, threads=1):
    """The section's rows for the suite table (see benchmarks/suite.py)."""
    return section_rows(SECTION, quick, threads)


def main(argv=None):
    section_main(SECTION, argv)


if __name__ == "__main__":
    main()
