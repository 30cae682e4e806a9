"""The local stack runs the upload API with the process settings its image sets."""

import re
from pathlib import Path

from tests.devstack.definitions import REPO_ROOT, UPLOAD_API_IMAGE_ENV


def image_env(dockerfile: Path) -> dict[str, str]:
    text = dockerfile.read_text(encoding="utf-8").replace("\\\n", " ")
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            pairs.update(re.findall(r"(\w+)=(\S+)", line))
    return pairs


def test_the_local_stack_sets_what_the_image_sets() -> None:
    env = image_env(REPO_ROOT / "services" / "upload_api" / "Dockerfile")
    assert UPLOAD_API_IMAGE_ENV
    assert {name: env.get(name) for name in UPLOAD_API_IMAGE_ENV} == UPLOAD_API_IMAGE_ENV
