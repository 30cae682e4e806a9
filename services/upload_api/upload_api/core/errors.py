"""The one error type the app raises on purpose; handlers turn it into the JSON error shape."""

from collections.abc import Iterable, Mapping
from typing import Any


class ApiError(Exception):
    """A client-visible error: HTTP status, a stable machine code and a human message."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        details: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details


def validation_details(problems: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """pydantic's error list as `details` entries: the field's dotted path and the problem."""
    return [
        {"field": ".".join(str(part) for part in problem["loc"]), "problem": problem["msg"]}
        for problem in problems
    ]
