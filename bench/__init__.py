"""Benchmarks of eightstep: synthetic districts and cities, the figures of issue 5, and docs/benchmarks.md.

Run from the top of the repository: ``python -m bench run`` (the full set, 10k/100k/1M cases; the 1M
database takes a while to build the first time) or ``python -m bench run --quick`` (small sizes, minutes).
Figures go to ``bench/out/results.json``; ``python -m bench report`` rewrites ``docs/benchmarks.md`` from it.
"""
