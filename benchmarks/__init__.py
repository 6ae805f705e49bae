"""aiops benchmarks: ``python -m benchmarks [--quick] [--only NAME ...]``.

Each scenario is a module ``bench_<name>.py`` with ``run(quick: bool = False) -> list[dict]``
returning tables (``title``, ``columns``, ``rows``, ``notes``) that compare against a baseline
measured in the same run. The runner (``__main__``) discovers them, prints the tables and merges
them into ``benchmarks/results/latest.json``.
"""
