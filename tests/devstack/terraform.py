"""Terraform as the project runs it: offline from a provider mirror when there is one.

    python -m tests.devstack.terraform config  # write the CLI configuration, print its path
    python -m tests.devstack.terraform check   # fmt -check, init + terraform test or validate, docs
    python -m tests.devstack.terraform docs    # rewrite each module README's inputs/outputs tables
    python -m tests.devstack.terraform lock    # add this machine's provider checksums to root locks

The CLI configuration is the project's own (`.terraform.d/cli.tfrc`, git-ignored):

- With a filesystem mirror of hashicorp/aws, `init` installs the provider from
  it (linked, not copied) and every other provider from the registry. The
  mirror is `$TF_PROVIDER_MIRROR`, or the first folder holding
  `registry.terraform.io/hashicorp/aws` among Terraform's own implied mirror
  locations and the usual install roots.
- Without one, `init` uses the registry; if that is unreachable too, this
  stops with a message saying how to point at a mirror.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess  # nosec B404 - runs the terraform binary only, with our own arguments
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.devstack.definitions import REPO_ROOT

CLI_CONFIG_FILE = REPO_ROOT / ".terraform.d" / "cli.tfrc"
MIRROR_VARIABLE = "TF_PROVIDER_MIRROR"
AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
REGISTRY_HOST = "registry.terraform.io"
# Terraform's implied local mirror directories (Unix), then common install roots.
_SEARCH_ROOTS = (
    Path.home() / ".terraform.d" / "plugins",
    Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    / "terraform"
    / "plugins",
    *(
        Path(d) / "terraform" / "plugins"
        for d in os.environ.get("XDG_DATA_DIRS", "/usr/local/share:/usr/share").split(":")
        if d
    ),
    Path("/opt"),
    Path("/usr/local/share"),
    Path("/usr/share"),
)
ROOTS = ("bootstrap", "dev", "stage", "prod", "local")
LOCK_FILE = ".terraform.lock.hcl"
# The platforms whose checksums a lock made from the registry records: CI's
# runners and the machines people plan from.
LOCK_PLATFORMS = ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64")


class TerraformError(RuntimeError):
    pass


def _holds_aws_provider(folder: Path) -> bool:
    return any((folder / AWS_PROVIDER).glob("*/*_*"))


def find_mirror() -> Path | None:
    """The provider mirror to use, or None when there is none on this machine."""
    explicit = os.environ.get(MIRROR_VARIABLE)
    if explicit:
        folder = Path(explicit).expanduser()
        if not _holds_aws_provider(folder):
            raise TerraformError(
                f"{MIRROR_VARIABLE}={explicit} holds no {AWS_PROVIDER}/<version>/<os_arch>/"
            )
        return folder.resolve()
    for root in _SEARCH_ROOTS:
        # The root itself, or one level below it (e.g. /opt/<vendor>/registry.terraform.io).
        candidates: list[Path] = [root, *(sorted(root.iterdir()) if root.is_dir() else [])]
        for folder in candidates:
            if folder.is_dir() and _holds_aws_provider(folder):
                return folder.resolve()
    return None


def _registry_reachable(timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((REGISTRY_HOST, 443), timeout=timeout):
            return True
    except OSError:
        return False


def cli_config(mirror: Path | None) -> str:
    if mirror is None:
        # One download per provider release for every root and module (make validate).
        cache = CLI_CONFIG_FILE.parent / "plugin-cache"
        cache.mkdir(parents=True, exist_ok=True)
        return (
            "# No provider mirror on this machine: providers come from the registry.\n"
            f'plugin_cache_dir = "{cache}"\n'
        )
    return f"""# Written by tests/devstack/terraform.py: hashicorp/aws from the mirror, others from
