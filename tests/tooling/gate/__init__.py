"""Gate tooling: the security scan runner, the IAM escalation analysis, lock checks."""
