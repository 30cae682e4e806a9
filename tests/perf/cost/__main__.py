"""`make cost`: the cost model per million uploads, into tests/perf/results/."""

from tests.perf.cost.report import main

raise SystemExit(main())
