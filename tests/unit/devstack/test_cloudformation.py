"""CloudFormation templates read as CloudFormation reads them (tests.devstack.cloudformation):
each short form as its long form, with PyYAML's own safe loader left refusing the tags."""

from __future__ import annotations

import pytest
import yaml

from tests.devstack.cloudformation import load_template

TEMPLATE = """
Conditions:
  HasOrigins: !Not [!Equals [!Ref Origins, "none"]]
Resources:
  Api:
    Properties:
      Name: !Sub secure-upload-${Environment}-api
      Role: !Sub ["arn:aws:iam::${AWS::AccountId}:role/${Name}", {Name: !Ref RoleName}]
      Cors: !If
        - HasOrigins
        - AllowOrigins: !Split [",", !Ref Origins]
        - !Ref AWS::NoValue
Outputs:
  Arn:
    Value: !GetAtt Function.Arn
  Nested:
    Value: !GetAtt Function.Attribute.WithDots
  Listed:
    Value: !GetAtt [Function, Arn]
"""


def test_each_short_form_is_read_as_its_long_form() -> None:
    template = load_template(TEMPLATE)
    assert template["Conditions"]["HasOrigins"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "Origins"}, "none"]}]
    }
    properties = template["Resources"]["Api"]["Properties"]
    assert properties["Name"] == {"Fn::Sub": "secure-upload-${Environment}-api"}
    assert properties["Role"] == {
        "Fn::Sub": [
            "arn:aws:iam::${AWS::AccountId}:role/${Name}",
            {"Name": {"Ref": "RoleName"}},
        ]
    }
    assert properties["Cors"] == {
        "Fn::If": [
            "HasOrigins",
            {"AllowOrigins": {"Fn::Split": [",", {"Ref": "Origins"}]}},
            {"Ref": "AWS::NoValue"},
        ]
    }
    outputs = template["Outputs"]
    assert outputs["Arn"]["Value"] == {"Fn::GetAtt": ["Function", "Arn"]}
    # The resource name ends at the first dot; the attribute keeps the rest.
    assert outputs["Nested"]["Value"] == {"Fn::GetAtt": ["Function", "Attribute.WithDots"]}
    assert outputs["Listed"]["Value"] == {"Fn::GetAtt": ["Function", "Arn"]}


def test_a_condition_reference_has_no_fn_prefix() -> None:
    template = load_template("Rules:\n  Allowed:\n    RuleCondition: !Condition HasOrigins\n")
    assert template["Rules"]["Allowed"]["RuleCondition"] == {"Condition": "HasOrigins"}


def test_a_template_is_a_mapping() -> None:
    with pytest.raises(TypeError, match="mapping"):
        load_template("- !Ref Origins\n")


def test_the_global_safe_loader_still_refuses_the_tags() -> None:
    load_template("Value: !Ref Origins\n")
    with pytest.raises(yaml.constructor.ConstructorError, match="!Ref"):
        yaml.safe_load("Value: !Ref Origins\n")
