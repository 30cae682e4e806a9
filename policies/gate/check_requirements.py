"""Fail when a service's requirements.txt no longer matches uv.lock (run `make requirements`)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"upload-api": "services/upload_api", "processor": "services/processor"}


def exported(group: str) -> str:
    uv = shutil.which("uv") or str(ROOT / ".venv-bootstrap/bin/uv")
    command = [
        uv, "export", "--frozen", "--quiet", "--no-default-groups",
        "--only-group", group, "--no-emit-project", "--no-header",
    ]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout  # noqa: S603


def committed(path: Path) -> str:
    # The committed file carries uv's header comment; compare the requirements only.
    lines = path.read_text().splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return "".join(lines)


def main() -> int:
    stale = [
        directory
        for group, directory in SERVICES.items()
        if committed(ROOT / directory / "requirements.txt") != exported(group)
    ]
    for directory in stale:
        print(f"{directory}/requirements.txt is out of date with uv.lock: run `make requirements`")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
