"""A restart keeps the data: what was uploaded, the users and their tokens, and the stack is
still exactly what Terraform built (`terraform plan` shows no changes)."""

from __future__ import annotations

import httpx

from tests.devstack import definitions as d
from tests.devstack import terraform
from tests.devstack.terraform_apply import WebOrigins
from tests.e2e.conftest import RunningStack, executions_for
from tests.e2e.test_flow import upload, wait_final


def upload_processed(api: httpx.Client, name: str, data: bytes) -> str:
    file_id: str = upload(api, name, data)["file_id"]
    assert wait_final(api, file_id)["status"] == "PROCESSED"
    return file_id


def test_a_restart_keeps_the_data_and_the_infrastructure_terraform_built(
    stack: RunningStack, api: httpx.Client
) -> None:
    before = upload_processed(api, "kept.txt", b"kept across the restart")
    password = stack.state.password

    stack.restart()

    log = stack.child.log_path.read_text(encoding="utf-8")
    # Restored, not applied again: the second start's log says so, and only one apply ran.
    assert "Terraform's inputs are unchanged since it was saved: no apply" in log
    assert log.count("Terraform applies environments/local") == 1
    assert stack.state.password == password
    # The token issued before the restart (the session's `api`) is still accepted.
    listed = {item["file_id"]: item for item in api.get("/uploads").json()["items"]}
    assert listed[before]["status"] == "PROCESSED"
    download = api.get(f"/uploads/{before}").json()["download_url"]
    assert httpx.get(download).content == b"kept across the restart"

    # The Pipe resumes where it stopped: new uploads are processed, old records are not
    # delivered again.
    after = upload_processed(api, "after.txt", b"uploaded after the restart")
    assert len(executions_for(stack, before)) == 1
    assert len(executions_for(stack, after)) == 1

    state_dir = stack.child.terraform_state_file.parent
    plan = terraform.run(
        [
            "plan",
            "-input=false",
            "-detailed-exitcode",
            f"-var=endpoint={stack.state.moto_endpoint}",
            f"-var=account_id={d.ACCOUNT_ID}",
            *WebOrigins(stack.state.api_url, str(stack.state.web_url)).variables(),
        ],
        d.LOCAL_ROOT,
        env=terraform.environment({"TF_DATA_DIR": str(state_dir / ".terraform")}),
    )
    assert plan.returncode == 0, plan.output[-4000:]
