"""`make smoke ENV=<env>`: an end-to-end check of a deployed environment (python -m smoke)."""
