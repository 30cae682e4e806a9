"""Operator commands against the local stack."""

from __future__ import annotations

import hashlib

import httpx
from ops.erase_user import erase_user

from devstack import definitions as d
from devstack.guide_user import guide_sign_in
from devstack.stack import published_parameters, stack_client
from tests.e2e.conftest import RunningStack
from tests.e2e.test_flow import upload, wait_final


def test_erase_user_removes_every_file_and_pending_upload_of_that_user_only(
    stack: RunningStack, api: httpx.Client
) -> None:
    keep = upload(api, "keep.txt", b"someone else's")
    with stack.api(guide_sign_in(stack.state, "erase-me@example.com")) as user:
        files = [upload(user, f"mine-{n}.txt", b"mine %d" % n) for n in range(3)]
        for created in files:
            wait_final(user, created["file_id"])
        data = b"never finished"
        pending = user.post(
            "/uploads",
            json={
                "file_name": "pending.bin",
                "size_bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            },
        ).json()
        sub = files[0]["s3_path"].split("/")[4]
        state = stack.state
        removed = erase_user(
            sub,
            stack_client(state, "s3"),
            stack_client(state, "dynamodb"),
            published_parameters(stack_client(state, "ssm"), d.PARAMETER_PATH),
        )

        assert sorted(line.split()[-2] for line in removed) == sorted(
            [f["file_id"] for f in files] + [pending["file_id"]]
        )
        for created in files:
            assert user.get(f"/uploads/{created['file_id']}").status_code == 404
        assert user.get(f"/uploads/{pending['file_id']}/parts").status_code == 404
    listing = stack.client("s3").list_object_versions(
        Bucket=stack.state.bucket, Prefix=f"uploads/{sub}/"
    )
    assert listing.get("Versions", []) == []
    assert listing.get("DeleteMarkers", []) == []
    assert api.get(f"/uploads/{keep['file_id']}").status_code == 200
