"""The local stack as a context manager: emulator, Terraform apply, SAM's share, pipe runner, API.

    with DevStack(moto_port=0, api_port=0) as stack:
        httpx.post(f"{stack.api_url}/upload", ...)

Port 0 picks free ports. Terraform applies environments/local (the same
composition module as every AWS environment) into moto; the stack then adds
only what SAM owns on AWS, the processor function and the API, reading every
name and ARN from the SSM parameters Terraform published. The upload API runs
under uvicorn in a child process, configured through the same environment
variables as on AWS; the processor runs in this process, called by moto's
Step Functions engine.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import socket
import string
import subprocess  # nosec B404  # starts only our own interpreter
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import IO, Any

import boto3
import httpx
from botocore.config import Config
from moto.dynamodbstreams.models import dynamodbstreams_backends
from moto.server import ThreadedMotoServer

from ops.environment import local_client, published_parameters
from processor.service import ProcessingConfigurationError, TransientProcessingError
from tests.devstack import definitions as d
from tests.devstack import malware_scan, terraform
from tests.devstack.emulator import deliver_lambda_targets, start_moto
from tests.devstack.event_delivery import LambdaEventDelivery
from tests.devstack.pipe_runner import PipeRunner
from tests.devstack.router import Fault, LambdaRouter
from upload_api.api.routes.events import EVENTS_PATH

log = logging.getLogger("devstack")
HOST = "127.0.0.1"
DEFAULT_STATE_DIR = Path(".devstack")
STATE_FILE_NAME = "state.json"
# Fake credentials: everything talks to moto on loopback, never to AWS.
_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": d.MOTO_CREDENTIAL,
    "AWS_SECRET_ACCESS_KEY": d.MOTO_CREDENTIAL,
    "AWS_SESSION_TOKEN": d.MOTO_CREDENTIAL,
    "AWS_DEFAULT_REGION": d.REGION,
    "AWS_REGION": d.REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
_UNSET_AWS_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)
_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3})


@dataclass(frozen=True)
class StackState:
    """What `make token`, the upload client and tests need; saved to .devstack/state.json."""

    pid: int
    region: str
    moto_endpoint: str
    api_url: str
    account_id: str
    user_pool_id: str
    client_id: str
    username: str
    password: str
    bucket: str
    table: str
    pending_table: str
    usage_table: str
    kms_key_arn: str
    state_machine_arn: str
    processor_function_arn: str
    upload_api_function_arn: str
    pipe_name: str
    stream_arn: str
    dead_letter_queue_url: str
    api_pid: int | None = None


def terraform_state_file(state_dir: Path) -> Path:
    """Where a stack keeps the local state of its Terraform apply (the emulator's resources)."""
    return state_dir / "terraform" / "terraform.tfstate"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int, option: str) -> None:
    """Fail with advice; moto's server thread would otherwise hang on a taken port.

    SO_REUSEADDR, as the servers set it themselves: sockets of a stack that has
    just stopped linger in TIME_WAIT, and must not block a restart.
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            raise RuntimeError(
                f"{HOST}:{port} is already in use; pick another port with {option}"
            ) from error


def demo_password() -> str:
    """Random per start, meets Cognito's default policy (upper, lower, digit, symbol)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20)) + "aA1!"


def fault_prefix_matchers(prefix: str) -> list[Fault]:
    """Failures for uploads named `<prefix><n>-*` (n transient ones), `<prefix>always-*`
    (transient, every time) or `<prefix>c<n>-*` (n configuration errors, which leave
    the item UPLOADED and fail the execution).

    A test hook of the local stack: it runs in the router, before the real
    handler, so the product code has no fault paths.
    """
    attempts: dict[tuple[str, str], int] = {}

    def spec_of(event: dict[str, Any]) -> tuple[str, str]:
        image = event.get("dynamodb", {}).get("NewImage", {})
        name = str(image.get("file_name", {}).get("S", ""))
        if not name.startswith(prefix):
            return "", ""
        return name[len(prefix) :].split("-", 1)[0], str(image.get("file_id", {}).get("S", name))

    def within(kind: str, file_id: str, times: str) -> bool:
        attempts[kind, file_id] = attempts.get((kind, file_id), 0) + 1
        return attempts[kind, file_id] <= int(times)

    def transient(event: dict[str, Any]) -> bool:
        spec, file_id = spec_of(event)
        return spec == "always" or (spec.isdigit() and within("transient", file_id, spec))

    def configuration(event: dict[str, Any]) -> bool:
        spec, file_id = spec_of(event)
        return spec[:1] == "c" and spec[1:].isdigit() and within("configuration", file_id, spec[1:])

    return [
        Fault(
            matches=transient,
            error=lambda: TransientProcessingError(
                "injected transient failure (devstack fault hook)"
            ),
        ),
        Fault(
            matches=configuration,
            error=lambda: ProcessingConfigurationError(
                "injected access denied (devstack fault hook)"
            ),
        ),
    ]


