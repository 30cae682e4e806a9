"""moto in server mode, with the narrow extensions our Terraform and code need from it.

moto 5.2.5 answers almost every call the AWS provider makes for our modules.
Where it does not, or does not behave as AWS where we rely on AWS, an extension
below fills exactly that gap, each with a test in
tests/unit/devstack/test_emulator.py and a line in tests/README.md's "Emulator gaps"
table naming the upstream change that would remove it:

- Step Functions `ValidateStateMachineDefinition` (the provider validates a
  definition before it creates the state machine): answered by moto's own ASL
  parser plus a check that every transition names a state of its scope, so an
  invalid definition still fails the apply.
- Step Functions `ListStateMachineVersions` (the provider reads the versions of
  a state machine): answered from the versions moto already keeps.
- S3 `PutBucketLogging` when the target bucket's policy has a statement with
  `"Principal": "*"` (our TLS-only deny): moto expects every principal to be
  a map and crashes. `"*"` is read as `{"AWS": "*"}`, which IAM treats alike.
- S3 bucket-policy checks on object requests: moto evaluates them without the
  request's context, so every Deny with a Condition (TLS only, SSE-KMS with
  our key, reads only of objects tagged clean by the malware scan) denies
  every request. The emulator skips conditional statements and evaluates the
  rest as moto does; the policy itself is applied and read back unchanged,
  and `terraform test`, checkov and the end-to-end read-back check its
  conditions. Nothing in the local stack relies on moto enforcing them.
- IAM `GetAccountAuthorizationDetails` leaves out each managed policy's
  `PolicyName` and `PolicyId` (moto names them `name` and `id`), which the
  IAM escalation analysis reads.
- S3 presigned URLs (SigV4 query auth): moto accepts any. The emulator refuses,
  as S3 does, an expired one (403 `AccessDenied`), one whose signature does not
  match the request as sent (403 `SignatureDoesNotMatch`: another key, another
  value of a signed header, a signed header left out), one of an unknown access
  key (403 `InvalidAccessKeyId`) and malformed query auth (400), recomputing
  the signature with botocore's presigning signer and the secret of the local
  stack's one credential pair. Requests without query auth are untouched.
- S3 `PutObject` / `UploadPart` whose `x-amz-checksum-sha256` header does not
  match the body: moto stores the body; the emulator answers S3's 400
  `BadDigest`. Only that header is checked: not other algorithms, not a
  checksum sent in an aws-chunked trailer.
- DynamoDB `TransactWriteItems`: moto deep-copies every table a transaction
  touches, to roll a failed one back by putting the copies in place. That
  undoes what other request threads wrote meanwhile and swaps in a copy of the
  table's stream that no reader's shard iterator follows (a concurrent
  completion of the same upload vanished; the loser of a direct upload's
  `complete` and its object-created event, both registering the file, left
  the Pipe runner reading a stream nothing wrote to, and every later upload
  UPLOADED), and the copy costs time in proportion to the table, on every
  transaction. The emulator serialises DynamoDB writes, lets moto keep its
  tables, and undoes a failed transaction item by item, removing the stream
  records it added.
- S3 `ListObjectVersions` deep-copies every version in the bucket, object bytes
  included, on every call: the emulator lists views of the versions instead.
- EventBridge rules with a Lambda function target: moto delivers nothing to it.
  After `deliver_lambda_targets(deliver)`, `deliver(function_arn, event)` gets
  each event the rule matches as EventBridge sends it to Lambda: the full
  envelope, `time` in ISO 8601, and an `id` of its own for S3's events (moto
  gives them all one). A target's `InputTransformer` is applied with moto's
  parser where moto applies it to other targets (put_events, not S3's events);
  `Input` and `InputPath` are ignored, as moto ignores them for every target.
  The rule's other targets get moto's own delivery.
- KMS `EnableKeyRotation` with `RotationPeriodInDays`: moto drops the period
  and `GetKeyRotationStatus` leaves it out, so every plan wants to change it.
  The emulator keeps the period on the key (AWS's default is 365 days) and
  answers it while rotation is on.
- S3 `GetBucketNotificationConfiguration` leaves out `EventBridgeConfiguration`
  although moto keeps it, so every plan wants to turn EventBridge on again.
  The emulator answers it when it is set.
- GuardDuty Malware Protection for S3: the plan API, and a stand-in scanner
  that tags new objects as GuardDuty does (devstack/malware_scan.py).
- S3 multipart complete without a checksum algorithm: moto copies the whole
  object once more to take its full-object checksum; the emulator takes the
  same checksum part by part.
- CloudFront response-headers policies (not implemented) and distributions
  read back without the origin's OriginAccessControlId, with ForwardedValues
  and SSLSupportMethod that were not sent (devstack/cloudfront.py).
- CORS: moto's server answers CORS for every service (flask_cors, any
  origin). The emulator turns that off and answers it where AWS does: S3
  from the bucket's CORS configuration only (the first matching rule; an
  unauthenticated preflight, refused 403 without rules or a match) and
  Cognito IdP's public API for any origin (devstack/cors.py, tested in
  tests/unit/devstack/test_cors.py).
- Cognito IdP `RevokeToken` (the web app revokes each sign-in's refresh
  token): not implemented; answered as AWS documents it
  (devstack/cognito_revoke.py, tested in
  tests/unit/devstack/test_cognito_revoke.py).
- Throttling: moto never throttles. The emulator answers a share of the
  calls to S3, DynamoDB, Step Functions or Lambda (a rate per service or
  operation, set at runtime on its /_devstack/throttling path) as each of them
  answers when throttled, before moto sees the call (devstack/throttling.py,
  tested in tests/unit/devstack/test_throttling.py). Off unless set.

Not a gap but the local stack's own health line: the emulator's port answers
the Pipe runner's lag on /_devstack/pipeline (devstack/pipeline_status.py,
tested in tests/unit/devstack/test_pipeline_status.py).

Not a gap either: as every listener of the local stack, the emulator answers
only requests whose Host names loopback, so that no web page reaches it by DNS
rebinding, and of what a browser sends only the local web app's own requests
(the origin start_moto is given) and navigation GETs, never /moto-api/
(devstack/loopback.py, tested in tests/unit/devstack/test_loopback.py).

Everything else is moto's own behaviour, switched on by configuration:
executing state machines, no Docker for Lambda. Some of it the platform
relies on and test_emulator.py pins, so an upgrade that loses it fails there:
`If-None-Match: *` on PutObject (presigned too) and CompleteMultipartUpload
answers 412 `PreconditionFailed` when the key has a current version, as S3
does (a delete marker does not count), so no upload replaces an object.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import hashlib
import hmac
import importlib.util
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import httpx
import moto
import moto.dynamodb.models
import moto.s3.models
from botocore.auth import SIGV4_TIMESTAMP, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.core.responses import ActionResult
from moto.core.utils import iso_8601_datetime_without_milliseconds, utcfromtimestamp
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.events.models import Rule
from moto.events.utils import _BASE_EVENT_MESSAGE, EventMessageType, EventTemplateParser
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import ManagedPolicy
from moto.kms.responses import KmsResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.exceptions import (
    S3ClientError,
    S3InvalidAccessKeyIdError,
    S3SignatureDoesNotMatchError,
)
from moto.s3.models import FakeBucket, FakeDeleteMarker, FakeKey, MultipartChecksumBuilder
from moto.s3.responses import S3Response
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from tests.devstack import (
    cloudfront,
    cognito_revoke,
    cors,
    loopback,
    malware_scan,
    pipeline_status,
    throttling,
)
from tests.devstack.definitions import FAKE_AWS_ENV, MOTO_CREDENTIAL, UNSET_AWS_ENV
from tests.devstack.ports import HOST

MOTO_VERSION = "5.2.5"
# What the local stack asks of moto: run state machines for real, never Docker.
MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
# The secret of each access key presigned URLs may use: the local stack's one pair.
SECRET_KEYS = {MOTO_CREDENTIAL: MOTO_CREDENTIAL}

logger = logging.getLogger(__name__)


def _missing_targets(scope: dict[str, Any]) -> list[str]:
    """Transitions (StartAt, Next, Default, Catch) naming no state of their scope, nested too."""
    states = scope.get("States", {})
    targets = [("StartAt", scope.get("StartAt"))]
    nested: list[dict[str, Any]] = []
    for name, state in states.items():
        targets += [(f"{name}.Next", state.get("Next")), (f"{name}.Default", state.get("Default"))]
        targets += [(f"{name}.Choices", c.get("Next")) for c in state.get("Choices", [])]
        targets += [(f"{name}.Catch", c.get("Next")) for c in state.get("Catch", [])]
        nested += [state[k] for k in ("ItemProcessor", "Iterator") if k in state]
        nested += state.get("Branches", [])
    missing = [
        f"{where} -> {target}" for where, target in targets if target and target not in states
    ]
    return missing + [m for inner in nested for m in _missing_targets(inner)]


def _definition_problem(definition: str) -> str | None:
    try:
        StepFunctionsParserBackend._validate_definition(definition=definition)
    except Exception as error:  # moto raises its own InvalidDefinition with a message
        return str(getattr(error, "message", error))
    missing = _missing_targets(json.loads(definition))
    return f"MISSING_TRANSITION_TARGET: {', '.join(missing)}" if missing else None


def _validate_state_machine_definition(self: StepFunctionResponse) -> ActionResult:
    message = _definition_problem(self._get_param("definition"))
    if message is not None:
        return ActionResult(
            {
                "result": "FAIL",
                "diagnostics": [
                    {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": message}
                ],
                "truncated": False,
            }
        )
    return ActionResult({"result": "OK", "diagnostics": [], "truncated": False})


def _list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = [
        {"stateMachineVersionArn": version.arn, "creationDate": version.creation_date}
        for version in sorted(
            getattr(machine, "versions", {}).values(), key=lambda v: v.version, reverse=True
        )
    ]
    return ActionResult({"stateMachineVersions": versions})


_original_log_permissions = FakeBucket._log_permissions_enabled_policy


def _statements(bucket_policy: bytes) -> list[dict[str, Any]]:
    statements = json.loads(bucket_policy.decode())["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _policy(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _log_permissions_enabled_policy(target_bucket: FakeBucket, target_prefix: str | None) -> bool:
    if not target_bucket.policy:
        return False
    statements = [
        {**s, "Principal": {"AWS": "*"}} if s.get("Principal") == "*" else s
        for s in _statements(target_bucket.policy)
    ]
    view = SimpleNamespace(
        policy=_policy(statements).encode(),
        partition=target_bucket.partition,
        name=target_bucket.name,
    )
    return bool(_original_log_permissions(view, target_prefix))  # type: ignore[arg-type]


def _bucket_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    unconditional = [s for s in _statements(self.policy) if "Condition" not in s]
    result: PermissionResult = IAMPolicy(_policy(unconditional)).is_action_permitted(
        action, resource
    )
    return result


_original_authenticate_s3 = S3Response._authenticate_and_authorize_s3_action


def _check_presigned(response: S3Response, raw_query: str, params: dict[str, str]) -> None:
    try:
        access_key, _, region, service, _ = params["X-Amz-Credential"].split("/")
        signed_at = datetime.strptime(params["X-Amz-Date"], SIGV4_TIMESTAMP).replace(tzinfo=UTC)
        expires_at = signed_at + timedelta(seconds=int(params["X-Amz-Expires"]))
        signed_headers = params["X-Amz-SignedHeaders"].split(";")
    except (KeyError, ValueError) as error:
        raise S3ClientError(
            "AuthorizationQueryParametersError", "Query-string authentication is malformed."
        ) from error
    if access_key not in SECRET_KEYS:
        raise S3InvalidAccessKeyIdError()
    if expires_at < datetime.now(UTC):
        raise S3ClientError("AccessDenied", "Request has expired")
    # botocore's presigning signer, fed the request as it arrived: the raw path and
    # query (less the signature) and the signed headers as the client sent them.
    unsigned = "&".join(p for p in raw_query.split("&") if not p.startswith("X-Amz-Signature="))
    request = AWSRequest(
        method=response.method,
        url=f"http://{response.headers.get('host', '')}{response.raw_path}?{unsigned}",
        headers={
            name: response.headers[name] for name in signed_headers if name in response.headers
        },
    )
    request.context["timestamp"] = params["X-Amz-Date"]
    signer = S3SigV4QueryAuth(Credentials(access_key, SECRET_KEYS[access_key]), service, region)
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        raise S3SignatureDoesNotMatchError()


def _authenticate_s3(
    self: S3Response, bucket_name: str | None = None, key_name: str | None = None
) -> None:
    # moto's own S3 authentication step: every S3 action calls it before it acts,
    # inside the handling that answers an S3ClientError as S3's XML error. A WSGI
    # middleware would see every service and have to redo both.
    raw_query = self.normalized_request.query_string.decode()
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    if params.get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256" and "X-Amz-Signature" in params:
        _check_presigned(self, raw_query, params)
    _original_authenticate_s3(self, bucket_name, key_name)


def _sha256_checked(action: Callable[[S3Response], Any]) -> Callable[[S3Response], Any]:
    # Checked before moto stores anything, as S3 refuses the request whole.
    def checked(self: S3Response) -> Any:
        claimed = self.headers.get("x-amz-checksum-sha256")
        if (
            claimed is not None
            and claimed != base64.b64encode(hashlib.sha256(self.body or b"").digest()).decode()
        ):
            raise S3ClientError(
                "BadDigest", "The SHA256 you specified did not match the calculated checksum."
            )
        return action(self)

    return checked


# moto rolls a failed TransactWriteItems back by putting in place a deep copy
# of each table it touched, taken before it started. Three things go wrong
# with that: a write another request thread made meanwhile is undone too
# (DynamoDB is atomic per item); the copy carries a copy of the table's
# stream, so every reader's shard iterator (the Pipe runner's) goes on
# reading a stream nothing writes to any more; and the copy costs about
# 0.1 ms per item in the table, on every transaction, failed or not. So every
# write waits for the others, moto's copy of a table is the table itself (its
# rollback puts back what is already there), and a failed transaction is
# undone here item by item: each item it named gets its earlier value back,
# and each stream loses the records the transaction and its undoing added.
_DYNAMODB_WRITES = threading.RLock()


def _serialised(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def serialised(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_WRITES:
            return write(self, *args, **kwargs)

    return serialised


class _TablesNotCopied:
    """The `copy` module as moto's DynamoDB models see it, but for tables."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value)


