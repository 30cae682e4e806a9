"""The emulator's data across restarts: a snapshot of moto's backends, saved as the stack stops.

moto keeps every resource and every piece of data in Python objects in this
process (its "backends"). Stopping the stack pickles all of them, with the
stand-in malware scanner's plans and what the stack itself must remember (the
demo user's password, the Pipe runner's position in the stream), into
`<state dir>/snapshot/`. The next start loads them back before anything else
runs, in about a second instead of a Terraform apply of a minute and more.

A snapshot is used only if it is what Terraform built from the current inputs:

- its emulator key must match: moto's and Python's versions, the local stack's
  own code (tests/devstack) and the emulator's endpoint (queue URLs carry the
  port). Otherwise the pickle may not load as it was written: start empty.
- its infrastructure key must match too: every file of environments/local and
  modules/ and the data contract Terraform reads. Otherwise the snapshot is
  loaded and Terraform applies on top of it, changing only what changed, and
  the data stays.

The snapshot holds the users' passwords and the files' bytes: owner-only, in the
git-ignored state directory. Loading a pickle runs code named in it, so a
snapshot is loaded only from a file this user owns and no one else can write.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import importlib
import json
import logging
import os
import pickle  # nosec B403 - our own snapshot, written owner-only by this stack (see above)
import stat
import sys
import threading
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import moto
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from moto.core.base_backend import BackendDict
from moto.ssm.models import ParameterDict

from tests.devstack import definitions as d
from tests.devstack import malware_scan
from tests.devstack.stack_state import write_owner_only

log = logging.getLogger("devstack")

# Terraform's inputs for environments/local: its root, the modules it calls and
# the data contract the modules read with file().
INFRASTRUCTURE_INPUTS = (
    d.LOCAL_ROOT,
    d.REPO_ROOT / "modules",
    d.REPO_ROOT / "services" / "contract" / "upload_contract" / "contract.json",
)
# The code that builds and shapes the emulator's state.
EMULATOR_CODE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class SnapshotKey:
    emulator: str
    infrastructure: str


@dataclass(frozen=True)
class Kept:
    """What the stack remembers beside moto's backends."""

    demo_password: str
    # The Pipe runner's checkpoint in this stream: shard id -> the last sequence number
    # it delivered of that shard.
    stream_arn: str
    pipe_position: dict[str, str] | None


@dataclass(frozen=True)
class Restored:
    kept: Kept
    # False: the infrastructure changed since the snapshot; Terraform must apply.
    infrastructure_matches: bool


def snapshot_dir(state_dir: Path) -> Path:
    return state_dir / "snapshot"


def _digest(paths: list[Path], extra: list[str]) -> str:
    digest = hashlib.sha256()
    for value in extra:
        digest.update(value.encode() + b"\0")
    for path in sorted(paths):
        digest.update(str(path).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if root.is_file():
        return [root]
    return [
        path
        for path in root.rglob("*")
        if path.is_file() and path.name.endswith(suffixes) and ".terraform" not in path.parts
    ]


def snapshot_key(moto_endpoint: str, variables: list[str]) -> SnapshotKey:
    """The emulator's and the infrastructure's inputs; `variables`: the apply's -var values
    that change with the stack's ports (the web app's origins)."""
    infrastructure = [
        path
        for root in INFRASTRUCTURE_INPUTS
        for path in _files(root, (".tf", ".tftpl", ".json", ".tfvars", ".hcl"))
    ]
    return SnapshotKey(
        emulator=_digest(
            _files(EMULATOR_CODE, (".py",)),
            [moto.__version__, sys.version, moto_endpoint, d.ACCOUNT_ID],
        ),
        infrastructure=_digest(infrastructure, variables),
    )


# ---------------------------------------------------------------- pickling moto
# A few of moto's objects do not pickle as they are: locks, cryptography's keys,
# weak dictionaries and dictionaries whose default factory is a lambda.
_LOCK_TYPES = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}
_PRIVATE_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


def _private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, None)


