"""`make capacity`: the capacity model, into tests/perf/results/."""

from tests.perf.capacity.report import main

raise SystemExit(main())
