"""The SAM template and samconfig.toml against the Terraform contract they depend on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.devstack.cloudformation import load_template
from tests.support.api import Api
from upload_api.api.routes.events import EVENTS_PATH
from upload_contract import SSM_PARAMETERS

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "services" / "template.yaml"
SAMCONFIG = ROOT / "services" / "samconfig.toml"
MAKEFILE = ROOT / "Makefile"
PLATFORM = ROOT / "modules" / "platform" / "main.tf"
ENVIRONMENTS = ("dev", "stage", "prod")
SSM_REFERENCE = re.compile(r"\{\{resolve:ssm:/secure-upload/\$\{EnvironmentName\}/([a-z0-9-]+)\}\}")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    with SAMCONFIG.open("rb") as handle:
        return tomllib.load(handle)


def _published_parameters() -> set[str]:
    """The contract's parameter names: Terraform publishes each as /<project>/<env>/<name>."""
    assert '"/${var.project}/${var.environment}/${each.key}"' in PLATFORM.read_text()
    return set(SSM_PARAMETERS.values())


def test_every_ssm_parameter_read_is_published_by_terraform() -> None:
    read = set(SSM_REFERENCE.findall(TEMPLATE.read_text()))
    assert read, "the template reads no SSM parameters"
    assert read <= _published_parameters()
    # No other way of reading SSM (a path typed for one environment, say).
    assert TEMPLATE.read_text().count("resolve:ssm") == len(
        SSM_REFERENCE.findall(TEMPLATE.read_text())
    )


