"""`python -m tests.perf.bench` (make bench): side-by-side measurements, not a timed test.

Every figure is a ratio or a latency measured in the same run on the same
machine, so a slow machine slows both sides. The local stack runs in its own
process, so the bench client (httpx for the app, boto3 for the direct path)
never shares a GIL with moto.

Writes tests/perf/results/bench.json, bench.md and scaling.png: measure.py takes
the figures, report.py judges them against their targets and writes bench.json
and bench.md, plot.py draws scaling.png. The report and the plot read nothing
but the results, so both can be redrawn from a bench.json.
"""
