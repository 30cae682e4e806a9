"""Shared fixtures: fake AWS credentials, moto, a test identity provider, hypothesis profiles;
and how xdist shares the tests out."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from xdist.scheduler import LoadScopeScheduling

# Fake credentials before anything creates a boto3 client: tests never reach AWS.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        # Not a secret: moto's documented dummy credential.
        "AWS_SECRET_ACCESS_KEY": "testing",  # pragma: allowlist secret
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        # moto's decorator mode serves DynamoDB Streams only with this off.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "SecureUploadTests",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
for _variable in (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
):
    os.environ.pop(_variable, None)

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "fuzz",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

from fastapi.testclient import TestClient  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.support.api import Api, app_settings  # noqa: E402
from tests.support.aws import create_upload_resources  # noqa: E402
from tests.support.tokens import JwksServer, TokenIssuer  # noqa: E402
from upload_api.main import create_app  # noqa: E402


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def lambda_context() -> Any:
    @dataclass
    class LambdaContext:
        function_name: str = "secure-upload-test-processor"
        memory_limit_in_mb: int = 512
        invoked_function_arn: str = (
            "arn:aws:lambda:us-east-1:123456789012:function:secure-upload-test-processor"
        )
        aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"

        def get_remaining_time_in_millis(self) -> int:
            return 30_000

    return LambdaContext()


@pytest.fixture(scope="session")
def token_issuer() -> TokenIssuer:
    return TokenIssuer()


@pytest.fixture(scope="session")
def jwks_server(token_issuer: TokenIssuer) -> Iterator[JwksServer]:
    with JwksServer([token_issuer]).running() as server:
        yield server


@pytest.fixture
def api(aws: None, jwks_server: JwksServer, token_issuer: TokenIssuer) -> Iterator[Api]:
    """The real app against moto, trusting the test identity provider."""
    resources = create_upload_resources()
    app = create_app(app_settings(resources, jwks_server.url))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client=client, resources=resources, issuer=token_issuer)


@pytest.fixture
def api_small_limit(aws: None, jwks_server: JwksServer, token_issuer: TokenIssuer) -> Iterator[Api]:
    """The app with a 1 KiB upload limit, to test the edges cheaply."""
    resources = create_upload_resources()
    app = create_app(app_settings(resources, jwks_server.url, max_upload_bytes=1024))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client=client, resources=resources, issuer=token_issuer)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test is a test that did not run: the gate fails rather than count it."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped and exitstatus == pytest.ExitCode.OK:
        reporter.write_line(f"{len(skipped)} test(s) skipped: the gate counts a skip as a failure")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


class EndToEndInOneWorker(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """Every end-to-end test in one worker, since they share one stack (one Terraform apply);
    every other test as the workers free up.

    Our own scheduler rather than xdist's `loadgroup`: its group travels in a suffix
    xdist writes to the test's node id, which pytest 9 no longer reads (the end-to-end
    tests were spread over both workers, each starting a stack of its own).
    """

    @staticmethod
    def _split_scope(nodeid: str) -> str:
        return "e2e" if nodeid.startswith("tests/e2e/") else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadScopeScheduling:
    return EndToEndInOneWorker(config, log)
