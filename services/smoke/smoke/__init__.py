"""`make smoke ENV=<env>` (python -m smoke): an end-to-end check of a deployed environment.

`make smoke-user ENV=<env>` (python -m smoke.enroll) creates the environment's smoke user once.
"""
