"""The one upload client: `make upload`, the smoke test, the bench and the end-to-end tests."""
