"""The app under test and helpers to call it as a given user."""

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.support.aws import UploadResources
from tests.support.tokens import CLIENT_ID, ISSUER, TokenIssuer
from upload_api.core.config import Settings

ALICE = "11111111-1111-4111-8111-111111111111"
BOB = "22222222-2222-4222-8222-222222222222"


def app_settings(resources: UploadResources, jwks_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "upload_bucket": resources.bucket,
        "files_table": resources.table,
        "pending_uploads_table": resources.pending_table,
        "user_usage_table": resources.usage_table,
        "kms_key_id": resources.kms_key_arn,
        "cognito_issuer": ISSUER,
        "cognito_client_id": CLIENT_ID,
        "jwks_url": jwks_url,
        **overrides,
    }
    return Settings.model_validate(values)


@dataclass
class Api:
    client: TestClient
    resources: UploadResources
    issuer: TokenIssuer

    def auth(self, sub: str = ALICE) -> dict[str, str]:
        return {"Authorization": self.issuer.token(self.issuer.claims(sub=sub))}
