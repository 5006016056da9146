"""``shouwang backup`` and ``shouwang restore``, run as separate processes on their own var folders.

A small registry is built with ``shouwang migrate`` and ``shouwang demo`` in a temporary var
folder (its data key generated into ``var/keys/data.key``, as on a county's machine), backed
up, and restored into fresh folders; a separate process then reads every household and member
back. ID and phone numbers open only with the source's key, supplied as ``SHOUWANG_DATA_KEY``.
The PostgreSQL tests run when ``DATABASE_URL`` names a PostgreSQL server (CI sets it): they
create and drop their own source and target databases beside the test database.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import dj_database_url
import pytest

from tests.cli.processes import environment_on as _environment
from tests.cli.processes import shouwang as _shouwang

READOUT_SCRIPT = Path(__file__).with_name("registry_readout.py")
DEMO_HOUSEHOLDS = 40
ATTACHMENT = "cases/1/visit-record.pdf"
ATTACHMENT_BYTES = b"%PDF-1.4 signed visit record\n"
PENDING_UPLOAD = "imports/7-pending.csv"
ARCHIVE_PARTS = ["manifest.json", "database.sqlite3", "media.tar", "feeds.tar"]
#: Another valid key: base64 of 32 bytes that are not the source's key.
OTHER_KEY = base64.b64encode(b"another-installation-key-32bytes").decode()


def _readout(environment: dict[str, str]) -> dict:
    completed = subprocess.run(
        [sys.executable, str(READOUT_SCRIPT)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"registry readout failed:\n{completed.stderr}")
    return json.loads(completed.stdout)


def _without_secrets(readout: dict) -> dict:
    """The readout with the decrypted digests blanked: what anyone holding the archive sees."""
    return {
        **readout,
        "households": [{**h, "phone": None} for h in readout["households"]],
        "members": [{**m, "id_number": None} for m in readout["members"]],
    }


def _members_of(archive_bytes: bytes, part: str) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(archive_bytes), mode="r:gz") as outer:
        inner = outer.extractfile(part).read()
    with tarfile.open(fileobj=io.BytesIO(inner)) as tar:
        return sorted(m.name for m in tar.getmembers() if m.isfile())


@dataclass(frozen=True)
class Source:
    var_dir: Path
    environment: dict[str, str]
    data_key: str
    archive: Path
    backup_output: str
    readout: dict


def _source_build(var_dir: Path, archive: Path, database_url: str | None = None) -> Source:
    environment = _environment(var_dir, database_url=database_url)
    _shouwang("migrate", "--no-input", "-v0", environment=environment)
    _shouwang("demo", "--households", str(DEMO_HOUSEHOLDS), environment=environment)
    # An installation one migration behind: the restore must bring it forward.
    _shouwang("migrate", "sessions", "zero", "--no-input", "-v0", environment=environment)
    media = var_dir / "media"
    (media / ATTACHMENT).parent.mkdir(parents=True)
    (media / ATTACHMENT).write_bytes(ATTACHMENT_BYTES)
    # Uploads waiting for their job hold numbers in clear: never in a backup.
    (media / PENDING_UPLOAD).parent.mkdir(parents=True)
    (media / PENDING_UPLOAD).write_text("pending upload\n")
    (var_dir / "feeds" / "uploads").mkdir(parents=True, exist_ok=True)
    (var_dir / "feeds" / "uploads" / "pending.csv").write_text("pending upload\n")
    backup = _shouwang("backup", str(archive), environment=environment)
    data_key = (var_dir / "keys" / "data.key").read_text().strip()
    return Source(
        var_dir=var_dir,
        environment=environment,
        data_key=data_key,
        archive=archive,
        backup_output=backup.stdout,
        readout=_readout(environment),
    )


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory) -> Source:
    base = tmp_path_factory.mktemp("backup-sqlite")
    return _source_build(base / "var", base / "shouwang-backup.tar.gz")


# --- the archive ---------------------------------------------------------------------------


def test_backup_holds_database_media_feeds_and_a_manifest_but_no_key(sqlite_source):
    archive = sqlite_source.archive
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert "备份不含数据密钥" in sqlite_source.backup_output
    assert "另行妥善保管" in sqlite_source.backup_output

    raw = archive.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
        assert tar.getnames() == ARCHIVE_PARTS
        manifest = json.loads(tar.extractfile("manifest.json").read())
        digests = {
            name: hashlib.sha256(tar.extractfile(name).read()).hexdigest()
            for name in ARCHIVE_PARTS[1:]
        }

    assert manifest["shouwang_version"] == metadata.version("shouwang")
    assert dt.datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    assert manifest["database_vendor"] == "sqlite"
    readout = sqlite_source.readout
    assert manifest["counts"] == {
        "households": len(readout["households"]),
        "members": len(readout["members"]),
    }
    assert manifest["counts"]["households"] == DEMO_HOUSEHOLDS
    assert "0001_initial" in manifest["migrations"]["registry"]
    assert "sessions" not in manifest["migrations"]
    assert {e["file"]: e["sha256"] for e in manifest["parts"].values()} == digests
    assert manifest["parts"]["media"]["files"] == 1

    assert _members_of(raw, "media.tar") == [ATTACHMENT]
    feed_files = _members_of(raw, "feeds.tar")
    assert feed_files and all(not name.startswith("uploads/") for name in feed_files)
    assert manifest["parts"]["feeds"]["files"] == len(feed_files)

    # Neither key, in any form, anywhere in the archive.
    content = gzip.decompress(raw)
    secret_key = (sqlite_source.var_dir / "secret_key").read_text().strip()
    for secret in (
        sqlite_source.data_key.encode(),
        base64.b64decode(sqlite_source.data_key),
        secret_key.encode(),
    ):
        assert secret not in content


def test_backup_refuses_to_overwrite_a_file(sqlite_source):
    completed = _shouwang(
        "backup",
        str(sqlite_source.archive),
        environment=sqlite_source.environment,
        expect_success=False,
    )
    assert completed.returncode != 0
    assert "文件已存在" in completed.stderr


# --- restoring -----------------------------------------------------------------------------


def test_restore_into_a_fresh_folder_reads_every_household_and_member(sqlite_source, tmp_path):
    target = tmp_path / "var"
    environment = _environment(target, data_key=sqlite_source.data_key)

    completed = _shouwang("restore", str(sqlite_source.archive), environment=environment)

    assert "不符" not in completed.stdout
    assert completed.stdout.count("一致") >= 4
    assert "sessions.0001_initial" in completed.stdout  # the older backup brought forward
    assert "能解密" in completed.stdout
    readout = _readout(environment)
    assert readout == sqlite_source.readout | {"pending_migrations": []}
    assert readout["households"] and readout["members"]
    assert all(m["id_number"] != "undecryptable" for m in readout["members"])
    # The staged feeds moved with the folder, and their batches point at them.
    assert readout["staged_batches"] > 0
    assert readout["staged_files_present"] == readout["staged_batches"]
    assert (target / "media" / ATTACHMENT).read_bytes() == ATTACHMENT_BYTES
    assert not (target / "media" / PENDING_UPLOAD).exists()
    assert not (target / "feeds" / "uploads").exists()
    assert stat.S_IMODE((target / "shouwang.sqlite3").stat().st_mode) == 0o600
    assert not [p for p in target.iterdir() if p.name.startswith(".shouwang-restore-")]


def test_id_numbers_open_only_with_the_backed_up_key(sqlite_source, tmp_path):
    target = tmp_path / "var"
    other = _environment(target, data_key=OTHER_KEY)

    completed = _shouwang(
        "restore", str(sqlite_source.archive), environment=other, expect_success=False
    )

    # The data is restored, but the command says the configured key does not fit.
    assert completed.returncode != 0
    assert "无法解密" in completed.stderr
    with_other_key = _readout(other)
    assert all(m["id_number"] == "undecryptable" for m in with_other_key["members"])
    assert all(h["phone"] in ("undecryptable", "") for h in with_other_key["households"])
    assert _without_secrets(with_other_key) == _without_secrets(
        sqlite_source.readout | {"pending_migrations": []}
    )
    with_right_key = _readout(_environment(target, data_key=sqlite_source.data_key))
    assert with_right_key["members"] == sqlite_source.readout["members"]
    assert with_right_key["households"] == sqlite_source.readout["households"]


def test_restore_without_a_key_warns_and_generates_none(sqlite_source, tmp_path):
    target = tmp_path / "var"

    completed = _shouwang("restore", str(sqlite_source.archive), environment=_environment(target))

    assert "未找到数据密钥" in completed.stdout
    assert not (target / "keys").exists()


def test_restore_refuses_a_target_with_data_unless_forced(sqlite_source, tmp_path):
    environment = _environment(tmp_path / "var", data_key=sqlite_source.data_key)
    _shouwang("restore", str(sqlite_source.archive), environment=environment)

    again = _shouwang(
        "restore", str(sqlite_source.archive), environment=environment, expect_success=False
    )
    assert again.returncode != 0
    assert "目标已有数据" in again.stderr and "--force" in again.stderr

    forced = _shouwang("restore", str(sqlite_source.archive), "--force", environment=environment)
    assert "不符" not in forced.stdout
    assert _readout(environment)["members"] == sqlite_source.readout["members"]


def _archive_with_one_byte_changed(archive: Path, target: Path) -> None:
    with tarfile.open(archive, mode="r:gz") as source, tarfile.open(target, "w:gz") as copy:
        for member in source.getmembers():
            data = bytearray(source.extractfile(member).read())
            if member.name == "database.sqlite3":
                data[len(data) // 2] ^= 0xFF
            copy.addfile(member, io.BytesIO(bytes(data)))


def test_restore_refuses_an_altered_cut_or_foreign_file_and_writes_nothing(sqlite_source, tmp_path):
    altered = tmp_path / "altered.tar.gz"
    _archive_with_one_byte_changed(sqlite_source.archive, altered)
    foreign = tmp_path / "foreign.tar.gz"
    foreign.write_bytes(b"not an archive")
    truncated = tmp_path / "truncated.tar.gz"
    whole = sqlite_source.archive.read_bytes()
    truncated.write_bytes(whole[: len(whole) // 2])
    target = tmp_path / "var"
    environment = _environment(target, data_key=sqlite_source.data_key)

    refused = _shouwang("restore", str(altered), environment=environment, expect_success=False)
    not_ours = _shouwang("restore", str(foreign), environment=environment, expect_success=False)
    cut = _shouwang("restore", str(truncated), environment=environment, expect_success=False)

    assert refused.returncode != 0 and not_ours.returncode != 0 and cut.returncode != 0
    assert "SHA-256 与清单不符" in refused.stderr
    assert "不是守望的备份文件" in not_ours.stderr
    assert "已损坏" in cut.stderr
    database = target / "shouwang.sqlite3"
    if database.exists():
        with sqlite3.connect(database) as check:
            assert check.execute("SELECT COUNT(*) FROM sqlite_master").fetchone() == (0,)
    assert not (target / "media").exists()
    assert not [p for p in target.iterdir() if p.name.startswith(".shouwang-restore-")]


# --- PostgreSQL ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresServer:
    url: str

    def database_url(self, name: str) -> str:
        config = dj_database_url.parse(self.url)
        credentials = config["USER"] or ""
        if config.get("PASSWORD"):
            credentials += f":{config['PASSWORD']}"
        host = f"{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}"
        return f"postgres://{credentials}@{host}/{name}"

    def _admin(self, statement: str) -> None:
        import psycopg

        config = dj_database_url.parse(self.url)
        with psycopg.connect(
            host=config["HOST"] or "127.0.0.1",
            port=config["PORT"] or 5432,
            user=config["USER"] or None,
            password=config.get("PASSWORD") or None,
            dbname="postgres",
            autocommit=True,
        ) as admin:
            admin.execute(statement)

    def create(self, name: str) -> None:
        self._admin(f'CREATE DATABASE "{name}"')

    def drop(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def postgres_server() -> PostgresServer:
    url = os.environ.get("DATABASE_URL", "")
    if not url or dj_database_url.parse(url)["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("DATABASE_URL does not name a PostgreSQL server")
    return PostgresServer(url)


def _database_name(role: str) -> str:
    return f"shouwang_backup_{role}_{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def postgres_source(postgres_server, tmp_path_factory) -> Iterator[Source]:
    name = _database_name("source")
    postgres_server.create(name)
    base = tmp_path_factory.mktemp("backup-postgres")
    try:
        yield _source_build(
            base / "var", base / "shouwang-backup.tar.gz", postgres_server.database_url(name)
        )
    finally:
        postgres_server.drop(name)


@pytest.fixture
def postgres_target(postgres_server) -> Iterator[str]:
    name = _database_name("target")
    postgres_server.create(name)
    try:
        yield postgres_server.database_url(name)
    finally:
        postgres_server.drop(name)


def test_postgresql_backup_restores_into_another_database(
    postgres_source, postgres_target, tmp_path
):
    with tarfile.open(postgres_source.archive, mode="r:gz") as tar:
        assert tar.getnames() == ["manifest.json", "database.pgdump", "media.tar", "feeds.tar"]
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["database_vendor"] == "postgresql"
    assert manifest["counts"]["households"] == DEMO_HOUSEHOLDS
    target = tmp_path / "var"
    environment = _environment(
        target, data_key=postgres_source.data_key, database_url=postgres_target
    )

    completed = _shouwang("restore", str(postgres_source.archive), environment=environment)

    assert "不符" not in completed.stdout
    assert "sessions.0001_initial" in completed.stdout
    readout = _readout(environment)
    assert readout == postgres_source.readout | {"pending_migrations": []}
    assert readout["staged_files_present"] == readout["staged_batches"] > 0
    assert (target / "media" / ATTACHMENT).read_bytes() == ATTACHMENT_BYTES
    with_other_key = _readout(
        _environment(target, data_key=OTHER_KEY, database_url=postgres_target)
    )
    assert all(m["id_number"] == "undecryptable" for m in with_other_key["members"])


def test_a_sqlite_backup_is_refused_on_postgresql(sqlite_source, postgres_target, tmp_path):
    environment = _environment(
        tmp_path / "var", data_key=sqlite_source.data_key, database_url=postgres_target
    )

    completed = _shouwang(
        "restore", str(sqlite_source.archive), environment=environment, expect_success=False
    )

    assert completed.returncode != 0
    assert "不能跨数据库恢复" in completed.stderr
