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

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
LOCAL_ROOT: Final = REPO_ROOT / "environments" / "local"
# Process settings the upload API's image sets with ENV (services/upload_api/Dockerfile);
# the local stack sets the same, and a test keeps the two equal.
UPLOAD_API_IMAGE_ENV: Final = {
    "MALLOC_MMAP_THRESHOLD_": "131072",
    "PYDANTIC_DISABLE_PLUGINS": "__all__",
}
