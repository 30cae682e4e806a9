"""The progress line and log of `terraform apply -json`, replayed from recorded output.

terraform_apply_json/local_environment.jsonl is the output of a real apply of
environments/local into the local stack's emulator, trimmed to five resources
(two data sources read while planning, two at apply time), its two
change_summary totals edited to match; failed_provisioner.jsonl is a real
apply of a two-resource configuration whose second resource fails.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.devstack import terraform, terraform_apply
from tests.devstack.apply_progress import ApplyProgress, ProgressDisplay

RECORDED = Path(__file__).parent / "terraform_apply_json"
APPLY = (RECORDED / "local_environment.jsonl").read_text(encoding="utf-8").splitlines(True)
FAILED = (RECORDED / "failed_provisioner.jsonl").read_text(encoding="utf-8").splitlines(True)


def seconds(line: str) -> float:
    """When Terraform wrote the line: the replay's clock."""
    return datetime.fromisoformat(json.loads(line)["@timestamp"]).timestamp()


def replay(lines: list[str], until: str | None = None) -> tuple[ApplyProgress, str, float]:
    """Feed `lines` up to and including the first whose @message contains `until`."""
    progress = ApplyProgress(started=seconds(lines[0]))
    log = ""
    now = progress.started
    for line in lines:
        now = seconds(line)
        log += progress.feed(line, now)
        if until is not None and until in json.loads(line)["@message"]:
            break
    return progress, log, now


def test_while_planning_the_line_says_so() -> None:
    progress, _, now = replay(APPLY, until="aws_sqs_queue_policy.dlq: Plan to create")

    assert progress.line(now) == "terraform apply: planning, 18 s"


def test_the_plan_counts_the_resources_to_change_not_the_data_sources_to_read() -> None:
    progress, _, now = replay(APPLY, until="Plan: 5 to add")

    assert progress.line(now) == "terraform apply: 0/5 resources, 18 s"


def test_the_line_names_the_resource_waited_on_longest() -> None:
    progress, _, now = replay(APPLY, until="aws_sqs_queue_policy.dlq: Still creating... [10s")

    assert progress.line(now) == (
        "terraform apply: 2/5 resources, 73 s; 47 s on "
        "platform.storage.access_log_bucket.aws_s3_bucket_lifecycle_configuration.this (+2 more)"
    )
    # Time passes between messages too: the caller asks again a second later.
    assert progress.line(now + 1).startswith("terraform apply: 2/5 resources, 74 s; 48 s on ")


def test_a_finished_apply_has_done_every_planned_resource() -> None:
    progress, log, now = replay(APPLY)

    assert progress.line(now) == "terraform apply: 5/5 resources, 88 s"
    assert progress.last_error == ""
    # The log reads as Terraform's own output: one @message per line.
    assert log.splitlines() == [json.loads(line)["@message"] for line in APPLY]
    assert "Apply complete! Resources: 5 added, 0 changed, 0 destroyed." in log


def test_a_failed_apply_keeps_the_last_error_with_its_resource_and_detail() -> None:
    progress, log, now = replay(FAILED)

    assert progress.line(now) == "terraform apply: 1/2 resources, 0 s"
    assert progress.last_error == (
        "terraform_data.broken: Error: local-exec provisioner error\n"
        "Error running command 'echo the emulator refused; exit 3': exit status 3. "
        "Output: the emulator refused"
    )
    assert log.endswith(progress.last_error.split(": ", 1)[1] + "\n")


def test_a_line_that_is_not_json_goes_to_the_log_as_it_is() -> None:
    progress = ApplyProgress(started=0.0)

    assert progress.feed("panic: runtime error\n", 1.0) == "panic: runtime error\n"
    assert progress.line(2.0) == "terraform apply: planning, 2 s"


def test_on_a_terminal_one_line_is_rewritten_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "31")
    screen = io.StringIO()
    display = ProgressDisplay(screen, interactive=True)

    display.show("terraform apply: 1/5 resources, 3 s; 2 s on kms", 0.0)
    display.show("terraform apply: 2/5 resources, 4 s", 0.5)
    display.finish("terraform apply: 5/5 resources, 88 s")

    assert screen.getvalue() == (
        "\rterraform apply: 1/5 resources\x1b[K"  # cut to the terminal's width
        "\rterraform apply: 2/5 resources\x1b[K"
        "\rterraform apply: 5/5 resources, 88 s\x1b[K\n"
    )


def test_elsewhere_a_plain_line_every_few_seconds() -> None:
    screen = io.StringIO()
    display = ProgressDisplay(screen, interactive=False, interval=5.0)

    for second in range(12):
        display.show(f"at {second} s", float(second))
    display.finish("done")

    assert screen.getvalue() == "at 0 s\nat 5 s\nat 10 s\ndone\n"


@pytest.mark.parametrize(("recorded", "exit_code"), [(APPLY, 0), (FAILED, 1)])
def test_the_apply_runner_logs_shows_progress_and_returns_the_error(
    recorded: list[str], exit_code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for terraform that prints the recorded output and exits as it did.
    script = f"import sys; sys.stdout.write({''.join(recorded)!r}); sys.exit({exit_code})"
    monkeypatch.setattr(
        terraform, "command", lambda args, directory: [sys.executable, "-c", script]
    )
    log_file, screen = io.StringIO(), io.StringIO()

    failure = terraform_apply.apply_showing_progress(
        ["apply", "-json"], {}, log_file, ProgressDisplay(screen, interactive=False)
    )

    assert log_file.getvalue() == replay(recorded)[1]
    if exit_code:
        assert failure is not None
        assert failure.startswith("terraform_data.broken: Error: local-exec provisioner error")
        assert screen.getvalue().splitlines()[-1].endswith("1/2 resources, 0 s: failed")
    else:
        assert failure is None
        assert screen.getvalue().splitlines()[-1].startswith("terraform apply: 5/5 resources")
