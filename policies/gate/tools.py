"""Where the scanners live and how to run them offline.

Scanners pin libraries that clash with the application's (see the Makefile),
so each runs as a program from its own virtualenv, never imported.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
POLICIES_DIR = REPO_ROOT / "policies"
# Our checkov checks. Never POLICIES_DIR itself: checkov imports every .py file of a
# package under the directory it is given, and would run the gate's own modules.
CHECK_DIRS = (POLICIES_DIR / "python", POLICIES_DIR / "yaml")
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


CHECKOV_CONFIG = Path(__file__).resolve().parent / "checkov.yaml"
# Prefixes of variables checkov reads as settings (CKV_SKIP_CHECK, CKV_CHECK,
# CKV_FRAMEWORK, BC_API_KEY, PRISMA_API_URL, ...).
_CHECKOV_SETTING_PREFIXES = ("CKV_", "BC_", "PRISMA_")
_CHECKOV_CONFIG_NAMES = (".checkov.yaml", ".checkov.yml")


def offline_env() -> dict[str, str]:
    return {**os.environ, **OFFLINE_ENV}


@cache
def _empty_home() -> str:
    home = tempfile.mkdtemp(prefix="checkov-home-")
    # checkov may leave caches there; one per gate process, so remove it at exit.
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    return home


def checkov_env() -> dict[str, str]:
    """offline_env without the caller's checkov settings and with an empty HOME.

    checkov merges ~/.checkov.yaml even when --config-file is given (a home
    `soft-fail: true` or `skip-check` would change the gate's verdict).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CHECKOV_SETTING_PREFIXES)}
    return {**env, **OFFLINE_ENV, "HOME": _empty_home()}


def stray_checkov_configs(directories: list[Path]) -> list[Path]:
    """checkov config files checkov would merge from the working or scanned directories."""
    return [d / n for d in directories for n in _CHECKOV_CONFIG_NAMES if (d / n).is_file()]


def checkov_config_args(scanned: list[Path]) -> list[str]:
    """`--config-file <repo config>`; raises when it is missing or another config would merge.

    checkov silently ignores a --config-file that does not exist.
    """
    if not CHECKOV_CONFIG.is_file():
        raise FileNotFoundError(f"{CHECKOV_CONFIG.relative_to(REPO_ROOT)} is missing")
    stray = stray_checkov_configs([REPO_ROOT, *scanned])
    if stray:
        names = ", ".join(str(p.relative_to(REPO_ROOT)) for p in stray)
        raise FileNotFoundError(f"remove {names}: checkov would merge it into the gate's settings")
    return ["--config-file", str(CHECKOV_CONFIG)]


def tool(venv: Path, name: str) -> Path:
    """Path of a console script in a venv; raises with an actionable message if absent."""
    path = venv / "bin" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path.relative_to(REPO_ROOT)} is missing: {INSTALL_HINT}")
    return path


def checkov() -> Path:
    return tool(CHECKOV_VENV, "checkov")


def external_checks_args() -> list[str]:
    """`--external-checks-dir` for each folder of our checks."""
    return [arg for folder in CHECK_DIRS for arg in ("--external-checks-dir", str(folder))]
