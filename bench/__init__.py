"""Benchmarks for leadctl: `python -m bench.run --leads N` (see bench/README.md).

Not part of the leadctl package: it may use pandas (the baseline) and pyinstrument (profiles),
both from the optional `bench` extra.
"""
