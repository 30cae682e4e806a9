"""`make init` and `make plan` first ask: are these the environment's AWS credentials?

Terraform's own errors ("No valid credential sources found", "Backend
initialization required") do not say what an environment needs. This does: the
account its terraform.tfvars pins, the role to use, `make init`, and the
offline plan that needs none of them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ops.environment import PROJECT

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOYED = ("dev", "stage", "prod")


def pinned_account(env: str) -> str:
    """The account environments/<env>/terraform.tfvars pins (the provider's allowed_account_ids)."""
    tfvars = (REPO_ROOT / "environments" / env / "terraform.tfvars").read_text(encoding="utf-8")
    match = re.search(r'^account_id\s*=\s*"(\d{12})"', tfvars, re.MULTILINE)
    if match is None:
        raise ValueError(f"environments/{env}/terraform.tfvars sets no 12-digit account_id")
    return match.group(1)


def problems(env: str, step: str) -> list[str]:
    """What stops `terraform <step>` in the environment's root; empty when nothing does."""
    account = pinned_account(env)
    try:
        caller = boto3.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        return [f"no usable AWS credentials ({error})"]
    found: list[str] = []
    if caller["Account"] != account:
        found.append(
            f"these credentials are for account {caller['Account']} ({caller['Arn']}); "
            f"environments/{env} deploys to {account}"
        )
    # What `terraform init` records of the backend (the gate's `init -backend=false` does not).
    backend = REPO_ROOT / "environments" / env / ".terraform" / "terraform.tfstate"
    if step == "plan" and not backend.is_file():
        found.append(f"environments/{env} is not initialised with its backend")
    return found


def advice(env: str) -> str:
    account = pinned_account(env)
    return "\n".join(
        (
            f"make {{init,plan}} ENV={env} needs credentials of account {account}:",
            f"  - read-only: the role {PROJECT}-{env}-github-plan (what pull requests plan with),",
            "    or your administrator role there (AWS_PROFILE, or aws sso login);",
            f"  - then once: make init ENV={env} (the S3 backend lives in that account).",
            f"No credentials? make plan ENV={env} OFFLINE=1 plans the same root and tfvars",
            "against an empty emulator, offline (what Terraform would create).",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.preflight", description=__doc__)
    parser.add_argument("step", choices=("init", "plan"))
    parser.add_argument("env", choices=DEPLOYED)
    args = parser.parse_args(argv)
    found = problems(args.env, args.step)
    if not found:
        return 0
    for problem in found:
        print(f"error: {problem}", file=sys.stderr)
    print(advice(args.env), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
