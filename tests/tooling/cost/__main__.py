"""`python -m cost` (make cost): the cost model per million uploads, into reports/cost/."""

from cost.report import main

raise SystemExit(main())
