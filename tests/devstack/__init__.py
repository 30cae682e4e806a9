"""The local stack: the whole upload flow on moto, the pipe runner and uvicorn, no Docker."""
