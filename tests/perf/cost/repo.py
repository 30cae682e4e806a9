"""The model's inputs as the repository configures them, and the price list.

Memory, architecture and the JSON limit come from the SAM template; the part
size and direct-upload limits from the upload API's settings; durations from
the last `make bench`; the state machine, retention and lifecycle from
Terraform; the rest from inputs.toml, each with its reason.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

from tests.devstack.cloudformation import load_template
from tests.perf.cost.model import Inputs, Prices
from upload_api.core.config import Settings

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
PRICES = HERE / "prices.toml"
ASSUMPTIONS = HERE / "inputs.toml"
BENCH = ROOT / "tests" / "perf" / "results" / "bench.json"
STATE_MACHINE = ROOT / "modules" / "pipeline" / "state-machine.asl.json"
PRICE_SOURCE = re.compile(r"^https://aws\.amazon\.com/[a-z0-9/-]+/$")
SMALL_UPLOAD_BYTES = 100 * 1024

# The states one new, clean file passes: the execution's own (the Map, then
# the batch's tally) and each record's inside the Map. check_path() holds
# them to the definition, so a changed state machine fails here, not silently.
EXECUTION_PATH = ("ProcessRecords", "CountFailures", "AnyRecordFailed", "Done")
RECORD_PATH = ("HasFileId", "ProcessFile", "NewOutcome", "OutcomeEvent", "PublishOutcome")
SCAN_NOT_FINISHED = "MalwareScanNotFinishedError"
# inputs.toml entries the report uses, not the per-upload model.
REPORT_ONLY = {"pipe_polls_per_second"}


@dataclass(frozen=True)
class Assumption:
    value: float
    reason: str


def load_prices(path: Path = PRICES) -> Prices:
    """Prices from the dated file; each must name its AWS pricing page and check date."""
    with path.open("rb") as handle:
        entries: dict[str, dict[str, Any]] = tomllib.load(handle)["prices"]
    for name, entry in entries.items():
        if not PRICE_SOURCE.match(entry["source"]):
            raise ValueError(f"{name}: source must be an aws.amazon.com pricing page")
        if not isinstance(entry["checked"], datetime.date):
            raise TypeError(f"{name}: checked must be a date")
    return Prices(**{name: float(entry["usd"]) for name, entry in entries.items()})


def load_assumptions(path: Path = ASSUMPTIONS) -> dict[str, Assumption]:
    with path.open("rb") as handle:
        entries: dict[str, dict[str, Any]] = tomllib.load(handle)
    return {name: Assumption(e["value"], e["reason"]) for name, e in entries.items()}


def load_inputs(root: Path = ROOT, bench: Path = BENCH) -> Inputs:
    """Inputs as configured for prod, with the last bench run's durations."""
    if not bench.is_file():
        raise FileNotFoundError(f"{bench} is missing: run `make bench` first")
    template = _sam_template(root / "services" / "template.yaml")
    functions = template["Resources"]
    api = functions["UploadApiFunction"]["Properties"]
    prod = _tfvars(root / "environments" / "prod" / "terraform.tfvars")
    pipeline = _variable_defaults(root / "modules" / "pipeline" / "variables.tf")
    definition = state_machine(root / STATE_MACHINE.relative_to(ROOT))
    json_upload_ms = {
        int(measure["size_bytes"]): float(measure["app"]["median_ms"])
        for measure in json.loads(bench.read_text())["upload_overhead"].values()
    }
    transitions_per_execution, transitions_per_record = happy_path(definition)
    settings = Settings.model_fields
    assumptions = {
        name: a.value for name, a in load_assumptions().items() if name not in REPORT_ONLY
    }
    return Inputs(
        api_memory_mb=int(api["MemorySize"]),
        processor_memory_mb=int(functions["ProcessorFunction"]["Properties"]["MemorySize"]),
        architecture=template["Globals"]["Function"]["Architectures"][0],
        json_max_bytes=int(api["Environment"]["Variables"]["MAX_UPLOAD_BYTES"]),
        single_put_max_bytes=int(settings["single_put_max_bytes"].default),
        part_bytes=int(settings["multipart_part_bytes"].default),
        direct_max_bytes=int(settings["max_direct_upload_bytes"].default),
        json_upload_ms=json_upload_ms,
        # A call of one or two AWS round trips (start, an event, a single PUT's
        # complete) takes about as long as the bench's 100 KiB upload.
        api_call_ms=json_upload_ms[SMALL_UPLOAD_BYTES],
        state_machine_type=prod["state_machine_type"],
        transitions_per_execution=transitions_per_execution,
        transitions_per_record=transitions_per_record,
        scan_waits_s=scan_waits(
            definition, prod.get("malware_scan_wait") or pipeline.get("malware_scan_wait")
        ),
        sfn_log_level=pipeline["state_machine_log_level"],
        log_retention_days=int(prod["log_retention_days"]),
        # modules/secure-bucket enables Bucket Keys on every KMS bucket, and the
        # API's writes ask for them (BucketKeyEnabled=True).
        bucket_keys=True,
        guardduty=_uses_module(root / "modules" / "platform" / "main.tf", "malware-protection"),
        **assumptions,  # type: ignore[arg-type]  # numbers from inputs.toml, checked by Inputs
    )


