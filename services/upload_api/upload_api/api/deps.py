"""FastAPI dependencies: settings, the verified caller and the upload service."""

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

import botocore.session
from botocore.config import Config
from fastapi import Depends, Request, Security
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from upload_api.core.auth import (
    InvalidToken,
    JwksCache,
    TokenVerifier,
    User,
    bearer_token,
    unauthorized,
)
from upload_api.core.config import Settings
from upload_api.core.logging import logger
from upload_api.direct_uploads import DirectUploadService
from upload_api.quota import Quota
from upload_api.service import UploadService

if TYPE_CHECKING:
    from botocore.config import _S3Dict  # botocore-stubs: the keys of Config's s3 option


def app_settings(request: Request) -> Settings:
    """The settings the app was created with (create_app keeps them on app.state)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


@lru_cache(maxsize=4)
def _verifier(settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        issuer=settings.issuer,
        client_id=settings.cognito_client_id,
        jwks=JwksCache(settings.jwks_location),
        leeway=settings.jwt_leeway_seconds,
    )


class CognitoToken(SecurityBase):
    """The Authorization header as sent, declared in OpenAPI as a bearer JWT, so /docs
    has an Authorize button and every route that needs the token says so.

    Not fastapi.security.HTTPBearer: it drops Cognito's bare `Authorization: <jwt>`,
    which bearer_token accepts, and would answer a missing header itself; here every
    check stays in get_current_user, whose refusals are the one 401 shape.
    """

    def __init__(self) -> None:
        self.model = HTTPBearerModel(
            bearerFormat="JWT",
            description="A Cognito ID or access token of the environment's user pool.",
        )
        self.scheme_name = "CognitoToken"

    async def __call__(self, request: Request) -> str | None:
        return request.headers.get("authorization")


def get_current_user(
    settings: SettingsDep,
    authorization: Annotated[str | None, Security(CognitoToken())],
) -> User:
    try:
        return _verifier(settings).verify(bearer_token(authorization))
    except InvalidToken as error:
        logger.info("token refused", extra={"reason": str(error)})
        raise unauthorized(str(error)) from error


CurrentUser = Annotated[User, Depends(get_current_user)]


def _clients(
    settings: Settings, read_timeout: int, *, checksummed_writes: bool = False
) -> tuple[Any, Any]:
    # Two attempts of at most 2 s connect + read_timeout per call keep every
    # request inside the 29 s Lambda timeout in all but pathological cases.
    # Throttling costs far less: AWS refuses within a round trip, and standard
    # mode waits rand x 1 s before the one retry (longer only if the answer
    # carries x-amz-retry-after). The longest path, a POST /upload that frees
    # expired reservations, writes again and then removes its object, makes at
    # most 10 calls (3 of them the delete's tries, 0.6 s apart): all of them
    # throttled twice is under 11 s of waiting plus 20 round trips. The caller
    # then gets 503 `throttled` with Retry-After, and retries.
    config = Config(
        retries={"mode": "standard", "max_attempts": 2},
        connect_timeout=2,
        read_timeout=read_timeout,
        signature_version="s3v4",
    )
    endpoint = str(settings.aws_endpoint_url) if settings.aws_endpoint_url else None
    s3_options: _S3Dict = {}
    if endpoint is None:
        # Presigned URLs name the bucket's regional virtual-hosted origin,
        # https://<bucket>.s3.<region>.amazonaws.com: the one origin the web
        # app's CSP connect-src and the bucket's CORS admit. (In us-east-1
        # botocore would otherwise sign for the global s3.amazonaws.com.)
        s3_options["addressing_style"] = "virtual"
        s3_options["us_east_1_regional_endpoint"] = "regional"
    if checksummed_writes:
        # Each body goes with a checksum header that S3 checks and the signature
        # covers: a SigV4 payload hash on top would be a second SHA-256 of it.
        s3_options["payload_signing_enabled"] = False
    # One Config for all: merging a second s3={...} would replace the first.
    s3_config = config.merge(Config(s3=s3_options)) if s3_options else config
    # A botocore session: boto3's adds nothing these clients use, and importing it
    # (s3transfer included) would lengthen every cold start.
    session = botocore.session.get_session()
    return (
        session.create_client("s3", config=s3_config, endpoint_url=endpoint),
        session.create_client("dynamodb", config=config, endpoint_url=endpoint),
    )


def _quota(settings: Settings) -> Quota:
    return Quota(settings.user_usage_table, settings.max_user_bytes, settings.max_user_files)


# Services are built on first use, not at import, to keep the cold start short.
@lru_cache(maxsize=4)
def _service(settings: Settings) -> UploadService:
    # Its S3 bodies: put_object with ChecksumSHA256, delete_objects with the CRC32
    # that botocore adds (S3 requires one).
    s3, dynamodb = _clients(settings, read_timeout=5, checksummed_writes=True)
    return UploadService(
        s3=s3,
        dynamodb=dynamodb,
        bucket=settings.upload_bucket,
        table=settings.files_table,
        kms_key_id=settings.kms_key_id,
        presigned_url_ttl=settings.presigned_url_ttl_seconds,
        quota=_quota(settings),
        logger=logger,
    )


def get_upload_service(settings: SettingsDep) -> UploadService:
    return _service(settings)


UploadServiceDep = Annotated[UploadService, Depends(get_upload_service)]


@lru_cache(maxsize=4)
def _direct_service(settings: Settings) -> DirectUploadService:
    # S3 may take several seconds to assemble thousands of parts.
    s3, dynamodb = _clients(settings, read_timeout=12)
    return DirectUploadService(
        s3=s3,
        dynamodb=dynamodb,
        bucket=settings.upload_bucket,
        files_table=settings.files_table,
        pending_table=settings.pending_uploads_table,
        kms_key_id=settings.kms_key_id,
        url_ttl=settings.upload_url_ttl_seconds,
        pending_ttl=settings.pending_upload_ttl_seconds,
        single_put_max_bytes=settings.single_put_max_bytes,
        part_bytes=settings.multipart_part_bytes,
        max_bytes=settings.max_direct_upload_bytes,
        quota=_quota(settings),
        logger=logger,
    )


def get_direct_upload_service(settings: SettingsDep) -> DirectUploadService:
    return _direct_service(settings)


DirectUploadServiceDep = Annotated[DirectUploadService, Depends(get_direct_upload_service)]
