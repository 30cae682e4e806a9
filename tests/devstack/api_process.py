"""The upload API as the local stack runs it: uvicorn in a child process, configured
through the same environment variables as on AWS, except the endpoints, behind
API Gateway's CORS (api_gateway_cors) as on AWS, answering only requests for a loopback
host (loopback).

With reload on (`make dev`), uvicorn's reloader is that child process: it
restarts its worker when the API's code changes, and the emulator, which holds
every upload, keeps running in the stack's process."""

from __future__ import annotations

import os
import subprocess  # nosec B404  # starts only our own interpreter
import sys
import time

import httpx

from tests.devstack import definitions as d
from tests.devstack.ports import HOST
from tests.devstack.stack_state import StackState

# The API's code: with reload on, uvicorn restarts its worker when a .py file under these changes.
API_SOURCE_DIRS = (
    d.REPO_ROOT / "services" / "upload_api" / "upload_api",
    d.REPO_ROOT / "services" / "contract" / "upload_contract",
)
# The browser origins API Gateway's CORS allows (tests.devstack.api_gateway_cors reads
# them), comma-separated like SAM's AllowedOrigins; none leaves CORS closed, as there.
ALLOWED_ORIGINS_ENV = "DEVSTACK_API_ALLOWED_ORIGINS"


def api_environment(state: StackState) -> dict[str, str]:
    """The upload API's process environment: as on AWS, except the endpoints."""
    env = {k: v for k, v in os.environ.items() if k not in d.UNSET_AWS_ENV}
    for name in ("FILES_TABLE", "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_TRACE_DISABLED"):
        env.pop(name, None)
    env.update(d.FAKE_AWS_ENV)
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


def api_command(port: int, *, log_level: str, reload: bool) -> list[str]:
    """uvicorn serving the upload API on HOST:port."""
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "tests.devstack.api_gateway_cors:create_local_app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        log_level,
    ]
    if reload:
        command.append("--reload")
        for directory in API_SOURCE_DIRS:
            command += ["--reload-dir", str(directory)]
    return command


def launch_api(
    state: StackState,
    port: int,
    *,
    log_level: str,
    reload: bool,
    allowed_origins: tuple[str, ...] = (),
) -> subprocess.Popen[bytes]:
    """uvicorn on HOST:port, its output on this process's; browsers at `allowed_origins`
    get API Gateway's CORS answers, others none."""
    return subprocess.Popen(  # noqa: S603  # nosec B603  # fixed command, our interpreter
        api_command(port, log_level=log_level, reload=reload),
        env={**api_environment(state), ALLOWED_ORIGINS_ENV: ",".join(allowed_origins)},
        cwd=d.REPO_ROOT,  # where `-m uvicorn` imports the factory's module from
    )


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


def stop_api(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
