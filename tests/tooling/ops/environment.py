"""An environment's AWS clients and the names Terraform published for it (SSM parameters).

`local` is the running local stack (its emulator, its dummy credentials);
dev, stage and prod use the caller's AWS credentials and region.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from devstack import definitions as d
from devstack.stack import (
    DEFAULT_STATE_DIR,
    StackState,
    load_state,
    published_parameters,
    stack_client,
)

ENVIRONMENTS = ("local", "dev", "stage", "prod")


@dataclass(frozen=True)
class Environment:
    client: Callable[[str], Any]
    parameters: dict[str, str]
    region: str


def environment(name: str) -> Environment:
    if name == "local":
        state_dir = Path(os.environ.get("DEVSTACK_STATE_DIR", str(DEFAULT_STATE_DIR)))
        return local_environment(load_state(state_dir))
    session = boto3.session.Session()
    parameters = published_parameters(session.client("ssm"), f"/{d.PROJECT}/{name}/")

    def client(service: str) -> Any:
        return session.client(service)  # type: ignore[call-overload]

    return Environment(client, parameters, str(session.region_name))


def local_environment(state: StackState) -> Environment:
    parameters = published_parameters(stack_client(state, "ssm"), d.PARAMETER_PATH)
    return Environment(lambda service: stack_client(state, service), parameters, state.region)
