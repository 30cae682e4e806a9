"""Settings read once from the environment (the SAM template or the local stack sets them)."""

from functools import lru_cache

from pydantic import Field, HttpUrl, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from upload_api.core.auth import is_allowed_jwks_url

MIB = 1024 * 1024
GIB = 1024 * MIB
# Lambda's synchronous payload limit is 6,291,456 bytes and Base64 adds 4/3,
# so a decoded file much above 4.5 MiB cannot arrive through API Gateway at all.
MAX_UPLOAD_CEILING = 4 * MIB + MIB // 2


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    upload_bucket: str = Field(min_length=3, max_length=63)
    files_table: str = Field(min_length=3, max_length=255)
    kms_key_id: str = Field(min_length=1)
    cognito_issuer: HttpUrl
    cognito_client_id: str = Field(min_length=1)
    # Only the local stack overrides this; on AWS it is derived from the issuer.
    jwks_url: HttpUrl | None = None
    max_upload_bytes: int = Field(default=4 * MIB, gt=0, le=MAX_UPLOAD_CEILING)
    presigned_url_ttl_seconds: int = Field(default=300, ge=1, le=3600)
    # Direct uploads (POST /uploads): one signed PUT up to single_put_max_bytes,
    # multipart above, nothing above max_direct_upload_bytes (S3 caps a PUT at
    # 5 GiB and a part at 5 MiB minimum).
    pending_uploads_table: str = Field(min_length=3, max_length=255)
    max_direct_upload_bytes: int = Field(default=5 * GIB, gt=0, le=5 * 1024 * GIB)
    single_put_max_bytes: int = Field(default=64 * MIB, ge=0, le=5 * GIB)
    multipart_part_bytes: int = Field(default=16 * MIB, ge=5 * MIB, le=5 * GIB)
    # Per-user quota, counted in the user-usage table with every file write.
    user_usage_table: str = Field(min_length=3, max_length=255)
    max_user_bytes: int = Field(default=50 * GIB, gt=0)
    max_user_files: int = Field(default=10_000, gt=0)
    # URLs for the bytes live minutes: a URL signed for an upload must not outlast
    # it by much (each is also refused once its object exists). Part URLs are
    # signed again through GET /uploads/{file_id}/parts.
    upload_url_ttl_seconds: int = Field(default=300, ge=1, le=300)
    # A pending upload lives a day, as long as the bucket keeps incomplete parts.
    pending_upload_ttl_seconds: int = Field(default=86_400, ge=900, le=86_400)
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # Set by the local stack only; boto3 reads AWS_ENDPOINT_URL itself, this
    # copy exists so the setting is visible and validated in one place.
    aws_endpoint_url: HttpUrl | None = None

    @field_validator("cognito_issuer")
    @classmethod
    def _issuer_is_https(cls, value: HttpUrl) -> HttpUrl:
        if value.scheme != "https":
            raise ValueError("COGNITO_ISSUER must be an https URL")
        return value

    @field_validator("jwks_url")
    @classmethod
    def _jwks_over_tls(cls, value: HttpUrl | None) -> HttpUrl | None:
        if value is not None and not is_allowed_jwks_url(str(value)):
            raise ValueError("JWKS_URL must be https, or http on loopback for the local stack")
        return value

    @property
    def issuer(self) -> str:
        return str(self.cognito_issuer).rstrip("/")

    @property
    def jwks_location(self) -> str:
        if self.jwks_url is not None:
            return str(self.jwks_url)
        return f"{self.issuer}/.well-known/jwks.json"


@lru_cache(maxsize=1)
def settings_from_environment() -> Settings:
    return Settings()  # type: ignore[call-arg]  # values come from the environment
