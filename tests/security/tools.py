"""Where the scanners live and how to run them offline.

Scanners pin libraries that clash with the application's (see the Makefile),
so each runs as a program from its own virtualenv, never imported.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICIES_DIR = REPO_ROOT / "policies"
CHECKOV_VENV = REPO_ROOT / ".venv-checkov"
SAM_VENV = REPO_ROOT / ".venv-sam"
APP_VENV = REPO_ROOT / ".venv"

INSTALL_HINT = "run `make install` to create it from uv.lock"

# Without these, checkov and the SAM CLI reach for the network on every run
# (policy metadata download, version check, telemetry, instance metadata).
OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "SAM_CLI_TELEMETRY": "0",
    "AWS_EC2_METADATA_DISABLED": "true",
    "PYTHONWARNINGS": "ignore",
}


def offline_env() -> dict[str, str]:
    return {**os.environ, **OFFLINE_ENV}


def tool(venv: Path, name: str) -> Path:
    """Path of a console script in a venv; raises with an actionable message if absent."""
    path = venv / "bin" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path.relative_to(REPO_ROOT)} is missing: {INSTALL_HINT}")
    return path


def checkov() -> Path:
    return tool(CHECKOV_VENV, "checkov")
