"""Inline suppressions in project files: checkov skips and other tools' ignores.

Pure Python (no scanner calls) so `make scan` and the tests share one
definition of "a suppression" and of "a reason a reviewer can judge".
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# checkov honours three prefixes (checkov, bridgecrew, cortex) before
# ":skip=", spaces after "=", comma-separated ids and an optional ":reason", in
# any file its frameworks read (the secrets framework reads every file). Same
# pattern as checkov's own COMMENT_REGEX.
CHECKOV_SKIP = re.compile(
    r"(?:checkov|bridgecrew|cortex):skip= *(?P<ids>[A-Za-z_\d-]+(?:,[A-Za-z_\d-]+)*)?"
    r"(?::(?P<reason>[^\n]*))?"
)
# Other scanners' in-source suppressions: tool name -> pattern; text after the
# match is the reason.
OTHER_SUPPRESSIONS = {
    "zizmor": re.compile(r"#\s*zizmor:\s*ignore\[(?P<ids>[^\]]*)\]"),
    "bandit": re.compile(r"#\s*nosec\b(?P<ids>(?:\s+[A-Z]\d{3}(?:\s*,\s*[A-Z]\d{3})*)?)"),
    "hadolint": re.compile(r"#\s*hadolint\s+ignore=(?P<ids>[A-Z]{2}\d+(?:,[A-Z]{2}\d+)*)"),
    "detect-secrets": re.compile(
        r"(?:#|//)\s*pragma:\s*allowlist[ -](?P<ids>secret|nextline secret)"
    ),
}
TRIVIAL = {"todo", "tbd", "n/a", "na", "none", "skip", "skipped", "ignore", "false positive",
           "not needed", "not applicable", "wip", "later", "fixme"}  # fmt: skip
MIN_WORDS = 4
MIN_CHARS = 20
_COMMENT = re.compile(r"^\s*(#|//)")
_REASON_TRIM = " \t-:.#/()"


def is_acceptable_reason(reason: str | None) -> bool:
    """At least a short sentence, not a placeholder."""
    text = (reason or "").strip().strip("-:.").strip()
    return len(text) >= MIN_CHARS and len(text.split()) >= MIN_WORDS and text.lower() not in TRIVIAL


@dataclass(frozen=True)
class Suppression:
    tool: str  # "checkov" or the other tool's name
    ids: str
    file: str
    line: int
    reason: str  # text after the marker, or the comment directly above


def _comment_above(lines: list[str], index: int) -> str:
    """The contiguous comment lines directly above line `index` (0-based), joined."""
    block: list[str] = []
    for line in reversed(lines[:index]):
        if not _COMMENT.match(line):
            break
        block.insert(0, _COMMENT.sub("", line).strip())
    return " ".join(block)


def _trailing(line: str, end: int) -> str:
    """Text after a marker, up to the next marker-less comment separator."""
    text = line[end:]
    for pattern in OTHER_SUPPRESSIONS.values():
        text = pattern.sub(" ", text)
    text = re.sub(r"#\s*noqa(:\s*[A-Z]+\d+(\s*,\s*[A-Z]+\d+)*)?", " ", text)
    return re.sub(r"\s+", " ", text.replace("#", " ")).strip(_REASON_TRIM)


def find_suppressions(text: str, file: str) -> list[Suppression]:
    """Every checkov skip and other-tool suppression in a file's text."""
    found: list[Suppression] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        for skip in CHECKOV_SKIP.finditer(line):
            reason = (skip["reason"] or "").strip()
            found.append(Suppression("checkov", skip["ids"] or "", file, index + 1, reason))
        for tool, pattern in OTHER_SUPPRESSIONS.items():
            other = pattern.search(line)
            if other is None:
                continue
            reason = _trailing(line, other.end())
            if not is_acceptable_reason(reason):
                above = _comment_above(lines, index)
                reason = above if is_acceptable_reason(above) else reason
            found.append(Suppression(tool, other["ids"].strip(), file, index + 1, reason))
    return found


def project_files(root: Path) -> list[str]:
    """Files a commit would contain: tracked plus untracked-but-not-ignored."""
    git = shutil.which("git")
    if git is None:
        raise FileNotFoundError("git is required to list the project's files")
    out = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return sorted({f for f in out.split("\0") if f and (root / f).is_file()})


def project_suppressions(root: Path) -> list[Suppression]:
    found: list[Suppression] = []
    for rel in project_files(root):
        try:
            text = (root / rel).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary: no comments to read
        found += find_suppressions(text, rel)
    return found
