"""Zoo benchmark section ``resnet``: ResNet-20 for CIFAR (3×32×32) training at batch 32 and 128, and a per-op
profile of one training step.

    python -m benchmarks.resnet [--quick] [--threads N]          # samples/s and peak memory, both peers
    python -m benchmarks.resnet --profile [--threads N] [--batch 128] [--steps 5]
    python -m benchmarks --only resnet

chainrule against PyTorch, same weights and batches, each peer in its own process; the cases, timing and
memory rules are in ``benchmarks/zoo.py``, the network in ``benchmarks/models.py``, the profile's method
in ``benchmarks/profile_step.py``.
"""

from .zoo import section_main, section_rows

SECTION = "resnet"


def rows(quick=False, threads=1):
    """The section's rows for the suite table (see benchmarks/suite.py)."""
    return section_rows(SECTION, quick, threads)


class _ProfileOption:
    """``--profile``: print the per-op table of one training step instead of the throughput rows."""

    @staticmethod
    def add_arguments(parser):
        parser.add_argument("--profile", action="store_true", help="per-op profile of one training step")
        parser.add_argument("--batch", type=int, choices=(32, 128), default=32, help="the profiled case's batch")
        parser.add_argument("--steps", type=int, default=5, help="profiled steps (after 2 warm-up steps)")

    @staticmethod
    def run(args, threads):
        if not args.profile:
            return False
        from .profile_step import profile

        print(profile(f"resnet20-b{args.batch}", threads, args.steps))
        return True


def main(argv=None):
    section_main(SECTION, argv, extra=_ProfileOption)


if __name__ == "__main__":
    main()
