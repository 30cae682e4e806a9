"""`terraform apply` of environments/local into the emulator, as the local stack starts.

The same composition module as every AWS environment; its state is kept in the
stack's state directory and starts empty, as the emulator does. The output of
both steps goes to terraform.log there.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from tests.devstack import definitions as d
from tests.devstack import terraform

log = logging.getLogger("devstack")


def terraform_state_file(state_dir: Path) -> Path:
    """Where a stack keeps the local state of its Terraform apply (the emulator's resources)."""
    return state_dir / "terraform" / "terraform.tfstate"


def apply_local_environment(moto_endpoint: str, state_dir: Path) -> None:
    """init and apply environments/local against `moto_endpoint`; `state_dir` must be absolute
    (Terraform runs with -chdir and would read a relative path from there)."""
    state_file = terraform_state_file(state_dir)
    work = state_file.parent
    if work.exists():
        shutil.rmtree(work)  # the emulator starts empty: so does the state
    work.mkdir(parents=True)
    env = terraform.environment({"TF_DATA_DIR": str(work / ".terraform")})
    steps = (
        ["init", "-input=false", f"-backend-config=path={state_file}"],
        [
            "apply",
            "-input=false",
            "-auto-approve",
            f"-var=endpoint={moto_endpoint}",
            f"-var=account_id={d.ACCOUNT_ID}",
        ],
    )
    log_path = state_dir / "terraform.log"
    with log_path.open("w", encoding="utf-8") as output:
        for args in steps:
            result = terraform.run(args, d.LOCAL_ROOT, env=env)
            output.write(result.output)
            output.flush()
            if result.returncode != 0:
                raise RuntimeError(
                    f"terraform {args[0]} of environments/local failed "
                    f"(full log: {log_path}):\n{result.output[-3000:]}"
                )
            log.info("terraform %s of environments/local: %.1f s", args[0], result.seconds)