def test_function_names_are_the_deterministic_ones(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    assert resources["ProcessorFunction"]["Properties"]["FunctionName"] == {
        "Fn::Sub": "secure-upload-${EnvironmentName}-processor"
    }
    assert resources["UploadApiFunction"]["Properties"]["FunctionName"] == {
        "Fn::Sub": "secure-upload-${EnvironmentName}-upload-api"
    }
    assert "processor-function-name" in _published_parameters()


def test_roles_come_from_terraform_and_sam_creates_no_iam(template: dict[str, Any]) -> None:
    for name in ("UploadApiFunction", "ProcessorFunction"):
        role = template["Resources"][name]["Properties"]["Role"]
        assert SSM_REFERENCE.fullmatch(role["Fn::Sub"])
    assert not [r for r in template["Resources"].values() if r["Type"].startswith("AWS::IAM::")]


def test_every_route_but_health_needs_the_cognito_authorizer(
    template: dict[str, Any], api: Api
) -> None:
    http_api = template["Resources"]["HttpApi"]["Properties"]
    assert http_api["Auth"]["DefaultAuthorizer"] == "CognitoAuthorizer"
    jwt = http_api["Auth"]["Authorizers"]["CognitoAuthorizer"]["JwtConfiguration"]
    assert SSM_REFERENCE.fullmatch(jwt["issuer"]["Fn::Sub"]).group(1) == "cognito-issuer-url"  # type: ignore[union-attr]
    routes = {}
    for resource in template["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            assert event["Type"] == "HttpApi"
            props = event["Properties"]
            assert props["ApiId"] == {"Ref": "HttpApi"}
            routes[(props["Method"], props["Path"])] = props.get("Auth")
    assert routes == {
        ("POST", "/upload"): None,
        ("GET", "/uploads"): None,
        ("GET", "/uploads/{file_id}"): None,
        ("POST", "/uploads"): None,
        ("GET", "/uploads/{file_id}/parts"): None,
        ("POST", "/uploads/{file_id}/complete"): None,
        ("DELETE", "/uploads/{file_id}"): None,
        ("GET", "/health"): {"Authorizer": "NONE"},
    }
    # The app documents exactly these routes, and serves the pass-through path besides.
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {(method.upper(), path) for path, ops in paths.items() for method in ops} == set(routes)
    assert api.client.post(EVENTS_PATH, content=b"{}").json()["error"] == "invalid_event"


def test_object_created_events_reach_the_app_through_the_pass_through_path(
    template: dict[str, Any],
) -> None:
    api = template["Resources"]["UploadApiFunction"]["Properties"]
    assert api["Environment"]["Variables"]["AWS_LWA_PASS_THROUGH_PATH"] == EVENTS_PATH
    permission = template["Resources"]["ObjectCreatedInvokePermission"]["Properties"]
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["FunctionName"] == {"Ref": "UploadApiFunction"}
    assert SSM_REFERENCE.fullmatch(permission["SourceArn"]["Fn::Sub"]).group(1) == (  # type: ignore[union-attr]
        "object-created-rule-arn"
    )


def test_access_logs_and_throttling(template: dict[str, Any]) -> None:
    api = template["Resources"]["HttpApi"]["Properties"]
    destination = api["AccessLogSettings"]["DestinationArn"]["Fn::Sub"]
    assert SSM_REFERENCE.fullmatch(destination).group(1) == "api-access-log-group-arn"  # type: ignore[union-attr]
    assert set(api["DefaultRouteSettings"]) >= {"ThrottlingRateLimit", "ThrottlingBurstLimit"}


def test_cors_allows_only_the_web_origin_terraform_publishes(
    template: dict[str, Any], samconfig: dict[str, Any]
) -> None:
    api = template["Resources"]["HttpApi"]["Properties"]
    condition, cors, closed = api["CorsConfiguration"]["Fn::If"]
    assert (condition, closed) == ("HasAllowedOrigins", {"Ref": "AWS::NoValue"})
    assert cors["AllowOrigins"] == {"Fn::Split": [",", {"Ref": "AllowedOrigins"}]}
    # Terraform publishes "none" until the web app exists (SSM refuses "", and
    # modules/platform's terraform test pins the value): CORS stays closed.
    assert template["Conditions"]["HasAllowedOrigins"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AllowedOrigins"}, "none"]}]
    }
    # The origin itself is Terraform's, read from SSM on every deploy, never typed in.
    parameter = template["Parameters"]["AllowedOrigins"]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert "Default" not in parameter
    for env in ENVIRONMENTS:
        name = f"/secure-upload/{env}/{SSM_PARAMETERS['web_origin']}"
        assert re.fullmatch(parameter["AllowedPattern"], name)
        overrides = samconfig[env]["deploy"]["parameters"]["parameter_overrides"].split()
        assert f"AllowedOrigins={name}" in overrides
    # make deploy's --parameter-overrides replace samconfig's: it names the parameter too.
    assert '"AllowedOrigins=/$(PROJECT)/$(ENV)/web-origin"' in MAKEFILE.read_text()


def test_runtime_environment_matches_the_contract(template: dict[str, Any]) -> None:
    common = template["Globals"]["Function"]["Environment"]["Variables"]
    api = {
        **common,
        **template["Resources"]["UploadApiFunction"]["Properties"]["Environment"]["Variables"],
    }
    processor = {
        **common,
        **template["Resources"]["ProcessorFunction"]["Properties"]["Environment"]["Variables"],
    }
    assert {
        "UPLOAD_BUCKET",
        "FILES_TABLE",
        "KMS_KEY_ID",
        "COGNITO_ISSUER",
        "COGNITO_CLIENT_ID",
        "AWS_LWA_READINESS_CHECK_PATH",
        "AWS_LWA_PORT",
        "POWERTOOLS_SERVICE_NAME",
    } <= set(api)
    assert api["POWERTOOLS_SERVICE_NAME"] == "upload-api"
    assert api["AWS_LWA_READINESS_CHECK_PATH"] == "/health"
    assert processor["POWERTOOLS_SERVICE_NAME"] == "processor"
    assert processor["POWERTOOLS_METRICS_NAMESPACE"] == "SecureUpload"
    # Both functions take the bucket from Terraform's parameter, never from an item.
    assert processor["UPLOAD_BUCKET"] == api["UPLOAD_BUCKET"]
    assert "AWS_ENDPOINT_URL" not in api  # local stack only


@pytest.mark.parametrize(
    ("uri", "valid"),
    [
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/secure-upload-dev/upload-api@sha256:"
            + "a" * 64,
            True,
        ),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/secure-upload-dev/upload-api:latest", False),
        ("docker.io/library/python@sha256:" + "a" * 64, False),
    ],
)
def test_images_are_referenced_by_digest(template: dict[str, Any], uri: str, valid: bool) -> None:
    pattern = template["Parameters"]["UploadApiImageUri"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, uri)) is valid


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_samconfig_has_a_section_per_environment(samconfig: dict[str, Any], env: str) -> None:
    deploy = samconfig[env]["deploy"]["parameters"]
    assert deploy["stack_name"] == f"secure-upload-{env}-app"
    assert deploy["parameter_overrides"] == (
        f"EnvironmentName={env} AllowedOrigins=/secure-upload/{env}/web-origin"
    )
    assert deploy["fail_on_empty_changeset"] is False
    assert "capabilities" not in deploy  # the template creates no IAM
    assert deploy["confirm_changeset"] is (env == "prod")


def test_workflows_deploy_to_the_samconfig_region(samconfig: dict[str, Any]) -> None:
    regions = {samconfig[env]["deploy"]["parameters"]["region"] for env in ENVIRONMENTS}
    assert len(regions) == 1
    for name in ("plan.yml", "deploy-environment.yml"):
        workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())
        assert {workflow["env"]["AWS_REGION"]} == regions


def test_the_api_alarms_watch_this_api_and_notify_terraforms_topic(
    template: dict[str, Any],
) -> None:
    alarms = {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert set(alarms) == {"ApiServerErrorRateAlarm", "ApiLatencyP99Alarm"}
    rate = alarms["ApiServerErrorRateAlarm"]
    stats = [m["MetricStat"]["Metric"] for m in rate["Metrics"] if "MetricStat" in m]
    assert {metric["MetricName"] for metric in stats} == {"5xx", "Count"}
    latency = alarms["ApiLatencyP99Alarm"]
    assert (latency["MetricName"], latency["ExtendedStatistic"]) == ("Latency", "p99")
    for alarm in alarms.values():
        metrics = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
        for metric in metrics or [alarm]:
            assert metric["Namespace"] == "AWS/ApiGateway"
            assert metric["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
        for action in (*alarm["AlarmActions"], *alarm["OKActions"]):
            assert SSM_REFERENCE.fullmatch(action["Fn::Sub"]).group(1) == "alarm-topic-arn"  # type: ignore[union-attr]