class DevStack:
    def __init__(
        self,
        *,
        moto_port: int = 5000,
        api_port: int = 8000,
        state_dir: Path = DEFAULT_STATE_DIR,
        serve_api: bool = True,
        api_log: IO[str] | None = None,
        api_log_level: str = "info",
        fault_prefix: str | None = None,
    ) -> None:
        self.moto_port = moto_port or free_port()
        self.api_port = api_port or free_port()
        # Absolute: Terraform runs with -chdir and would read a relative path from there.
        self.state_dir = state_dir.resolve()
        self.serve_api = serve_api
        self._api_log = api_log
        self._api_log_level = api_log_level
        self._fault_prefix = fault_prefix
        self.router = LambdaRouter()
        self._moto: ThreadedMotoServer | None = None
        self._api: subprocess.Popen[bytes] | None = None
        self.pipe_runner: PipeRunner | None = None
        self.event_delivery: LambdaEventDelivery | None = None
        self.state: StackState | None = None
        # Bounded: the last thousand outcomes are plenty for tests and the bench.
        self.processed: deque[dict[str, Any]] = deque(maxlen=1000)

    # ------------------------------------------------------------ lifecycle
    @property
    def moto_endpoint(self) -> str:
        return f"http://{HOST}:{self.moto_port}"

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.api_port}"

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE_NAME

    @property
    def terraform_log(self) -> Path:
        return self.state_dir / "terraform.log"

    def __enter__(self) -> DevStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> StackState:
        ensure_port_free(self.moto_port, "--moto-port / DEVSTACK_MOTO_PORT")
        if self.serve_api:
            ensure_port_free(self.api_port, "--api-port / DEVSTACK_API_PORT")
        self._configure_process_environment()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._moto = start_moto(self.moto_port)
        self.moto_port = self._moto.get_host_and_port()[1]
        # moto's Step Functions engine calls Lambda and DynamoDB on MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.moto_port)
        os.environ["AWS_ENDPOINT_URL"] = self.moto_endpoint
        self._install_router()
        self._apply_terraform()
        self.state = self._deploy_application()
        if self.serve_api:
            self._api = self._launch_api()
            wait_until_healthy(f"{self.api_url}/health", self._api, timeout=60)
            self.state = replace(self.state, api_pid=self._api.pid)
        self.pipe_runner = PipeRunner(
            self.state.pipe_name,
            self.client("pipes"),
            self.client("dynamodbstreams"),
            self.client("stepfunctions"),
            self.client("sqs"),
            after_poll=self._forget_consumed_iterator,
        )
        self.pipe_runner.start()
        self.event_delivery = LambdaEventDelivery(
            {self.state.upload_api_function_arn: f"{self.api_url}{EVENTS_PATH}"}
        )
        self.event_delivery.start()
        deliver_lambda_targets(self.event_delivery.deliver)
        self._write_state()
        return self.state

    def stop(self) -> None:
        if self.event_delivery is not None:
            deliver_lambda_targets(None)
            self.event_delivery.stop()
            self.event_delivery = None
        if self.pipe_runner is not None:
            self.pipe_runner.stop()
            self.pipe_runner = None
        if self._api is not None:
            self._api.terminate()
            try:
                self._api.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._api.kill()
                self._api.wait()
            self._api = None
        self.router.wait_for_async(timeout=2)
        self.router.uninstall()
        malware_scan.never_scan(None)
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self.state is not None and self.state_file.exists():
            self.state_file.unlink()

    # ------------------------------------------------------------ clients
    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.moto_endpoint,
            region_name=d.REGION,
            config=_CLIENT_CONFIG,
        )

    def require_state(self) -> StackState:
        if self.state is None:
            raise RuntimeError("the local stack is not started")
        return self.state

    def id_token(self) -> str:
        return fresh_id_token(self.require_state())

    # ------------------------------------------------------------ internals
    @staticmethod
    def _configure_process_environment() -> None:
        for name in _UNSET_AWS_ENV:
            os.environ.pop(name, None)
        os.environ.update(_FAKE_AWS_ENV)
        os.environ.update(
            {
                "POWERTOOLS_SERVICE_NAME": "processor",
                "POWERTOOLS_METRICS_NAMESPACE": "SecureUpload",
                # EMF lines and per-call JSON logs would drown the console; the
                # router prints one line per processed file instead.
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
                "POWERTOOLS_TRACE_DISABLED": "true",
            }
        )
        # One line per moto request is noise at this level.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    def _install_router(self) -> None:
        self.router.on_result = self._log_result
        if self._fault_prefix:
            for fault in fault_prefix_matchers(self._fault_prefix):
                self.router.add_fault(fault)
            # Uploads named <prefix>unscanned-* never get a verdict from the stand-in scanner.
            unscanned = f"{self._fault_prefix}unscanned-"
            malware_scan.never_scan(lambda key: key.rsplit("/", 1)[-1].startswith(unscanned))
        self.router.install()

    def _log_result(self, name: str, event: dict[str, Any], result: Any, seconds: float) -> None:
        record = result if isinstance(result, dict) else {"result": result}
        self.processed.append(record)
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

    def _forget_consumed_iterator(self, _current: str) -> None:
        # moto keeps every shard iterator it ever issued; drop the ones this
        # runner has consumed so a long-running stack does not grow forever.
        backend = dynamodbstreams_backends[self.require_state().account_id][d.REGION]
        previous = getattr(self, "_previous_iterator", None)
        if previous is not None:
            backend.shard_iterators.pop(previous, None)
        self._previous_iterator = _current

    def _apply_terraform(self) -> None:
        """`terraform apply` of environments/local into the emulator, logged to terraform.log."""
        state_file = terraform_state_file(self.state_dir)
        work = state_file.parent
        if work.exists():
            shutil.rmtree(work)  # the emulator starts empty: so does the state
        work.mkdir(parents=True)
        env = terraform.environment({"TF_DATA_DIR": str(work / ".terraform")})
        steps = (
            ["init", "-input=false", f"-backend-config=path={state_file}"],
            [
                "apply",
                "-input=false",
                "-auto-approve",
                f"-var=endpoint={self.moto_endpoint}",
                f"-var=account_id={d.ACCOUNT_ID}",
            ],
        )
        with self.terraform_log.open("w", encoding="utf-8") as output:
            for args in steps:
                result = terraform.run(args, d.LOCAL_ROOT, env=env)
                output.write(result.output)
                output.flush()
                if result.returncode != 0:
                    raise RuntimeError(
                        f"terraform {args[0]} of environments/local failed "
                        f"(full log: {self.terraform_log}):\n{result.output[-3000:]}"
                    )
                log.info("terraform %s of environments/local: %.1f s", args[0], result.seconds)

    def parameters(self) -> dict[str, str]:
        """The SSM parameters Terraform published, by their data-contract key."""
        return published_parameters(self.client("ssm"), d.PARAMETER_PATH)

    def _deploy_application(self) -> StackState:
        """What SAM deploys on AWS: the processor function (the API runs under uvicorn).

        Every name and ARN comes from the SSM parameters Terraform wrote.
        """
        ssm = self.parameters()
        account_id = self.client("sts").get_caller_identity()["Account"]
        table = ssm["files_table_name"]
        function_environment = {
            "FILES_TABLE": table,
            # The processor reads and checks objects only in this bucket.
            "UPLOAD_BUCKET": ssm["upload_bucket_name"],
            "POWERTOOLS_SERVICE_NAME": "processor",
            "POWERTOOLS_METRICS_NAMESPACE": "SecureUpload",
        }
        function_arn = self.client("lambda").create_function(
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
        from processor.handler import handler

        self.router.route(ssm["processor_function_name"], handler)
        stream_arn = self.client("dynamodb").describe_table(TableName=table)["Table"][
            "LatestStreamArn"
        ]
        pipe = self._pipe_reading(stream_arn)
        dlq_arn = pipe["SourceParameters"]["DynamoDBStreamParameters"]["DeadLetterConfig"]["Arn"]
        dlq_url = self.client("sqs").get_queue_url(QueueName=dlq_arn.rsplit(":", 1)[1])["QueueUrl"]
        pool_id = ssm["cognito_user_pool_id"]
        password = demo_password()
        cognito = self.client("cognito-idp")
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=d.DEMO_USER,
            UserAttributes=[
                {"Name": "email", "Value": d.DEMO_USER},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=d.DEMO_USER, Password=password, Permanent=True
        )
        return StackState(
            pid=os.getpid(),
            region=d.REGION,
            moto_endpoint=self.moto_endpoint,
            api_url=self.api_url,
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

    def _pipe_reading(self, stream_arn: str) -> dict[str, Any]:
        """The Pipe Terraform created on the table's stream (described, as the runner reads it)."""
        pipes = self.client("pipes")
        for summary in pipes.list_pipes(SourcePrefix=stream_arn)["Pipes"]:
            if summary["Source"] == stream_arn:
                return dict(pipes.describe_pipe(Name=summary["Name"]))
        raise RuntimeError(f"Terraform created no Pipe on {stream_arn}")

    def _launch_api(self) -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "upload_api.main:create_app",
            "--host",
            HOST,
            "--port",
            str(self.api_port),
            "--log-level",
            self._api_log_level,
        ]
        return subprocess.Popen(  # noqa: S603  # nosec B603  # fixed command, our interpreter
            command,
            env=api_environment(self.require_state()),
            stdout=self._api_log,
            stderr=subprocess.STDOUT if self._api_log is not None else None,
        )

    def _write_state(self) -> None:
        state = self.require_state()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        # The demo password is in here: owner-only, and the directory is gitignored.
        fd = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(state), handle, indent=2)


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"upload API exited with {process.returncode} before it was ready")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"upload API not healthy at {url} within {timeout} s")


