"""The processing Lambda: checks an uploaded file and records the outcome on its item."""
