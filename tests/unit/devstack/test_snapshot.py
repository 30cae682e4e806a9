"""The emulator's data saved and restored (tests.devstack.snapshot), against a real moto server,
and when a snapshot is used, applied on, or ignored."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from tests.devstack import malware_scan, snapshot
from tests.devstack import stack as stack_module
from tests.devstack.demo_user import demo_password
from tests.devstack.stack import DevStack
from tests.support.aws import server_client

# Generated: the snapshot keeps whatever the demo user's password is.
PASSWORD = demo_password()
KEPT = snapshot.Kept(
    demo_password=PASSWORD, stream_arn="arn:stream", pipe_position={"shardId-1": "42"}
)
WEB = ["-var=web_api_url=http://127.0.0.1:8000", "-var=web_origin=http://127.0.0.1:8080"]
KEY = snapshot.SnapshotKey(emulator="e", infrastructure="i")


def reset(endpoint: str) -> None:
    httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()
    malware_scan._plans.clear()


def test_every_kind_of_data_survives_a_save_and_restore(endpoint: str, tmp_path: Path) -> None:
    reset(endpoint)
    s3, dynamodb, kms = (server_client(endpoint, s) for s in ("s3", "dynamodb", "kms"))
    cognito, ssm, sqs = (server_client(endpoint, s) for s in ("cognito-idp", "ssm", "sqs"))
    s3.create_bucket(Bucket="files")
    s3.put_object(Bucket="files", Key="big", Body=b"x" * (3 * 1024 * 1024))
    dynamodb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="items", Item={"id": {"S": "a"}})
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    ciphertext = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    signing_key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]
    pool = cognito.create_user_pool(PoolName="users")["UserPool"]["Id"]
    app = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool, Username="u", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool, Username="u", Password=PASSWORD, Permanent=True
    )
    ssm.put_parameter(Name="/p", Value="v", Type="String")
    queue = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="m")
    malware_scan._plans[("123456789012", "us-east-1")] = {}

    saved = snapshot.save(tmp_path, KEY, KEPT)
    reset(endpoint)
    assert s3.list_buckets()["Buckets"] == []
    restored = snapshot.restore(tmp_path, KEY)

    assert restored == snapshot.Restored(kept=KEPT, infrastructure_matches=True)
    assert s3.get_object(Bucket="files", Key="big")["Body"].read() == b"x" * (3 * 1024 * 1024)
    assert dynamodb.get_item(TableName="items", Key={"id": {"S": "a"}})["Item"]["id"]["S"] == "a"
    assert kms.decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"secret"
    signature = kms.sign(
        KeyId=signing_key["KeyId"],
        Message=b"m",
        SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256",
    )["Signature"]
    assert kms.verify(
        KeyId=signing_key["KeyId"],
        Message=b"m",
        Signature=signature,
        SigningAlgorithm="RSASSA_PKCS1_V1_5_SHA_256",
    )["SignatureValid"]
    signed_in = cognito.initiate_auth(
        ClientId=app,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "u", "PASSWORD": PASSWORD},
    )
    assert signed_in["AuthenticationResult"]["IdToken"]
    assert ssm.get_parameter(Name="/p")["Parameter"]["Value"] == "v"
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "m"
    assert ("123456789012", "us-east-1") in malware_scan._plans
    # Passwords and file bytes are in there: owner-only.
    assert stat.S_IMODE(saved.stat().st_mode) == 0o700
    for path in saved.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_snapshot_of_other_emulator_code_is_not_loaded(endpoint: str, tmp_path: Path) -> None:
    reset(endpoint)
    server_client(endpoint, "s3").create_bucket(Bucket="before")
    snapshot.save(tmp_path, KEY, KEPT)
    other = snapshot.SnapshotKey(emulator="another moto", infrastructure=KEY.infrastructure)
    assert snapshot.restore(tmp_path, other) is None


def test_a_snapshot_of_other_terraform_inputs_is_loaded_for_an_apply_on_top(
    endpoint: str, tmp_path: Path
) -> None:
    reset(endpoint)
    snapshot.save(tmp_path, KEY, KEPT)
    changed = snapshot.SnapshotKey(emulator=KEY.emulator, infrastructure="edited module")
    restored = snapshot.restore(tmp_path, changed)
    assert restored is not None
    assert not restored.infrastructure_matches


def test_no_snapshot_or_an_unreadable_one_starts_empty(endpoint: str, tmp_path: Path) -> None:
    assert snapshot.restore(tmp_path, KEY) is None
    snapshot.save(tmp_path, KEY, KEPT)
    (snapshot.snapshot_dir(tmp_path) / "emulator.pickle").write_bytes(b"truncated")
    assert snapshot.restore(tmp_path, KEY) is None
    snapshot.discard(tmp_path)
    assert list(snapshot.snapshot_dir(tmp_path).iterdir()) == []


def test_a_snapshot_others_could_have_written_is_not_loaded(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading a pickle runs code: never one another user planted (a state dir in /tmp)."""
    snapshot.save(tmp_path, KEY, KEPT)
    pickled = snapshot.snapshot_dir(tmp_path) / "emulator.pickle"
    pickled.chmod(0o666)
    assert snapshot.restore(tmp_path, KEY) is None
    pickled.chmod(0o600)
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)
    assert snapshot.restore(tmp_path, KEY) is None
    monkeypatch.undo()
    assert snapshot.restore(tmp_path, KEY) is not None