def api_environment(state: StackState) -> dict[str, str]:
    """The upload API's process environment: as on AWS, except the endpoints."""
    env = {k: v for k, v in os.environ.items() if k not in _UNSET_AWS_ENV}
    for name in ("FILES_TABLE", "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_TRACE_DISABLED"):
        env.pop(name, None)
    env.update(_FAKE_AWS_ENV)
    env.update(
        {
            "UPLOAD_BUCKET": state.bucket,
            "FILES_TABLE": state.table,
            "PENDING_UPLOADS_TABLE": state.pending_table,
            "USER_USAGE_TABLE": state.usage_table,
            "KMS_KEY_ID": state.kms_key_arn,
            "COGNITO_ISSUER": (
                f"https://cognito-idp.{state.region}.amazonaws.com/{state.user_pool_id}"
            ),
            "COGNITO_CLIENT_ID": state.client_id,
            "JWKS_URL": f"{state.moto_endpoint}/{state.user_pool_id}/.well-known/jwks.json",
            "AWS_ENDPOINT_URL": state.moto_endpoint,
            **d.UPLOAD_API_IMAGE_ENV,
            "POWERTOOLS_SERVICE_NAME": "upload-api",
            "POWERTOOLS_METRICS_NAMESPACE": "SecureUpload",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    return env


def fresh_id_token(state: StackState) -> str:
    # Fail fast when the stack is down instead of retrying for seconds.
    fail_fast = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2)
    cognito = local_client(state, "cognito-idp", fail_fast)
    result = cognito.initiate_auth(
        ClientId=state.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": state.username, "PASSWORD": state.password},
    )
    return str(result["AuthenticationResult"]["IdToken"])


def load_state(state_dir: Path = DEFAULT_STATE_DIR) -> StackState:
    path = state_dir / STATE_FILE_NAME
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: start the local stack first (make dev)")
    return StackState(**json.loads(path.read_text(encoding="utf-8")))
