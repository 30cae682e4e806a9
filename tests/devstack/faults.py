"""Fault injection for the end-to-end tests (`--fault-prefix`): a test hook of the local stack.

It runs in the router, before the real handler, and in the stand-in malware
scanner, so the product code has no fault paths.
"""

from __future__ import annotations

from typing import Any

from processor.service import ProcessingConfigurationError, TransientProcessingError
from tests.devstack import malware_scan
from tests.devstack.router import Fault, LambdaRouter


def fault_prefix_matchers(prefix: str) -> list[Fault]:
    """Failures for uploads named `<prefix><n>-*` (n transient ones), `<prefix>always-*`
    (transient, every time) or `<prefix>c<n>-*` (n configuration errors, which leave
    the item UPLOADED and fail the execution).
    """
    attempts: dict[tuple[str, str], int] = {}

    def spec_of(event: dict[str, Any]) -> tuple[str, str]:
        image = event.get("dynamodb", {}).get("NewImage", {})
        name = str(image.get("file_name", {}).get("S", ""))
        if not name.startswith(prefix):
            return "", ""
        return name[len(prefix) :].split("-", 1)[0], str(image.get("file_id", {}).get("S", name))

    def within(kind: str, file_id: str, times: str) -> bool:
        attempts[kind, file_id] = attempts.get((kind, file_id), 0) + 1
        return attempts[kind, file_id] <= int(times)

    def transient(event: dict[str, Any]) -> bool:
        spec, file_id = spec_of(event)
        return spec == "always" or (spec.isdigit() and within("transient", file_id, spec))

    def configuration(event: dict[str, Any]) -> bool:
        spec, file_id = spec_of(event)
        return spec[:1] == "c" and spec[1:].isdigit() and within("configuration", file_id, spec[1:])

    return [
        Fault(
            matches=transient,
            error=lambda: TransientProcessingError(
                "injected transient failure (devstack fault hook)"
            ),
        ),
        Fault(
            matches=configuration,
            error=lambda: ProcessingConfigurationError(
                "injected access denied (devstack fault hook)"
            ),
        ),
    ]


def inject(router: LambdaRouter, prefix: str) -> None:
    """The failures above, and no scan verdict ever for uploads named `<prefix>unscanned-*`."""
    for fault in fault_prefix_matchers(prefix):
        router.add_fault(fault)
    unscanned = f"{prefix}unscanned-"
    malware_scan.never_scan(lambda key: key.rsplit("/", 1)[-1].startswith(unscanned))


def withdraw(router: LambdaRouter) -> None:
    router.clear_faults()
    malware_scan.never_scan(None)
