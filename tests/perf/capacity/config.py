"""The capacity model's inputs: the deployed configuration, the assumptions and the quotas.

Throttles and reserved concurrency come from the SAM template's parameter
defaults (prod overrides none), the Pipe's batch size from the environment's
inputs to the platform module, the rest of the pipeline through the cost
model's readers, which also give each upload's calls and durations
(`tests.perf.cost.model.calls`). The pipeline simulation reads prod through
here too.
"""

from __future__ import annotations

import datetime
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

from tests.perf.capacity.model import Config, Mix, ModelInputs, Quotas
from tests.perf.cost import repo as cost_repo
from tests.perf.cost.model import Inputs as CostInputs

ROOT = cost_repo.ROOT
HERE = Path(__file__).resolve().parent
QUOTAS = HERE / "quotas.toml"
ASSUMPTIONS = HERE / "inputs.toml"
DOCS_SOURCE = re.compile(r"^https://docs\.aws\.amazon\.com/[A-Za-z0-9/_.-]+\.html$")


@dataclass(frozen=True)
class Loaded:
    config: Config
    cost_inputs: CostInputs
    mix: tuple[Mix, ...]
    inputs: ModelInputs
    quotas: Quotas
    alarms: dict[str, float]  # inputs.toml [alarms]


def load_quotas(path: Path = QUOTAS) -> Quotas:
    """Quotas from the dated file; each names its AWS documentation page and check date."""
    entries = _quota_entries(path)
    return Quotas(**{name: float(entry["value"]) for name, entry in entries.items()})


def token_bucket(name: str, path: Path = QUOTAS) -> tuple[float, float]:
    """A quota AWS meters as a token bucket: its refill rate per second and its burst."""
    entry = _quota_entries(path)[name]
    return float(entry["value"]), float(entry["burst"])


def _quota_entries(path: Path) -> dict[str, dict[str, Any]]:
    with path.open("rb") as handle:
        entries: dict[str, dict[str, Any]] = tomllib.load(handle)["quotas"]
    for name, entry in entries.items():
        if not DOCS_SOURCE.match(entry["source"]):
            raise ValueError(f"{name}: source must be a docs.aws.amazon.com page")
        if not isinstance(entry["checked"], datetime.date):
            raise TypeError(f"{name}: checked must be a date")
        if not entry["service_quota"]:
            raise ValueError(f"{name}: name its Service Quotas entry (or say fixed)")
    return entries


def quotas_region(path: Path = QUOTAS) -> str:
    with path.open("rb") as handle:
        region: str = tomllib.load(handle)["region"]
    return region


def load_assumptions(path: Path = ASSUMPTIONS) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def load(root: Path = ROOT, bench: Path = cost_repo.BENCH) -> Loaded:
    """Everything the model needs, for prod as configured."""
    assumptions = load_assumptions()
    cost_inputs = cost_repo.load_inputs(root, bench)
    config = read_config(root)
    if config.region != quotas_region():
        raise ValueError(
            f"quotas.toml holds {quotas_region()}'s quotas; prod is in {config.region}"
        )
    mix = tuple(
        Mix(label, int(entry["bytes"]), float(entry["share"]))
        for label, entry in assumptions["mix"].items()
    )
    for entry in mix:
        if (
            entry.bytes <= cost_inputs.json_max_bytes
            and entry.bytes not in cost_inputs.json_upload_ms
        ):
            raise ValueError(f"mix {entry.label}: the bench measures no JSON upload of that size")
    return Loaded(
        config=config,
        cost_inputs=cost_inputs,
        mix=mix,
        inputs=ModelInputs(**{k: float(v["value"]) for k, v in assumptions["model"].items()}),
        quotas=load_quotas(),
        alarms={k: float(v["value"]) for k, v in assumptions["alarms"].items()},
    )


def read_config(root: Path = ROOT) -> Config:
    """The settings that bound throughput, as the repository deploys them to prod."""
    parameters = _template_parameters(root)
    prod = environment_inputs("prod", root)
    assumptions = cost_repo.load_assumptions()
    return Config(
        region=prod["region"],
        api_rate_limit=float(parameters["ThrottlingRateLimit"]["Default"]),
        api_reserved_concurrency=float(parameters["UploadApiReservedConcurrency"]["Default"]),
        processor_reserved_concurrency=float(parameters["ProcessorReservedConcurrency"]["Default"]),
        pipe_batch_size=float(prod["pipe_batch_size"]),
        pipe_parallelization=pipe_parallelization(root / "modules" / "pipeline" / "pipe.tf"),
        pipe_polls_per_second=float(assumptions["pipe_polls_per_second"].value),
        state_machine_type=prod["state_machine_type"],
        # modules/secure-bucket enables Bucket Keys on every KMS bucket (as the cost model reads).
        bucket_keys=_bucket_keys(root),
    )


def api_burst_limit(root: Path = ROOT) -> float:
    """The API stage's ThrottlingBurstLimit: the requests it accepts above the rate at once."""
    return float(_template_parameters(root)["ThrottlingBurstLimit"]["Default"])


def environment_inputs(environment: str, root: Path = ROOT) -> dict[str, Any]:
    """An environment's inputs to modules/platform over the module's defaults: its
    terraform.tfvars (local sets them in main.tf); a null input takes the default."""
    directory = root / "environments" / environment
    tfvars = directory / "terraform.tfvars"
    if tfvars.is_file():
        inputs = cost_repo._tfvars(tfvars)
    else:
        with (directory / "main.tf").open(encoding="utf-8") as handle:
            inputs = cost_repo._unquote(hcl2.load(handle)["module"][0])["platform"]
    defaults = cost_repo._variable_defaults(root / "modules" / "platform" / "variables.tf")
    return defaults | {name: value for name, value in inputs.items() if value is not None}


def _template_parameters(root: Path) -> dict[str, Any]:
    """The SAM template's parameters: `make deploy` overrides only the environment and images."""
    template = cost_repo._sam_template(
        root / "services" / "template.yaml"
    )  # the cost model's CloudFormation-aware reader
    parameters: dict[str, Any] = template["Parameters"]
    return parameters


def pipe_parallelization(path: Path) -> float:
    """The Pipe's parallelization_factor on the stream source: 1 (AWS's default) when unset."""
    with path.open(encoding="utf-8") as handle:
        resources = hcl2.load(handle)["resource"]
    for block in resources:
        for body in block.get('"aws_pipes_pipe"', {}).values():
            stream = body["source_parameters"][0]["dynamodb_stream_parameters"][0]
            return float(stream.get("parallelization_factor", 1))
    raise ValueError(f"no aws_pipes_pipe in {path}")


def _bucket_keys(root: Path) -> bool:
    """modules/secure-bucket's bucket_key_enabled default (the storage module keeps it)."""
    defaults = cost_repo._variable_defaults(root / "modules" / "secure-bucket" / "variables.tf")
    return bool(defaults["bucket_key_enabled"])
