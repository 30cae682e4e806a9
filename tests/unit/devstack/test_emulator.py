"""The narrow moto extensions the Terraform apply needs (devstack.emulator), each against a real
moto server on loopback, as the local stack runs it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.definitions import MOTO_CREDENTIAL
from devstack.emulator import MOTO_VERSION, install_extensions, start_moto
from devstack.stack import free_port
from tests.support.pipeline import state_machine_definition

ROLE = "arn:aws:iam::123456789012:role/sfn"
VALID = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = start_moto(free_port())
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def client(endpoint: str, service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=MOTO_CREDENTIAL,
        aws_secret_access_key=MOTO_CREDENTIAL,
    )


def test_written_for_the_pinned_moto() -> None:
    import moto

    assert moto.__version__ == MOTO_VERSION
    install_extensions()  # idempotent


def test_a_valid_definition_validates_ok(endpoint: str) -> None:
    answer = client(endpoint, "stepfunctions").validate_state_machine_definition(
        definition=VALID, type="STANDARD"
    )
    assert answer["result"] == "OK"
    assert answer["diagnostics"] == []


def test_an_invalid_definition_still_fails_validation(endpoint: str) -> None:
    broken = json.dumps({"StartAt": "Nowhere", "States": {"Done": {"Type": "Succeed"}}})
    answer = client(endpoint, "stepfunctions").validate_state_machine_definition(
        definition=broken, type="STANDARD"
    )
    assert answer["result"] == "FAIL"
    assert answer["diagnostics"][0]["severity"] == "ERROR"


def test_a_transition_to_a_missing_nested_state_fails_validation(endpoint: str) -> None:
    inner = {"StartAt": "Work", "States": {"Work": {"Type": "Pass", "Next": "Gone"}}}
    broken = {
        "StartAt": "Map",
        "States": {"Map": {"Type": "Map", "ItemProcessor": inner, "End": True}},
    }
    answer = client(endpoint, "stepfunctions").validate_state_machine_definition(
        definition=json.dumps(broken), type="STANDARD"
    )
    assert answer["result"] == "FAIL"
    assert "Work.Next -> Gone" in answer["diagnostics"][0]["message"]


def test_the_pipeline_definition_validates(endpoint: str) -> None:
    definition = state_machine_definition("arn:aws:lambda:us-east-1:1:function:p", "files")
    answer = client(endpoint, "stepfunctions").validate_state_machine_definition(
        definition=definition, type="STANDARD"
    )
    assert answer["result"] == "OK", answer


def test_versions_are_listed_from_moto(endpoint: str) -> None:
    sfn = client(endpoint, "stepfunctions")
    plain = sfn.create_state_machine(name="plain", definition=VALID, roleArn=ROLE)
    listed = sfn.list_state_machine_versions(stateMachineArn=plain["stateMachineArn"])
    assert listed["stateMachineVersions"] == []
    published = sfn.create_state_machine(
        name="published", definition=VALID, roleArn=ROLE, publish=True
    )
    arn = published["stateMachineArn"]
    (version,) = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert version["stateMachineVersionArn"] == f"{arn}:1"


def tls_only_policy(bucket: str, extra: list[dict[str, Any]] | None = None) -> str:
    statements = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        *(extra or []),
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def test_access_logging_to_a_bucket_whose_policy_has_a_star_principal(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    for name in ("logged", "log-target"):
        s3.create_bucket(Bucket=name)
    delivery = {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::log-target/uploads/*",
    }
    s3.put_bucket_policy(Bucket="log-target", Policy=tls_only_policy("log-target", [delivery]))
    s3.put_bucket_logging(
        Bucket="logged",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "log-target", "TargetPrefix": "uploads/"}
        },
    )
    enabled = s3.get_bucket_logging(Bucket="logged")["LoggingEnabled"]
    assert enabled["TargetBucket"] == "log-target"


def test_logging_still_needs_the_delivery_grant(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    for name in ("logged-2", "log-target-2"):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_policy(Bucket="log-target-2", Policy=tls_only_policy("log-target-2"))
    with pytest.raises(ClientError, match="InvalidTargetBucketForLogging"):
        s3.put_bucket_logging(
            Bucket="logged-2",
            BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": "log-target-2", "TargetPrefix": ""}
            },
        )


def test_conditional_denies_do_not_deny_everything(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="tls-only")
    s3.put_bucket_policy(Bucket="tls-only", Policy=tls_only_policy("tls-only"))
    s3.put_object(Bucket="tls-only", Key="k", Body=b"data")
    assert s3.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"data"


def test_unconditional_denies_still_deny(endpoint: str) -> None:
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket="no-writes")
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::no-writes/*",
    }
    s3.put_bucket_policy(
        Bucket="no-writes", Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]})
    )
    with pytest.raises(ClientError, match=r"403|AccessDenied|Forbidden"):
        s3.put_object(Bucket="no-writes", Key="k", Body=b"data")


def test_authorization_details_name_their_managed_policies(endpoint: str) -> None:
    iam = client(endpoint, "iam")
    arn = iam.create_policy(
        PolicyName="named",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    details = iam.get_account_authorization_details(Filter=["LocalManagedPolicy"])
    (policy,) = [p for p in details["Policies"] if p["Arn"] == arn]
    assert policy["PolicyName"] == "named"
    assert policy["PolicyId"] == iam.get_policy(PolicyArn=arn)["Policy"]["PolicyId"]
