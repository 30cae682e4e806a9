"""moto in server mode, with the narrow extensions our Terraform needs from it.

moto 5.2.5 answers almost every call the AWS provider makes for our modules.
Where it does not, the extension below fills exactly that gap, each with a
test in tests/unit/devstack/test_emulator.py and a line in the README's
"Emulator gaps" table naming the upstream change that would remove it:

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
  our key) denies every request. The emulator skips conditional statements
  and evaluates the rest as moto does; the policy itself is applied and read
  back unchanged, and checkov checks its conditions.
- IAM `GetAccountAuthorizationDetails` leaves out each managed policy's
  `PolicyName` and `PolicyId` (moto names them `name` and `id`), which the
  IAM escalation analysis reads.

Everything else is moto's own behaviour, switched on by configuration:
executing state machines, no Docker for Lambda.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import httpx
import moto
from moto.core.responses import ActionResult
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import ManagedPolicy
from moto.s3.models import FakeBucket
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

MOTO_VERSION = "5.2.5"
HOST = "127.0.0.1"
# What the local stack asks of moto: run state machines for real, never Docker.
MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


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


_EXTENSIONS: dict[tuple[type[Any], str], Any] = {
    (StepFunctionResponse, "validate_state_machine_definition"): _validate_state_machine_definition,
    (StepFunctionResponse, "list_state_machine_versions"): _list_state_machine_versions,
    (FakeBucket, "_log_permissions_enabled_policy"): staticmethod(_log_permissions_enabled_policy),
    (FakeBucket, "get_permission"): _bucket_permission,
    # Read by moto's response serializer under the API's names.
    (ManagedPolicy, "policy_name"): property(lambda policy: policy.name),
    (ManagedPolicy, "policy_id"): property(lambda policy: policy.id),
}


def install_extensions() -> None:
    """Add the missing handlers to moto's response classes (idempotent)."""
    if moto.__version__ != MOTO_VERSION:
        # These reach into moto internals: re-check each on every moto upgrade.
        raise RuntimeError(f"the emulator extensions are written for moto {MOTO_VERSION}")
    for (cls, name), function in _EXTENSIONS.items():
        setattr(cls, name, function)


def start_moto(port: int) -> ThreadedMotoServer:
    """moto with our extensions on HOST:port, configured as the local stack needs."""
    install_extensions()
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    endpoint = f"http://{HOST}:{server.get_host_and_port()[1]}"
    httpx.post(f"{endpoint}/moto-api/config", json=MOTO_CONFIG).raise_for_status()
    return server