def state_machine(path: Path = STATE_MACHINE) -> dict[str, Any]:
    """The definition with templatefile()'s ${...} references as 0 (strings stay strings)."""
    text = re.sub(r"\$\{[^}]*\}", "0", path.read_text())
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def happy_path(definition: dict[str, Any]) -> tuple[int, int]:
    """Transitions (states entered) per execution and per record on the happy path."""
    check_path(definition, EXECUTION_PATH)
    check_path(definition["States"][EXECUTION_PATH[0]]["ItemProcessor"], RECORD_PATH)
    return len(EXECUTION_PATH), len(RECORD_PATH)


def check_path(scope: dict[str, Any], path: tuple[str, ...]) -> None:
    states = scope["States"]
    if path[0] != scope["StartAt"]:
        raise ValueError(f"the state machine no longer starts at {path[0]}")
    for here, there in itertools.pairwise(path):
        state = states[here]
        following = {state.get("Next"), state.get("Default")}
        following |= {choice["Next"] for choice in state.get("Choices", [])}
        if there not in following:
            raise ValueError(f"{there} no longer follows {here} in {STATE_MACHINE.name}")
    last = states[path[-1]]
    if not (last.get("End") or last["Type"] == "Succeed"):
        raise ValueError(f"{path[-1]} no longer ends its scope in {STATE_MACHINE.name}")


def scan_waits(definition: dict[str, Any], wait: dict[str, Any] | None) -> tuple[float, ...]:
    """ProcessFile's retry schedule while an object has no malware verdict (none if no retry).

    `wait` is the pipeline's malware_scan_wait (prod's, else the module default)."""
    process_file = definition["States"][EXECUTION_PATH[0]]["ItemProcessor"]["States"][
        RECORD_PATH[1]
    ]
    if not any(SCAN_NOT_FINISHED in r["ErrorEquals"] for r in process_file.get("Retry", [])):
        return ()
    if wait is None:
        raise ValueError("ProcessFile waits for a malware verdict, but malware_scan_wait is unset")
    # Step Functions' schedule: interval, times the backoff rate each time, capped.
    return tuple(
        min(wait["interval_seconds"] * wait["backoff_rate"] ** attempt, wait["max_delay_seconds"])
        for attempt in range(int(wait["max_attempts"]))
    )


def _sam_template(path: Path) -> dict[str, Any]:
    """The SAM template, as CloudFormation reads it."""
    return load_template(path.read_text())


def _unquote(value: Any) -> Any:
    """python-hcl2 keeps string literals in their quotes."""
    if isinstance(value, str):
        return value.strip('"')
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items()}
    return value


def _tfvars(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        values: dict[str, Any] = _unquote(hcl2.load(handle))
    return values


def _variable_defaults(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        blocks = hcl2.load(handle)["variable"]
    return {
        _unquote(name): _unquote(body.get("default"))
        for block in blocks
        for name, body in block.items()
    }


def _uses_module(path: Path, module: str) -> bool:
    """Whether the composition calls modules/<module>."""
    with path.open(encoding="utf-8") as handle:
        blocks = hcl2.load(handle).get("module", [])
    return any(
        _unquote(body["source"]) == f"../{module}" for block in blocks for body in block.values()
    )