def test_a_failed_save_leaves_no_snapshot(
    endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot.save(tmp_path, KEY, KEPT)
    monkeypatch.setitem(malware_scan._plans, ("a", "b"), lambda: None)  # cannot be pickled
    with pytest.raises(Exception, match="pickle"):
        snapshot.save(tmp_path, KEY, KEPT)
    assert list(snapshot.snapshot_dir(tmp_path).iterdir()) == []


# ---------------------------------------------------------------- the key


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    files = {
        "module": tmp_path / "modules" / "m" / "main.tf",
        "readme": tmp_path / "modules" / "m" / "README.md",
        "provider cache": tmp_path / "modules" / "m" / ".terraform" / "x.json",
        "contract": tmp_path / "contract.json",
        "code": tmp_path / "devstack" / "emulator.py",
    }
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("1")
    monkeypatch.setattr(
        snapshot, "INFRASTRUCTURE_INPUTS", (tmp_path / "modules", files["contract"])
    )
    monkeypatch.setattr(snapshot, "EMULATOR_CODE", tmp_path / "devstack")
    return files


@pytest.mark.parametrize(
    ("edited", "changes"),
    [
        ("module", "infrastructure"),
        ("contract", "infrastructure"),
        ("code", "emulator"),
        ("readme", None),
        ("provider cache", None),
    ],
)
def test_the_key_changes_with_what_shapes_the_emulator(
    inputs: dict[str, Path], edited: str, changes: str | None
) -> None:
    before = snapshot.snapshot_key("http://127.0.0.1:5000", WEB)
    inputs[edited].write_text("2")
    after = snapshot.snapshot_key("http://127.0.0.1:5000", WEB)
    for part in ("emulator", "infrastructure"):
        assert (getattr(before, part) != getattr(after, part)) == (part == changes), part


def test_the_key_changes_with_the_endpoint(inputs: dict[str, Path]) -> None:
    assert (
        snapshot.snapshot_key("http://127.0.0.1:5000", WEB).emulator
        != snapshot.snapshot_key("http://127.0.0.1:5001", WEB).emulator
    )


def test_the_infrastructure_key_changes_with_the_web_origins(inputs: dict[str, Path]) -> None:
    # The CSP and the CORS rules name them: a stack on other ports must apply again.
    moved = ["-var=web_api_url=http://127.0.0.1:8000", "-var=web_origin=http://127.0.0.1:9090"]
    before = snapshot.snapshot_key("http://127.0.0.1:5000", WEB)
    after = snapshot.snapshot_key("http://127.0.0.1:5000", moved)
    assert before.infrastructure != after.infrastructure
    assert before.emulator == after.emulator


# ---------------------------------------------------------------- restore, apply, or both


@pytest.mark.parametrize(
    ("fresh", "keep_data", "saved", "restored", "apply"),
    [
        (False, True, "same inputs", True, None),
        (False, True, "other terraform inputs", True, "on the restored state"),
        (False, True, "other emulator", False, "from empty"),
        (False, True, None, False, "from empty"),
        (True, True, "same inputs", False, "from empty"),
        (False, False, "same inputs", False, "from empty"),
    ],
)
def test_a_start_restores_applies_or_both(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    fresh: bool,
    keep_data: bool,
    saved: str | None,
    restored: bool,
    apply: str | None,
) -> None:
    key = snapshot.SnapshotKey(emulator="e", infrastructure="i")
    monkeypatch.setattr(snapshot, "snapshot_key", lambda endpoint, variables: key)
    loaded: list[str] = []
    monkeypatch.setattr(snapshot, "_backend_dicts", dict)  # this test is about the decision
    monkeypatch.setattr(snapshot, "_install", lambda saved_state: loaded.append("loaded"))
    if saved is not None:
        snapshot.save(tmp_path, _saved_key(saved, key), KEPT)
    applies: list[bool] = []
    monkeypatch.setattr(
        stack_module,
        "apply_local_environment",
        lambda endpoint, state_dir, *, web, keep_state: applies.append(keep_state),
    )
    devstack = DevStack(state_dir=tmp_path, fresh=fresh, keep_data=keep_data)

    devstack._restore_or_apply()

    assert bool(loaded) == restored == (devstack.restored is not None)
    expected = {None: [], "on the restored state": [True], "from empty": [False]}[apply]
    assert applies == expected
    # A snapshot stays only while the Terraform state is the one it was saved with.
    assert (snapshot.snapshot_dir(tmp_path) / "snapshot.json").exists() == (apply is None)


def _saved_key(saved: str, key: snapshot.SnapshotKey) -> snapshot.SnapshotKey:
    return {
        "same inputs": key,
        "other terraform inputs": snapshot.SnapshotKey(key.emulator, "older"),
        "other emulator": snapshot.SnapshotKey("older", key.infrastructure),
    }[saved]


def test_the_kept_data_is_described_beside_the_pickle(tmp_path: Path) -> None:
    saved = snapshot.save(tmp_path, KEY, KEPT)
    described = json.loads((saved / "snapshot.json").read_text())
    assert described == {
        "key": {"emulator": "e", "infrastructure": "i"},
        "kept": {
            "demo_password": PASSWORD,
            "stream_arn": "arn:stream",
            "pipe_position": {"shardId-1": "42"},
        },
    }