def _named_items(
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(table, key, attributes or None) of every item the transaction names, as now."""
    named = []
    for entry in transact_items:
        operation, request = next(iter(entry.items()))
        table = backend.tables.get(request.get("TableName", ""))
        if table is None:
            continue
        if operation == "Put":
            names = [n for n in (table.hash_key_attr, table.range_key_attr) if n]
            key = {n: request["Item"][n] for n in names if n in request["Item"]}
        else:
            key = request.get("Key", {})
        try:
            current = backend.get_item(table.name, key)
        except Exception:  # noqa: S112  # a malformed key: moto's checks refuse the transaction
            continue
        named.append((table.name, key, current.to_json()["Attributes"] if current else None))
    return named


def _transact_rolled_back_by_item(transact: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(transact)
    def transact_write_items(
        self: DynamoDBBackend, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        with _DYNAMODB_WRITES:
            before = _named_items(self, transact_items)
            streams = {
                table.stream_shard: len(table.stream_shard.items)
                for table in self.tables.values()
                if table.stream_shard is not None
            }
            try:
                return transact(self, transact_items, *args, **kwargs)
            except Exception:
                for table_name, key, attributes in reversed(before):
                    if attributes is None:
                        if self.get_item(table_name, key) is not None:
                            self.delete_item(table_name, key)
                    else:
                        self.put_item(table_name, attributes)
                for shard, length in streams.items():
                    del shard.items[length:]
                raise

    return transact_write_items


# ListObjectVersions marks the latest version of each key on copies of every
# version in the bucket, made with copy.deepcopy: each copy reads the object's
# bytes and writes them to a new buffer (a temporary file above 1 MB), so one
# listing of one key copied every byte in the bucket, hundreds of megabytes in
# a bench run. A view of each version (its attributes, the same bytes) is all
# the listing reads.
class _VersionsNotCopied:
    """The `copy` module as moto's S3 models see it, but for lists of versions."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any) -> Any:
        if isinstance(value, list) and all(
            isinstance(version, FakeKey | FakeDeleteMarker) for version in value
        ):
            return [_view(version) for version in value]
        return copy.deepcopy(value)


class _KeyView(FakeKey):
    """A version's attributes over the same bytes, which the version itself keeps."""

    def __del__(self) -> None:
        # FakeKey closes its buffer when collected: a view must leave it open.
        pass


def _view(version: Any) -> Any:
    view = object.__new__(_KeyView if isinstance(version, FakeKey) else type(version))
    view.__dict__.update(vars(version))
    return view


_DYNAMODB_WRITE_METHODS = ("put_item", "update_item", "delete_item", "batch_write_item")


Deliver = Callable[[str, dict[str, Any]], None]
# The function Lambda targets' events go to; None leaves them to moto (which drops them).
_lambda_delivery: dict[str, Deliver | None] = {"deliver": None}
_original_send_to_targets = Rule.send_to_targets


def deliver_lambda_targets(deliver: Deliver | None) -> None:
    """From now on, hand each event a rule sends to a Lambda function target to
    `deliver(function_arn, event)`; None gives the targets back to moto.

    `deliver` runs in moto's request thread, before the request that caused the
    event is answered: it should only queue the event. A later call replaces it.
    Takes effect once the extensions are installed (start_moto installs them).
    """
    _lambda_delivery["deliver"] = deliver


def _is_lambda_function(arn: str) -> bool:
    parts = arn.split(":")
    return len(parts) >= 7 and parts[2] == "lambda" and parts[5] == "function"


def _lambda_event(
    original: EventMessageType, target: dict[str, Any], transform_input: bool
) -> dict[str, Any]:
    if transform_input and "InputTransformer" in target:
        transformer = target["InputTransformer"]
        transformed: dict[str, Any] = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=original,
        )
        return transformed
    event: dict[str, Any] = copy.deepcopy(dict(original))
    event.pop("ingestion-time", None)  # moto's bookkeeping, not part of the event
    if event["id"] == _BASE_EVENT_MESSAGE["id"]:
        # moto's S3 events share one placeholder id; derive one per event, the
        # same for every rule it matches, as EventBridge's is.
        event["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps(event, default=str)))
    event["time"] = iso_8601_datetime_without_milliseconds(
        utcfromtimestamp(float(event["time"]))  # type: ignore[arg-type]
    )
    return event


def _send_to_targets(
    self: Rule, original_event: EventMessageType, transform_input: bool = True
) -> None:
    deliver = _lambda_delivery["deliver"]
    lambdas = [t for t in self.targets if _is_lambda_function(t["Arn"])]
    if deliver is None or not lambdas:
        _original_send_to_targets(self, original_event, transform_input)
        return
    try:
        if self.event_pattern.matches_event(original_event):
            for target in lambdas:
                deliver(target["Arn"], _lambda_event(original_event, target, transform_input))
    except Exception:  # an emulated asynchronous delivery: never fail the request
        logger.exception("delivering an event to rule %s's Lambda targets failed", self.name)
    others = [t for t in self.targets if t not in lambdas]
    if others:
        # moto's delivery, to a view of the rule without the Lambda targets it would
        # refuse; object.__new__ because moto's models keep every instance they create.
        view = object.__new__(type(self))
        view.__dict__.update(vars(self), targets=others)
        _original_send_to_targets(view, original_event, transform_input)


# A multipart upload that names no checksum algorithm gets a full-object checksum,
# which S3 computes as the bytes stream in. moto copies the whole object into a
# second buffer at complete and checksums the copy: for a 256 MiB file two more
# 256 MiB copies, whose page faults made the bench's direct uploads vary by 2x.
# The same checksum, part by part, for the algorithms moto computes with CRC32
# here (CRC64NVME without awscrt, CRC32C without the crc32c package, as
# moto.s3.utils.compute_checksum falls back); any other keeps moto's way.
_STREAMED_ALGORITHMS = {"CRC32"} | {
    algorithm
    for algorithm, library in (("CRC64NVME", "awscrt"), ("CRC32C", "crc32c"))
    if importlib.util.find_spec(library) is None
}
_original_add_part = MultipartChecksumBuilder.addPart
_original_build = MultipartChecksumBuilder.build


def _streamed(builder: MultipartChecksumBuilder) -> bool:
    return (
        builder.checksum_type == "FULL_OBJECT"
        and builder.checksum_algorithm in _STREAMED_ALGORITHMS
    )


def _add_part(self: MultipartChecksumBuilder, part: bytes) -> None:
    if not _streamed(self):
        _original_add_part(self, part)
        return
    vars(self)["running_crc32"] = binascii.crc32(part, vars(self).get("running_crc32", 0))
    self.part_count += 1


def _build(self: MultipartChecksumBuilder) -> tuple[str, str, int] | None:
    if not _streamed(self):
        return _original_build(self)
    crc = vars(self).get("running_crc32", 0).to_bytes(4, "big")
    return self.checksum_type, base64.b64encode(crc).decode(), 1


# AWS's rotation period when EnableKeyRotation names none.
DEFAULT_ROTATION_PERIOD_DAYS = 365
_original_enable_key_rotation = KmsResponse.enable_key_rotation
_original_get_key_rotation_status = KmsResponse.get_key_rotation_status


def _enable_key_rotation(self: KmsResponse) -> str:
    answer = _original_enable_key_rotation(self)
    key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
    key.rotation_period_in_days = int(  # type: ignore[attr-defined]  # ours, on moto's key
        self._get_param("RotationPeriodInDays") or DEFAULT_ROTATION_PERIOD_DAYS
    )
    return answer


def _get_key_rotation_status(self: KmsResponse) -> str:
    answer = json.loads(_original_get_key_rotation_status(self))
    key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
    if answer["KeyRotationEnabled"]:
        answer["RotationPeriodInDays"] = getattr(
            key, "rotation_period_in_days", DEFAULT_ROTATION_PERIOD_DAYS
        )
    return json.dumps(answer)


_original_get_bucket_notification = S3Response.get_bucket_notification


def _get_bucket_notification(self: S3Response) -> Any:
    configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if not configuration or configuration.event_bridge is None:
        return _original_get_bucket_notification(self)
    serialized = self.serialized

    def with_event_bridge(result: Any) -> Any:
        if isinstance(result, ActionResult) and isinstance(result.result, dict):
            result.result["EventBridgeConfiguration"] = {}
        return serialized(result)

    self.serialized = with_event_bridge  # type: ignore[method-assign, assignment]
    try:
        return _original_get_bucket_notification(self)
    finally:
        del self.serialized


_EXTENSIONS: dict[tuple[type[Any], str], Any] = {
    (StepFunctionResponse, "validate_state_machine_definition"): _validate_state_machine_definition,
    (StepFunctionResponse, "list_state_machine_versions"): _list_state_machine_versions,
    (FakeBucket, "_log_permissions_enabled_policy"): staticmethod(_log_permissions_enabled_policy),
    (FakeBucket, "get_permission"): _bucket_permission,
    # Read by moto's response serializer under the API's names.
    (ManagedPolicy, "policy_name"): property(lambda policy: policy.name),
    (ManagedPolicy, "policy_id"): property(lambda policy: policy.id),
    (S3Response, "_authenticate_and_authorize_s3_action"): _authenticate_s3,
    (S3Response, "put_object"): _sha256_checked(S3Response.put_object),
    (S3Response, "upload_part"): _sha256_checked(S3Response.upload_part),
    (Rule, "send_to_targets"): _send_to_targets,
    (KmsResponse, "enable_key_rotation"): _enable_key_rotation,
    (KmsResponse, "get_key_rotation_status"): _get_key_rotation_status,
    (S3Response, "get_bucket_notification"): _get_bucket_notification,
    (MultipartChecksumBuilder, "addPart"): _add_part,
    (MultipartChecksumBuilder, "build"): _build,
    **{
        (DynamoDBBackend, name): _serialised(getattr(DynamoDBBackend, name))
        for name in _DYNAMODB_WRITE_METHODS
    },
    (DynamoDBBackend, "transact_write_items"): _transact_rolled_back_by_item(
        DynamoDBBackend.transact_write_items
    ),
    **malware_scan.API_EXTENSIONS,
    **cloudfront.API_EXTENSIONS,
    **cors.API_EXTENSIONS,
    **cognito_revoke.API_EXTENSIONS,
    (DomainDispatcherApplication, "__call__"): loopback.wsgi_loopback_only(
        pipeline_status.answering_status(throttling.dispatch)
    ),
}


def install_extensions() -> None:
    """Add the missing handlers to moto's response classes (idempotent)."""
    if moto.__version__ != MOTO_VERSION:
        # These reach into moto internals: re-check each on every moto upgrade.
        raise RuntimeError(f"the emulator extensions are written for moto {MOTO_VERSION}")
    for (cls, name), function in _EXTENSIONS.items():
        setattr(cls, name, function)
    moto.dynamodb.models.copy = _TablesNotCopied  # type: ignore[assignment, attr-defined]
    moto.s3.models.copy = _VersionsNotCopied  # type: ignore[assignment, attr-defined]
    malware_scan.install()
    cors.install()


def start_moto(port: int, web_origin: str | None = None) -> ThreadedMotoServer:
    """moto with our extensions on HOST:port, configured as the local stack needs; a browser
    reaches it only from the local web app at web_origin, none without one (loopback.py)."""
    install_extensions()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    assert server._server is not None  # start() returns once the server is made
    loopback.admit_web_origin(server._server.app, web_origin)
    endpoint = f"http://{HOST}:{server.get_host_and_port()[1]}"
    httpx.post(f"{endpoint}/moto-api/config", json=MOTO_CONFIG).raise_for_status()
    return server


def start_moto_for_this_process(port: int, web_origin: str | None) -> ThreadedMotoServer:
    """The local stack's emulator: start_moto, with this process's AWS settings pointing at it.

    Fake credentials, so nothing in this process can reach AWS; MOTO_PORT because
    moto's Step Functions engine calls Lambda and DynamoDB there.
    """
    for name in UNSET_AWS_ENV:
        os.environ.pop(name, None)
    os.environ.update(FAKE_AWS_ENV)
    # One line per moto request is noise at this level.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = start_moto(port, web_origin)
    listening = server.get_host_and_port()[1]
    os.environ["MOTO_PORT"] = str(listening)
    os.environ["AWS_ENDPOINT_URL"] = f"http://{HOST}:{listening}"
    return server
