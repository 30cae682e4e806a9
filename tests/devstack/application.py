"""SAM's share of the local stack: what SAM deploys on AWS, done by hand against the emulator.

On AWS, SAM deploys the processor function and the upload API function, and the
AWS services run what Terraform wired: the Pipe reads the table's stream into
the state machine, EventBridge invokes the upload API on each object created.
Here the processor function is created in moto and the router runs its real
handler in this process; the upload API runs under uvicorn (api_process); a
Pipe runner and an event delivery thread stand in for the two AWS services.
Every name and ARN comes from the SSM parameters Terraform published.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import boto3
from botocore.config import Config
from moto.dynamodbstreams.models import dynamodbstreams_backends

from ops.environment import published_parameters
from tests.devstack import definitions as d
from tests.devstack.demo_user import create_demo_user
from tests.devstack.emulator import deliver_lambda_targets
from tests.devstack.event_delivery import LambdaEventDelivery
from tests.devstack.pipe_runner import PipeRunner
from tests.devstack.router import LambdaRouter
from tests.devstack.stack_state import StackState
from upload_api.api.routes.events import EVENTS_PATH

log = logging.getLogger("devstack")
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3})


class Application:
    """Deployed into the emulator (deploy), then run (start) until stop."""

    def __init__(self, moto_endpoint: str) -> None:
        self._moto_endpoint = moto_endpoint
        self._pipe_runner: PipeRunner | None = None
        self._event_delivery: LambdaEventDelivery | None = None
        self._account_id = ""
        self._previous_iterator: str | None = None

    def _client(self, service: str) -> Any:
        """A client of the emulator, with the fake credentials of this process's environment."""
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self._moto_endpoint,
            region_name=d.REGION,
            config=_CLIENT_CONFIG,
        )

    def deploy(self, router: LambdaRouter, api_url: str) -> StackState:
        """The processor function (routed to its handler by `router`) and the demo user."""
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
        password = create_demo_user(self._client("cognito-idp"), pool_id)
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

    def start(self, state: StackState) -> None:
        """The Pipe runner, and the delivery of object-created events to the upload API."""
        self._account_id = state.account_id
        self._pipe_runner = PipeRunner(
            state.pipe_name,
            self._client("pipes"),
            self._client("dynamodbstreams"),
            self._client("stepfunctions"),
            self._client("sqs"),
            after_poll=self._forget_consumed_iterator,
        )
        self._pipe_runner.start()
        self._event_delivery = LambdaEventDelivery(
            {state.upload_api_function_arn: f"{state.api_url}{EVENTS_PATH}"}
        )
        self._event_delivery.start()
        deliver_lambda_targets(self._event_delivery.deliver)

    def stop(self) -> None:
        if self._event_delivery is not None:
            deliver_lambda_targets(None)
            self._event_delivery.stop()
            self._event_delivery = None
        if self._pipe_runner is not None:
            self._pipe_runner.stop()
            self._pipe_runner = None

    def _deploy_processor(self, ssm: dict[str, str], router: LambdaRouter) -> str:
        function_environment = {
            "FILES_TABLE": ssm["files_table_name"],
            # The processor reads and checks objects only in this bucket.
            "UPLOAD_BUCKET": ssm["upload_bucket_name"],
            "POWERTOOLS_SERVICE_NAME": "processor",
            "POWERTOOLS_METRICS_NAMESPACE": "SecureUpload",
        }
        function_arn: str = self._client("lambda").create_function(
            FunctionName=ssm["processor_function_name"],
            PackageType="Image",
            # The image moto stores is never run: the router calls the real handler.
            Code={"ImageUri": f"{ssm['processor_repository_uri']}@sha256:{'0' * 64}"},
            Role=ssm["processor_role_arn"],
            KMSKeyArn=ssm["kms_key_arn"],
            Environment={"Variables": function_environment},
            Timeout=60,
            MemorySize=512,
        )["FunctionArn"]
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
        from processor.handler import handler

        router.route(ssm["processor_function_name"], handler)
        router.on_result = log_processor_result
        return function_arn

    def _pipe_reading(self, stream_arn: str) -> dict[str, Any]:
        """The Pipe Terraform created on the table's stream (described, as the runner reads it)."""
        pipes = self._client("pipes")
        for summary in pipes.list_pipes(SourcePrefix=stream_arn)["Pipes"]:
            if summary["Source"] == stream_arn:
                return dict(pipes.describe_pipe(Name=summary["Name"]))
        raise RuntimeError(f"Terraform created no Pipe on {stream_arn}")

    def _forget_consumed_iterator(self, current: str) -> None:
        # moto keeps every shard iterator it ever issued; drop the ones this
        # runner has consumed so a long-running stack does not grow forever.
        backend = dynamodbstreams_backends[self._account_id][d.REGION]
        if self._previous_iterator is not None:
            backend.shard_iterators.pop(self._previous_iterator, None)
        self._previous_iterator = current


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
