"""Zoo benchmark section ``lstm_lm``: a 2-layer LSTM language model (Embedding 10,000×200 → LSTM 200,
2 layers → Linear to 10,000; 35 steps, batch 20), training.

    python -m benchmarks.lstm_lm [--quick] [--threads N]
    python -m benchmarks --only lstm_lm

chainrule against PyTorch, same weights and batches, each peer in its own process; the cases, timing and
memory rules are in ``benchmarks/zoo.py``, the networks in ``benchmarks/models.py``.
"""

from .zoo import section_main, section_rows

SECTION = "lstm_lm"


def rows(quick=False, threads=1):
    """The section's rows for the suite table (see benchmarks/suite.py)."""
    return section_rows(SECTION, quick, threads)


def main(argv=None):
    section_main(SECTION, argv)


if __name__ == "__main__":
    main()
