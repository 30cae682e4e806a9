"""The few facts the local stack needs that are not in Terraform's SSM parameters."""

from pathlib import Path
from typing import Final

from ops.environment import LOCAL_CREDENTIAL, parameter_path

ENVIRONMENT: Final = "local"
REGION: Final = "us-east-1"
# moto's default account; environments/local pins it in allowed_account_ids.
ACCOUNT_ID: Final = "123456789012"
# Where Terraform publishes names and ARNs for SAM (and for the local stack).
PARAMETER_PATH: Final = parameter_path(ENVIRONMENT)
DEMO_USER: Final = "demo@example.com"
MOTO_CREDENTIAL: Final = LOCAL_CREDENTIAL
# Fake credentials: everything talks to moto on loopback, never to AWS.
FAKE_AWS_ENV: Final = {
    "AWS_ACCESS_KEY_ID": MOTO_CREDENTIAL,
    "AWS_SECRET_ACCESS_KEY": MOTO_CREDENTIAL,
    "AWS_SESSION_TOKEN": MOTO_CREDENTIAL,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
# The developer's own AWS configuration: removed from the stack's processes.
UNSET_AWS_ENV: Final = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
LOCAL_ROOT: Final = REPO_ROOT / "environments" / "local"
# Process settings the upload API's image sets with ENV (services/upload_api/Dockerfile);
# the local stack sets the same, and a test keeps the two equal.
UPLOAD_API_IMAGE_ENV: Final = {
    "MALLOC_MMAP_THRESHOLD_": "131072",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}