# the registry.
provider_installation {{
  filesystem_mirror {{
    path    = "{mirror}"
    include = ["{AWS_PROVIDER}"]
  }}
  direct {{
    exclude = ["{AWS_PROVIDER}"]
  }}
}}
"""


def write_cli_config(path: Path = CLI_CONFIG_FILE) -> Path:
    mirror = find_mirror()
    if mirror is None and not _registry_reachable():
        raise TerraformError(
            f"no provider mirror found and {REGISTRY_HOST} is unreachable: set "
            f"{MIRROR_VARIABLE} to a folder holding {AWS_PROVIDER}/<version>/<os_arch>/"
        )
    text = cli_config(mirror)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(write_cli_config()),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",  # no version check over the network
        }
    )
    env.update(extra or {})
    return env


def terraform_binary() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        raise TerraformError("terraform (>= 1.10) is required and was not found on PATH")
    return binary


@dataclass(frozen=True)
class Result:
    directory: Path
    step: str
    returncode: int
    output: str
    seconds: float


def command(args: Sequence[str], directory: Path) -> list[str]:
    """The argv of `terraform <args>` run in `directory`."""
    return [terraform_binary(), f"-chdir={directory}", *args, "-no-color"]


def run(
    args: Sequence[str],
    directory: Path,
    *,
    env: dict[str, str] | None = None,
    step: str = "",
) -> Result:
    started = time.perf_counter()
    process = subprocess.run(  # noqa: S603  # nosec B603 - terraform with our own arguments
        command(args, directory),
        env=env or environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    return Result(
        directory,
        step or args[0],
        process.returncode,
        process.stdout + process.stderr,
        time.perf_counter() - started,
    )


def configurations() -> list[Path]:
    """Every root and module, in a stable order."""
    roots = [REPO_ROOT / "environments" / name for name in ROOTS]
    modules = sorted(p for p in (REPO_ROOT / "modules").iterdir() if (p / "main.tf").is_file())
    return roots + modules


def _check_one(directory: Path, env: dict[str, str], *, locked: bool) -> list[Result]:
    """init (-lockfile=readonly when `locked`: a root), then terraform test where the
    configuration has tests (each run's plan validates the whole configuration first),
    else validate."""
    init = ["init", "-backend=false", "-input=false"]
    if locked:
        # The committed lock decides the provider build: a mirror (or registry)
        # package whose checksum it does not list fails here, as it would on CI.
        if not (directory / LOCK_FILE).is_file():
            missing = f"{LOCK_FILE} is missing: run make providers-lock and commit it"
            return [Result(directory, "lock", 1, missing, 0.0)]
        init.append("-lockfile=readonly")
    results = [run(init, directory, env=env)]
    if results[-1].returncode != 0:
        return results
    # validate beside test would load the AWS provider's schema (about 4 s) once more.
    step = ["test"] if (directory / "tests").is_dir() else ["validate"]
    results.append(run(step, directory, env=env))
    return results


def check() -> int:
    """fmt -check, then init and terraform test (or validate) of every configuration."""
    env = environment()
    fmt = run(["fmt", "-check", "-recursive", "-diff"], REPO_ROOT, env=env, step="fmt -check")
    failed = [fmt] if fmt.returncode else []
    # The first configuration alone: it fills the plugin cache (not safe for
    # concurrent writers) before the others run in parallel.
    first, *others = configurations()
    roots = REPO_ROOT / "environments"
    print(f"terraform: init and test or validate of {1 + len(others)} configurations", flush=True)

    def check_and_show(directory: Path) -> list[Result]:
        results = _check_one(directory, env, locked=directory.parent == roots)
        for result in results:  # as each configuration finishes: the gate shows progress
            name = result.directory.relative_to(REPO_ROOT)
            status = "ok" if result.returncode == 0 else "failed <<<"
            print(f"  {result.step:<9} {name!s:<26} {status} ({result.seconds:.1f} s)", flush=True)
        return results

    outcomes = [check_and_show(first)]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        outcomes += list(pool.map(check_and_show, others))
    failed += [result for results in outcomes for result in results if result.returncode]
    for result in failed:
        print(f"\n--- {result.step} in {result.directory.relative_to(REPO_ROOT) or '.'}:")
        print(result.output.strip())
    count = sum(len(r) for r in outcomes)
    print(f"terraform: {count} steps and fmt -check, {len(failed)} failed")
    stale = docs(write=False)
    for readme in stale:
        print(f"{readme.relative_to(REPO_ROOT)}: inputs/outputs tables are stale: make docs")
    return 1 if failed or stale else 0


def lock() -> int:
    """Add the provider checksums of this machine's source (mirror or registry) to each root's lock.

    Terraform refuses checksums that contradict the lock's, so a mirror holding
    another build than the registry's fails here instead of changing the lock.
    """
    env = environment()
    mirror = find_mirror()
    if mirror is None:
        source = [f"-platform={platform}" for platform in LOCK_PLATFORMS]
    else:
        platforms = sorted({p.name for p in (mirror / AWS_PROVIDER).glob("*/*_*")})
        source = [f"-fs-mirror={mirror}", *(f"-platform={p}" for p in platforms)]
    failed = 0
    for name in ROOTS:
        directory = REPO_ROOT / "environments" / name
        # providers lock needs the root's modules installed.
        result = run(["init", "-backend=false", "-input=false"], directory, env=env)
        if result.returncode == 0:
            result = run(["providers", "lock", *source], directory, env=env)
        print(
            f"  providers lock environments/{name}: {'ok' if result.returncode == 0 else 'failed'}"
        )
        if result.returncode:
            print(result.output.strip())
            failed += 1
    return 1 if failed else 0


# ------------------------------------------------------------ module READMEs

DOCS_BEGIN, DOCS_END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"


def _unquote(value: Any) -> str:
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _hcl_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(_hcl_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_unquote(k)} = {_hcl_value(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if value is None:
        return "null"
    text = str(value)
    return text if text.startswith('"') or not isinstance(value, str) else f'"{text}"'


def module_docs(module: Path) -> str:
    """The terraform-docs-style tables of one module, from its .tf files."""
    import hcl2

    blocks: dict[str, list[Any]] = {}
    for tf in sorted(module.glob("*.tf")):
        with tf.open(encoding="utf-8") as handle:
            for key, found in hcl2.load(handle).items():
                blocks.setdefault(key, []).extend(found)
    versions: dict[str, Any] = next(iter(blocks.get("terraform", [])), {})
    aws = versions.get("required_providers", [{}])[0].get("aws", {})
    lines = [
        "## Requirements",
        "",
        "| Name | Version |",
        "|------|---------|",
        f"| terraform | {_unquote(versions.get('required_version', ''))} |",
        f"| aws | {_unquote(aws.get('version', ''))} |",
        "",
        "## Resources",
        "",
        "| Name | Type |",
        "|------|------|",
    ]
    for kind, label in (("resource", "resource"), ("data", "data source")):
        for entry in blocks.get(kind, []):
            for rtype, named in entry.items():
                for name in named:
                    prefix = "data." if kind == "data" else ""
                    lines.append(f"| {prefix}{_unquote(rtype)}.{_unquote(name)} | {label} |")
    variables = [
        (_unquote(name), conf)
        for entry in blocks.get("variable", [])
        for name, conf in entry.items()
    ]
    variables.sort(key=lambda item: ("default" in item[1], item[0]))
    lines += [
        "",
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for name, conf in variables:
        default = f"`{_hcl_value(conf['default'])}`" if "default" in conf else "n/a"
        required = "no" if "default" in conf else "yes"
        kind = _unquote(conf.get("type", "any")).replace("|", "\\|")
        description = _unquote(conf.get("description", "")).replace("|", "\\|")
        lines.append(f"| {name} | {description} | `{kind}` | {default} | {required} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    for entry in blocks.get("output", []):
        for name, conf in entry.items():
            lines.append(f"| {_unquote(name)} | {_unquote(conf.get('description', ''))} |")
    return "\n".join(lines)


def docs(*, write: bool) -> list[Path]:
    """Module READMEs whose tables differ from their .tf files (rewritten when `write`)."""
    stale = []
    for module in sorted(p for p in (REPO_ROOT / "modules").iterdir() if (p / "main.tf").is_file()):
        readme = module / "README.md"
        text = readme.read_text(encoding="utf-8")
        start, end = text.index(DOCS_BEGIN) + len(DOCS_BEGIN), text.index(DOCS_END)
        updated = f"{text[:start]}\n{module_docs(module)}\n{text[end:]}"
        if updated != text:
            stale.append(readme)
            if write:
                readme.write_text(updated, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.devstack.terraform", description=__doc__)
    parser.add_argument("command", choices=["config", "check", "docs", "lock"])
    args = parser.parse_args(argv)
    try:
        if args.command == "config":
            print(write_cli_config())
            return 0
        if args.command == "docs":
            for readme in docs(write=True):
                print(f"updated {readme.relative_to(REPO_ROOT)}")
            return 0
        if args.command == "lock":
            return lock()
        return check()
    except TerraformError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
