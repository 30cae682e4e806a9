"""The merge gate: the security scan runner, the IAM escalation analysis, lock checks."""
