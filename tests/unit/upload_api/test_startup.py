"""What the API loads before it can answer /health, and how its clients are set up."""

import os
import subprocess
import sys

from tests.support.api import Api
from upload_api.api import deps


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
    json_path = deps.get_upload_service(settings)._s3
    assert getattr(json_path.meta.config, "s3", None) == {"payload_signing_enabled": False}
    direct = deps.get_direct_upload_service(settings)._s3
    assert (getattr(direct.meta.config, "s3", None) or {}).get("payload_signing_enabled") is None
