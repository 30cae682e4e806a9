"""An environment's AWS clients and the names Terraform published for it (SSM parameters).

dev, stage and prod use the caller's AWS credentials and region. `local` is the
running local stack (`make dev`), reached the same way as AWS: by the endpoint
and region its state file records (`$DEVSTACK_STATE_DIR/state.json`, default
`.devstack/`), with dummy credentials.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import boto3
from botocore.config import Config

from upload_contract import SSM_PARAMETERS

PROJECT: Final = "secure-upload"
ENVIRONMENTS: Final = ("local", "dev", "stage", "prod")
# The local stack's emulator accepts any credentials; a dummy keeps real ones out of it.
LOCAL_CREDENTIAL: Final = "testing"


@dataclass(frozen=True)
class Environment:
    client: Callable[[str], Any]
    parameters: dict[str, str]
    region: str


class LocalEndpoint(Protocol):
    """What a tool needs of the local stack: where its emulator listens, and its region."""

    @property
    def moto_endpoint(self) -> str: ...

    @property
    def region(self) -> str: ...


@dataclass(frozen=True)
class LocalStackFile:
    moto_endpoint: str
    region: str


def parameter_path(name: str) -> str:
    """Where Terraform publishes an environment's names and ARNs: /<project>/<env>/."""
    return f"/{PROJECT}/{name}/"


def environment(name: str) -> Environment:
    if name == "local":
        return local_environment(read_local_stack())
    session = boto3.session.Session()
    parameters = published_parameters(session.client("ssm"), parameter_path(name))

    def client(service: str) -> Any:
        return session.client(service)  # type: ignore[call-overload]

    return Environment(client, parameters, str(session.region_name))


def read_local_stack(state_dir: Path | None = None) -> LocalStackFile:
    """The running local stack's endpoint, from the state file `make dev` writes."""
    directory = state_dir or Path(os.environ.get("DEVSTACK_STATE_DIR", ".devstack"))
    path = directory / "state.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: start the local stack first (make dev)")
    state = json.loads(path.read_text(encoding="utf-8"))
    return LocalStackFile(moto_endpoint=state["moto_endpoint"], region=state["region"])


def local_client(stack: LocalEndpoint, service: str, config: Config | None = None) -> Any:
    """A boto3 client of the local stack's emulator, with its dummy credentials."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=stack.moto_endpoint,
        region_name=stack.region,
        aws_access_key_id=LOCAL_CREDENTIAL,
        aws_secret_access_key=LOCAL_CREDENTIAL,
        config=config,
    )


def local_environment(stack: LocalEndpoint) -> Environment:
    parameters = published_parameters(local_client(stack, "ssm"), parameter_path("local"))
    return Environment(lambda service: local_client(stack, service), parameters, stack.region)


def published_parameters(ssm: Any, path: str) -> dict[str, str]:
    """The contract's SSM parameters under `path` (/<project>/<env>/), by their contract key."""
    published = {
        parameter["Name"]: parameter["Value"]
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path)
        for parameter in page["Parameters"]
    }
    names = {key: f"{path}{name}" for key, name in SSM_PARAMETERS.items()}
    missing = sorted(set(names.values()) - published.keys())
    if missing:
        raise RuntimeError(f"Terraform did not publish {missing}")
    return {key: published[name] for key, name in names.items()}
