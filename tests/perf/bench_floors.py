"""Two bare apps the bench runs under the same uvicorn as the API, to measure floors.

- `body_sink`: reads a request's whole body into one buffer and answers 200,
  with no framework and no other work. Posting an upload's JSON to it costs
  what carrying the file over one more HTTP hop costs: the part of
  `POST /upload` that the direct AWS calls never pay.
- `minimal_fastapi`: FastAPI with only `/health`. Its cold start is the
  framework's: what any FastAPI app pays before its first answer.
"""

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send


async def body_sink(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = bytearray()
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]}
    )
    await send({"type": "http.response.body", "body": b""})


def minimal_fastapi() -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
