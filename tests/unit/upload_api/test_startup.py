"""What the API loads before it can answer /health, and how its clients are set up."""

import os
import subprocess
import sys

import pytest

from tests.support.api import Api
from upload_api.api import deps
from upload_api.core.config import Settings


def test_the_app_starts_without_boto3() -> None:
    # boto3 (and s3transfer with it) would add to every cold start; botocore is enough.
    probe = "import sys, upload_api.main; print(sorted({'boto3', 's3transfer'} & set(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    loaded = subprocess.run(  # noqa: S603  # our interpreter, a fixed probe
        [sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert loaded == "[]"


def test_only_the_json_uploads_s3_client_skips_the_payload_hash(api: Api) -> None:
    settings = api.client.app.state.settings  # type: ignore[attr-defined]
    # Its bodies carry a checksum S3 checks; a SigV4 payload hash would hash them again.
    json_path = getattr(deps.get_upload_service(settings)._s3.meta.config, "s3", None) or {}
    assert json_path.get("payload_signing_enabled") is False
    direct = getattr(deps.get_direct_upload_service(settings)._s3.meta.config, "s3", None) or {}
    assert direct.get("payload_signing_enabled") is None


def _settings(**overrides: str) -> Settings:
    return Settings.model_validate(
        {
            "upload_bucket": "secure-upload-dev-uploads-111111111111",
            "files_table": "secure-upload-dev-files",
            "pending_uploads_table": "secure-upload-dev-pending-uploads",
            "user_usage_table": "secure-upload-dev-user-usage",
            "kms_key_id": "alias/secure-upload-dev",
            "cognito_issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example",
            "cognito_client_id": "client",
            **overrides,
        }
    )


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
@pytest.mark.parametrize("checksummed_writes", [False, True])
def test_presigned_urls_name_the_buckets_regional_virtual_hosted_origin(
    region: str, checksummed_writes: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one origin the web app's CSP connect-src and the bucket's CORS admit
    # (modules/platform): https://<bucket>.s3.<region>.amazonaws.com, in
    # us-east-1 too, where botocore would sign for s3.amazonaws.com.
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_REGION", region)
    settings = _settings()
    s3, _ = deps._clients(settings, read_timeout=5, checksummed_writes=checksummed_writes)
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": settings.upload_bucket, "Key": "uploads/u/f/a.txt"}
    )
    origin = f"https://{settings.upload_bucket}.s3.{region}.amazonaws.com"
    assert url.startswith(f"{origin}/uploads/u/f/a.txt?"), url


def test_presigned_urls_of_the_local_stack_name_its_emulator() -> None:
    settings = _settings(aws_endpoint_url="http://127.0.0.1:5000")
    s3, _ = deps._clients(settings, read_timeout=5)
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": settings.upload_bucket, "Key": "uploads/u/f/a.txt"}
    )
    assert url.startswith(f"http://127.0.0.1:5000/{settings.upload_bucket}/uploads/u/f/a.txt?")
