"""SAM's share of the local stack: what SAM deploys on AWS, done by hand against the emulator.

On AWS, SAM deploys the processor function and the upload API function, and the
AWS services run what Terraform wired: the Pipe reads the table's stream into
the state machine, EventBridge invokes the upload API on each object created.
Here the processor function is created in moto and the router runs its real
handler in this process; the upload API runs under uvicorn (api_process); a
Pipe runner and an event delivery thread stand in for the two AWS services.
Every name and ARN comes from the SSM parameters Terraform published.

With reload on (`make dev`), the processor's code is imported again before an
invocation when one of its files changed (ReloadingHandler).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from botocore.config import Config
from moto.dynamodbstreams.models import dynamodbstreams_backends
from moto.stepfunctions.responses import get_backend

from ops.environment import published_parameters
from tests.devstack import definitions as d
from tests.devstack import pipeline_status
from tests.devstack.demo_user import demo_user_password
from tests.devstack.emulator import deliver_lambda_targets
from tests.devstack.event_delivery import LambdaEventDelivery
from tests.devstack.pipe_runner import PipeRunner
from tests.devstack.router import LambdaHandler, LambdaRouter
from tests.devstack.stack_state import StackState
from upload_api.api.routes.events import EVENTS_PATH

log = logging.getLogger("devstack")
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3})
# The processor's code and the contract it imports.
PROCESSOR_PACKAGES = ("processor", "upload_contract")


class Application:
    """Deployed into the emulator (deploy), then run (start) until stop."""

    def __init__(self, moto_endpoint: str, *, reload_processor: bool = False) -> None:
        self._moto_endpoint = moto_endpoint
        self._reload_processor = reload_processor
        self._pipe_runner: PipeRunner | None = None
        self._event_delivery: LambdaEventDelivery | None = None
        self._account_id = ""
        # The Pipe runner's checkpoint once stopped (shard id -> the last sequence number
        # delivered of it): kept with the emulator's data.
        self.pipe_position: dict[str, str] | None = None

    def _client(self, service: str) -> Any:
        """A client of the emulator, with the fake credentials of this process's environment."""
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self._moto_endpoint,
            region_name=d.REGION,
            config=_CLIENT_CONFIG,
        )

    def deploy(
        self, router: LambdaRouter, api_url: str, kept_password: str | None = None
    ) -> StackState:
        """The processor function (routed to its handler by `router`) and the demo user.

        Both may exist already (the emulator's data restored): then the function is
        routed as it is, and the demo user keeps `kept_password`.
        """
        ssm = published_parameters(self._client("ssm"), d.PARAMETER_PATH)
        account_id = self._client("sts").get_caller_identity()["Account"]
        table = ssm["files_table_name"]
        function_arn = self._deploy_processor(ssm, router)
        stream_arn = self._client("dynamodb").describe_table(TableName=table)["Table"][
            "LatestStreamArn"
        ]
        pipe = self._pipe_reading(stream_arn)
        dlq_arn = pipe["SourceParameters"]["DynamoDBStreamParameters"]["DeadLetterConfig"]["Arn"]
        dlq_url = self._client("sqs").get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[1])["QueueUrl"]
        pool_id = ssm["cognito_user_pool_id"]
        password = demo_user_password(self._client("cognito-idp"), pool_id, kept_password)
        return StackState(
            pid=os.getpid(),
            region=d.REGION,
            moto_endpoint=self._moto_endpoint,
            api_url=api_url,
            account_id=account_id,
            user_pool_id=pool_id,
            client_id=ssm["cognito_app_client_id"],
            username=d.DEMO_USER,
            password=password,
            bucket=ssm["upload_bucket_name"],
            table=table,
            pending_table=ssm["pending_uploads_table_name"],
            usage_table=ssm["user_usage_table_name"],
            kms_key_arn=ssm["kms_key_arn"],
            state_machine_arn=pipe["Target"],
            processor_function_arn=function_arn,
            # SAM creates it on AWS; here the API runs under uvicorn, and the
            # object-created rule's target names it (modules/upload-events).
            upload_api_function_arn=(
                f"arn:aws:lambda:{d.REGION}:{account_id}:function:{ssm['upload_api_function_name']}"
            ),
            pipe_name=pipe["Name"],
            stream_arn=stream_arn,
            dead_letter_queue_url=dlq_url,
        )

    def start(self, state: StackState, pipe_position: dict[str, str] | None = None) -> None:
        """The Pipe runner (after `pipe_position` in the stream, if given) with its lag on the
        emulator's /_devstack/pipeline, and the delivery of object-created events to the
        upload API."""
        self._account_id = state.account_id
        self._pipe_runner = PipeRunner(
            state.pipe_name,
            self._client("pipes"),
            self._client("dynamodbstreams"),
            self._client("stepfunctions"),
            self._client("sqs"),
            forget_iterator=self._forget_iterator,
            start_after=pipe_position,
        )
        self._pipe_runner.start()
        self._event_delivery = LambdaEventDelivery(
            {state.upload_api_function_arn: f"{state.api_url}{EVENTS_PATH}"}
        )
        self._event_delivery.start()
        deliver_lambda_targets(self._event_delivery.deliver)
        pipeline_status.report(lambda: self.pipeline_status(state.state_machine_arn))

    def pipeline_status(self, state_machine_arn: str) -> dict[str, Any]:
        """The Pipe runner's lag and counts, the object-created events not yet delivered and
        the state machine's running executions; `idle` when all three are none.

        Read in the order work flows, so that work moving on meanwhile is counted
        where it arrives: an event's handler writes the table (its record then counted
        undelivered), a delivered record starts an execution.
        """
        if self._pipe_runner is None or self._event_delivery is None:
            raise RuntimeError("the pipeline is not running")
        events_pending = self._event_delivery.pending()
        status = self._pipe_runner.status()
        running = len(self.running_executions(state_machine_arn))
        return {
            **status,
            "object_events_pending": events_pending,
            "executions_running": running,
            "idle": status["undelivered_records"] == 0 and events_pending == 0 and running == 0,
        }

    def stop(self) -> None:
        if self._pipe_runner is not None:
            pipeline_status.report(None)
        if self._event_delivery is not None:
            deliver_lambda_targets(None)
            self._event_delivery.stop()
            self._event_delivery = None
        if self._pipe_runner is not None:
            self._pipe_runner.stop()
            self.pipe_position = dict(self._pipe_runner.checkpoint) or None
            self._pipe_runner = None

    def running_executions(self, state_machine_arn: str, timeout: float = 0) -> list[str]:
        """The names of the state machine's running executions, once they have ended or
        `timeout` s have passed (read in this process, where the emulator keeps them)."""
        deadline = time.monotonic() + timeout
        while True:
            backend = get_backend(self._account_id, d.REGION)
            machine = backend.describe_state_machine(state_machine_arn)
            running = [e.name for e in machine.executions if e.status == "RUNNING"]
            if not running or time.monotonic() >= deadline:
                return running
            time.sleep(0.2)

    def _deploy_processor(self, ssm: dict[str, str], router: LambdaRouter) -> str:
        function_environment = {
            "FILES_TABLE": ssm["files_table_name"],
            # The processor reads and checks objects only in this bucket.
            "UPLOAD_BUCKET": ssm["upload_bucket_name"],
            "POWERTOOLS_SERVICE_NAME": "processor",
            "POWERTOOLS_METRICS_NAMESPACE": "SecureUpload",
        }
        function_arn = self._create_or_update_processor(ssm, function_environment)
        # The handler runs in this process, so this process carries its environment.
        # Imported only now: Powertools reads its settings at import time.
        os.environ.update(function_environment)
        os.environ.update(
            {
                # EMF lines and per-call JSON logs would drown the console; the
                # router prints one line per processed file instead.
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        handler: LambdaHandler
        if self._reload_processor:
            handler = ReloadingHandler("processor.handler", PROCESSOR_PACKAGES)
        else:
            from processor.handler import handler
        router.route(ssm["processor_function_name"], handler)
        router.on_result = log_processor_result
        return function_arn

    def _create_or_update_processor(
        self, ssm: dict[str, str], function_environment: dict[str, str]
    ) -> str:
        """As SAM deploys it: created, or (restored data) updated to the current settings."""
        lambda_client = self._client("lambda")
        settings = {
            "FunctionName": ssm["processor_function_name"],
            "Role": ssm["processor_role_arn"],
            "KMSKeyArn": ssm["kms_key_arn"],
            "Environment": {"Variables": function_environment},
            "Timeout": 60,
            "MemorySize": 512,
        }
        try:
            lambda_client.get_function(FunctionName=ssm["processor_function_name"])
        except lambda_client.exceptions.ResourceNotFoundException:
            created: str = lambda_client.create_function(
                **settings,
                PackageType="Image",
                # The image moto stores is never run: the router calls the real handler.
                Code={"ImageUri": f"{ssm['processor_repository_uri']}@sha256:{'0' * 64}"},
            )["FunctionArn"]
            return created
        updated: str = lambda_client.update_function_configuration(**settings)["FunctionArn"]
        return updated

    def _pipe_reading(self, stream_arn: str) -> dict[str, Any]:
        """The Pipe Terraform created on the table's stream (described, as the runner reads it)."""
        pipes = self._client("pipes")
        for summary in pipes.list_pipes(SourcePrefix=stream_arn)["Pipes"]:
            if summary["Source"] == stream_arn:
                return dict(pipes.describe_pipe(Name=summary["Name"]))
        raise RuntimeError(f"Terraform created no Pipe on {stream_arn}")

    def _forget_iterator(self, iterator: str) -> None:
        # moto keeps every shard iterator it ever issued; drop those the runner is
        # done with so a long-running stack does not grow forever.
        dynamodbstreams_backends[self._account_id][d.REGION].shard_iterators.pop(iterator, None)


class ReloadingHandler:
    """The `handler` of `module`, imported again when a source file of `packages` changed.

    Checked before each invocation: an edit shows on the next processed file.
    Every module of `packages` is dropped from sys.modules and imported afresh,
    so a changed module and the modules that import it (in any order) all take
    the new code. Code that does not import (a syntax error while editing) is
    logged and the old code keeps running until the next change.
    """

    def __init__(self, module: str, packages: Sequence[str]) -> None:
        self._module = module
        self._packages = packages
        self._directories = [_package_directory(name) for name in packages]
        self._lock = threading.Lock()
        self._sources = self._source_times()
        self._handler = self._import()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            self._reload_if_changed()
            handler = self._handler
        return handler(event, context)

    def _reload_if_changed(self) -> None:
        sources = self._source_times()
        if sources == self._sources:
            return
        # Seen before importing: a file saved during the import reloads again next time.
        self._sources = sources
        previous = self._drop_modules()
        try:
            self._handler = self._import()
        except Exception:  # SyntaxError included: keep the stack running on the old code
            log.exception(
                "%s code changed but does not import: the old code runs until the next change",
                self._packages[0],
            )
            self._drop_modules()
            sys.modules.update(previous)
            return
        log.info("%s code changed: reloaded", self._packages[0])

    def _import(self) -> LambdaHandler:
        importlib.invalidate_caches()  # a module file added since the last import
        handler: LambdaHandler = importlib.import_module(self._module).handler
        return handler

    def _drop_modules(self) -> dict[str, ModuleType]:
        """Remove the packages' modules from sys.modules; returns them."""
        names = [
            name
            for name in sys.modules
            if any(name == package or name.startswith(f"{package}.") for package in self._packages)
        ]
        return {name: sys.modules.pop(name) for name in names}

    def _source_times(self) -> dict[Path, int]:
        times = {}
        for directory in self._directories:
            for path in directory.rglob("*"):
                # Python and JSON files only: editors' swap and backup files are not code.
                if path.suffix not in {".py", ".json"} or "__pycache__" in path.parts:
                    continue
                try:
                    times[path] = path.stat().st_mtime_ns
                except FileNotFoundError:  # removed while listed: the next check sees it gone
                    continue
        return times


def _package_directory(name: str) -> Path:
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{name} is not an installed package")
    return Path(spec.submodule_search_locations[0])


def log_processor_result(name: str, event: dict[str, Any], result: Any, seconds: float) -> None:
    """One line per processed file: the router calls it after each invocation."""
    record = result if isinstance(result, dict) else {"result": result}
    if "errorType" in record:
        file_id = event.get("dynamodb", {}).get("Keys", {}).get("file_id", {}).get("S")
        log.info(
            "processor error file_id=%s %s: %s (%.0f ms; the state machine retries)",
            file_id,
            record["errorType"],
            record.get("errorMessage"),
            seconds * 1000,
        )
        return
    extra = record.get("detected_content_type") or record.get("failure_reason") or ""
    log.info(
        "processed file_id=%s status=%s%s %s (%.0f ms)",
        record.get("file_id"),
        record.get("status"),
        " (duplicate delivery)" if record.get("duplicate") else "",
        extra,
        seconds * 1000,
    )
