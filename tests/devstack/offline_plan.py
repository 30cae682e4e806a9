"""`make plan ENV=<env> OFFLINE=1`: plan an environment's real root with no credentials, offline.

The root (environments/<env> with its terraform.tfvars, and the modules it calls)
is planned into an empty emulator (moto with the local stack's extensions) with a
local backend: what Terraform would create in an empty account. One override file
changes only the backend and how the provider connects (the emulator's endpoint,
dummy credentials); the resources, the variables, the default tags and
`allowed_account_ids` are the root's own. The emulator answers as the
environment's account (MOTO_ACCOUNT_ID), so ARNs carry the real account id and
`allowed_account_ids` is checked.

Writes <out>/<env>.tfplan and <env>.tfplan.json (default .devstack/plans/), and
prints Terraform's summary (`Plan: N to add, ...`). The gate scans the JSON with
checkov's terraform_plan framework (gate.scan).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess  # nosec B404 - runs only terraform and this module
import sys
import time
from pathlib import Path

from ops.preflight import DEPLOYED, pinned_account
from tests.devstack import terraform
from tests.devstack.definitions import REPO_ROOT
from tests.devstack.emulator import start_moto
from tests.devstack.ports import free_port

DEFAULT_OUT = REPO_ROOT / ".devstack" / "plans"
# Every service the roots' resources and data sources call.
SERVICES = (
    "cloudtrail", "cloudwatch", "cognitoidp", "dynamodb", "ecr", "events", "guardduty", "iam",
    "kms", "lambda", "logs", "pipes", "s3", "secretsmanager", "sfn", "sns", "sqs", "ssm", "sts",
)  # fmt: skip
# Folders a root's modules read beside themselves (modules/*, the data contract).
SHARED = ("modules", "services")


def override(endpoint: str) -> str:
    """The backend and the provider's connection, nothing else (Terraform merges it in)."""
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in SERVICES)
    return f"""# Written by tests/devstack/offline_plan.py: an offline plan's backend and endpoints.
terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  access_key                  = "testing"
  # moto's dummy credential: every endpoint below is the loopback emulator.
  secret_key                  = "testing" # pragma: allowlist secret
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  max_retries                 = 3

  endpoints {{
{endpoints}
  }}
}}
"""


def workspace(env: str, out: Path) -> Path:
    """A copy of the root beside links to what it reads, so relative paths still resolve."""
    base = out / env
    if base.exists():
        shutil.rmtree(base)
    root = base / "environments" / env
    shutil.copytree(
        REPO_ROOT / "environments" / env,
        root,
        ignore=shutil.ignore_patterns(".terraform", "*.tfplan", "*.tfstate*", "backend.tf"),
    )
    for name in SHARED:
        (base / name).symlink_to(REPO_ROOT / name, target_is_directory=True)
    return root


def plan(env: str, out: Path = DEFAULT_OUT) -> int:
    started = time.monotonic()
    os.environ["MOTO_ACCOUNT_ID"] = pinned_account(env)
    server = start_moto(free_port())
    try:
        endpoint = "http://{}:{}".format(*server.get_host_and_port())
        root = workspace(env, out)
        (root / "offline_override.tf").write_text(override(endpoint))
        plan_file = out / f"{env}.tfplan"
        env_vars = terraform.environment()
        steps = (
            ("init", ["init", "-input=false", "-lockfile=readonly"]),
            ("plan", ["plan", "-input=false", "-lock=false", f"-out={plan_file.resolve()}"]),
        )
        for step, args in steps:
            print(f"offline plan {env}: terraform {step} ...", file=sys.stderr, flush=True)
            result = terraform.run(args, root, env=env_vars, step=step)
            if result.returncode != 0:
                print(result.output, file=sys.stderr)
                print(f"offline plan {env}: terraform {step} failed", file=sys.stderr)
                return 1
        summary = [line for line in result.output.splitlines() if line.startswith("Plan:")]
        json_file = out / f"{env}.tfplan.json"
        with json_file.open("w", encoding="utf-8") as document:
            subprocess.run(  # noqa: S603  # nosec B603 - terraform with our own arguments
                terraform.command(["show", "-json", str(plan_file.resolve())], root),
                env=env_vars,
                stdout=document,
                check=True,
            )
    finally:
        server.stop()
    seconds = time.monotonic() - started
    print(f"{env}: {' '.join(summary) or 'no summary line'} ({seconds:.0f} s)")
    print(f"  plan: {plan_file}\n  json: {json_file}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.devstack.offline_plan", description=__doc__
    )
    parser.add_argument("env", nargs="+", choices=DEPLOYED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: %(default)s")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if len(args.env) == 1:
        return plan(args.env[0], args.out)
    # One process per environment, side by side: moto's account is per process.
    children = [
        subprocess.Popen(  # noqa: S603  # nosec B603 - our own interpreter and module
            [sys.executable, "-m", "tests.devstack.offline_plan", env, "--out", str(args.out)],
            cwd=REPO_ROOT,
        )
        for env in dict.fromkeys(args.env)
    ]
    return max(child.wait() for child in children)


if __name__ == "__main__":
    sys.exit(main())