def _weak_value_dictionary(items: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(items)


def _factory_like(factory: Any) -> Any:
    """A picklable factory that makes what the lambda `factory` makes (empty containers)."""
    sample = factory()
    if type(sample) in (dict, list) and not sample:
        return type(sample)
    if (
        type(sample) is collections.defaultdict
        and not sample
        and not _is_lambda(sample.default_factory)
    ):
        return functools.partial(collections.defaultdict, sample.default_factory)
    raise TypeError(f"no picklable stand-in for the default factory of {sample!r}")


def _defaultdict(factory: Any, items: dict[Any, Any]) -> collections.defaultdict[Any, Any]:
    result: collections.defaultdict[Any, Any] = collections.defaultdict(factory)
    result.update(items)
    return result


def _parameter_dict(factory: Any) -> ParameterDict:
    result = ParameterDict.__new__(ParameterDict)
    result.default_factory = factory
    return result


class _MotoPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _LOCK_TYPES:
            return (_LOCK_TYPES[kind], ())
        if isinstance(obj, _PRIVATE_KEYS):
            pem = obj.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return (_private_key, (pem,))
        if isinstance(obj, weakref.WeakValueDictionary):
            return (_weak_value_dictionary, (dict(obj),))
        if kind is ParameterDict:  # SSM's parameters: a defaultdict with a lambda and attributes
            return (_parameter_dict, (_factory_like(obj.default_factory),), obj.__dict__, None,
                    iter(obj.items()))  # fmt: skip
        if isinstance(obj, collections.defaultdict) and _is_lambda(obj.default_factory):
            return (_defaultdict, (_factory_like(obj.default_factory), dict(obj)))
        return NotImplemented


def _is_lambda(factory: Any) -> bool:
    return factory is not None and "<lambda>" in getattr(factory, "__qualname__", "")


def _backend_dicts() -> dict[str, BackendDict[Any]]:
    """Every BackendDict with data, by the module attribute that holds it (module.name)."""
    found: dict[int, str] = {}
    dicts: dict[str, BackendDict[Any]] = {}
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("moto.") or module is None:
            continue
        for name, value in list(vars(module).items()):
            if isinstance(value, BackendDict) and value and id(value) not in found:
                found[id(value)] = f"{module_name}.{name}"
                dicts[found[id(value)]] = value
    return dicts


# ---------------------------------------------------------------- save and restore
def save(state_dir: Path, key: SnapshotKey, kept: Kept) -> Path:
    """Pickle every backend with data and `kept`; returns the snapshot's directory."""
    directory = snapshot_dir(state_dir)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    pickled = directory / "emulator.pickle"
    unfinished = pickled.with_suffix(".partial")
    discard(state_dir)  # no snapshot at all rather than a mismatched one if this fails
    fd = os.open(unfinished, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            _MotoPickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump(
                {"backends": _backend_dicts(), "malware_plans": dict(malware_scan._plans)}
            )
    except BaseException:
        unfinished.unlink(missing_ok=True)
        raise
    unfinished.replace(pickled)
    write_owner_only(directory / "snapshot.json", {"key": asdict(key), "kept": asdict(kept)})
    return directory


def restore(state_dir: Path, key: SnapshotKey) -> Restored | None:
    """Load the snapshot into this process's moto, if it fits `key`; None: start empty."""
    directory = snapshot_dir(state_dir)
    try:
        described = json.loads((directory / "snapshot.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if described["key"]["emulator"] != key.emulator:
        log.info(
            "saved data in %s is from other emulator code, moto, Python or port: starting empty",
            directory,
        )
        return None
    try:
        with (directory / "emulator.pickle").open("rb") as handle:
            if not _written_by_this_user(handle.fileno()):
                log.warning(
                    "saved data in %s is not this user's own owner-only file: not loaded "
                    "(loading a pickle runs code); starting empty",
                    directory,
                )
                return None
            # Checked above: written by this user's own save(), owner-only.
            saved = pickle.load(handle)  # noqa: S301  # nosec B301
    except Exception:  # a truncated or unreadable file: as if there were none
        log.exception("saved data in %s does not load: starting empty", directory)
        return None
    _install(saved)
    return Restored(
        kept=Kept(**described["kept"]),
        infrastructure_matches=described["key"]["infrastructure"] == key.infrastructure,
    )


def _written_by_this_user(fd: int) -> bool:
    """The open file is this user's and no one else can write it (a state directory in a
    shared place, say /tmp, must not let another user plant code for us to load)."""
    status = os.fstat(fd)
    return status.st_uid == os.getuid() and not status.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _install(saved: dict[str, Any]) -> None:
    """Put the loaded backends in the place of this process's."""
    for path, backends in saved["backends"].items():
        module_name, name = path.rsplit(".", 1)
        live = getattr(importlib.import_module(module_name), name)
        live.clear()
        live.update(backends)
    malware_scan._plans.clear()
    malware_scan._plans.update(saved["malware_plans"])


def discard(state_dir: Path) -> None:
    """Forget the snapshot: the next start applies Terraform into an empty emulator."""
    for name in ("snapshot.json", "emulator.pickle", "emulator.partial"):
        (snapshot_dir(state_dir) / name).unlink(missing_ok=True)
