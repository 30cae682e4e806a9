"""The pipeline's state on the emulator's own port, so that a stalled pipeline shows.

    GET /_devstack/pipeline -> {"undelivered_records": 0, "oldest_undelivered_age_seconds": null,
                                "executions_started": 12, "start_failures": 0,
                                "records_filtered_out": 9, "records_dead_lettered": 0,
                                "checkpoint": {"<shard id>": "<last sequence number delivered>"},
                                "object_events_pending": 0, "executions_running": 0,
                                "idle": true}

`undelivered_records` counts the records of the files table's stream that the
Pipe runner has not delivered, read afresh after its checkpoint
(tests.devstack.pipe_runner, `PipeRunner.lag`); a stall (the runner no longer
sees what is written) shows as a count that grows and an age that keeps
rising. `idle` says that no record, object-created event or execution is
still under way (tests.devstack.application, `Application.pipeline_status`).
503 while no Pipe runner is running (the stack starting or stopping).

The path sits before the throttling hook's, on moto's WSGI application
(emulator.py installs it); no AWS call takes it (see throttling.CONTROL_PATH).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from werkzeug.wrappers import Response

PATH = "/_devstack/pipeline"
Status = Callable[[], dict[str, Any]]
Dispatch = Callable[[DomainDispatcherApplication, dict[str, Any], Any], Any]
# What answers the path; None while no Pipe runner is running.
_reporter: dict[str, Status | None] = {"status": None}


def report(status: Status | None) -> None:
    """From now on the path answers `status()` as JSON; None answers 503."""
    _reporter["status"] = status


def _answer(environ: dict[str, Any]) -> Response:
    if environ.get("REQUEST_METHOD") != "GET":
        return Response(status=405, headers={"Allow": "GET"})
    status = _reporter["status"]
    if status is None:
        body = {"error": "no Pipe runner is running"}
        return Response(json.dumps(body), 503, content_type="application/json")
    return Response(json.dumps(status()), content_type="application/json")


def answering_status(dispatch: Dispatch) -> Dispatch:
    """moto's server application `dispatch`, with the path answered first."""

    def with_status(
        self: DomainDispatcherApplication, environ: dict[str, Any], start_response: Any
    ) -> Any:
        if environ.get("PATH_INFO") == PATH:
            return _answer(environ)(environ, start_response)
        return dispatch(self, environ, start_response)

    return with_status
