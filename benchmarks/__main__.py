"""``python -m benchmarks``: the whole suite as one table (see benchmarks/suite.py)."""

from .suite import main

main()
