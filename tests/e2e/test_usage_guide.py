"""The original usage guide, step by step, on the local stack.

Sign-in as the guide does it (temporary password, NEW_PASSWORD_REQUIRED,
admin-respond-to-auth-challenge), then its curl, verbatim, in bash, with a
multi-line file Base64-encoded by the system's `base64` (GNU: wrapped at 76).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess  # nosec B404 - runs bash with the guide's own commands
from pathlib import Path

import httpx

from tests.devstack.guide_user import guide_sign_in
from tests.e2e.conftest import RunningStack
from tests.e2e.test_flow import wait_final

# The guide's step 3, character for character, but for API_ENDPOINT and the
# token, which the environment provides.
GUIDE_SCRIPT = r"""
set -euo pipefail
BASE64_CONTENT=$(base64 -i my-test-file.txt)
curl -X POST "${API_ENDPOINT}/upload" \
  -H "Authorization: ${ID_TOKEN}" \
  -H "Content-Type: application/json" \
  -d '{
    "file_name": "my-test-file.txt",
    "comment": "This is a test file.",
    "file_data": "'"${BASE64_CONTENT}"'"
  }'
"""


def test_the_guide_works_as_written(stack: RunningStack, tmp_path: Path) -> None:
    bash, base64_tool = shutil.which("bash"), shutil.which("base64")
    assert bash, "the guide runs in bash"
    assert base64_tool, "the guide encodes with base64"
    assert shutil.which("curl"), "the guide uploads with curl"
    token = guide_sign_in(stack.state, "guide-reader@example.com")
    text = "".join(f"line {n}: the quick brown fox jumps over the lazy dog\n" for n in range(200))
    (tmp_path / "my-test-file.txt").write_text(text, encoding="utf-8")
    printed = subprocess.run(  # noqa: S603  # nosec B603 - fixed argv, no shell
        [base64_tool, "my-test-file.txt"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert "\n" in printed.strip(), "this base64 does not wrap: nothing would test the wrapping"
    answer = subprocess.run(  # noqa: S603  # nosec B603 - fixed argv; the script is a constant
        [bash, "-c", GUIDE_SCRIPT],
        cwd=tmp_path,
        env={**os.environ, "API_ENDPOINT": stack.state.api_url, "ID_TOKEN": token},
        capture_output=True,
        text=True,
        check=True,
    )
    created = json.loads(answer.stdout)
    assert created["message"] == "File uploaded successfully."
    assert created["s3_path"].startswith(f"s3://{stack.state.bucket}/uploads/")
    with httpx.Client(base_url=stack.state.api_url, headers={"Authorization": token}) as api:
        final = wait_final(api, created["file_id"])
    assert final["status"] == "PROCESSED", final
    assert final["size_bytes"] == len(text.encode())
