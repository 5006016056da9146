"""Backing up one installation into one archive, and restoring it; never with the keys.

The archive is a gzip-compressed tar, written with mode 0600, holding in this order:

``manifest.json``
    format, Shouwang version, creation time, database vendor, the Django migrations applied per
    app, household and member counts, the cipher and blind-index settings, the staged-feeds
    folder, and the size and SHA-256 of each part below.
``database.sqlite3`` (SQLite)
    a copy made with SQLite's online backup API in one step: one read transaction, so the copy
    is consistent while the server and the worker keep writing.
``database.pgdump`` (PostgreSQL)
    ``pg_dump --format=custom`` under a snapshot exported from the transaction that read the
    manifest's counts and migrations, so manifest and dump describe the same moment.
``media.tar``
    ``MEDIA_ROOT`` (case attachments) without ``imports/``: registry uploads waiting for
    their job hold ID and phone numbers in clear, and are deleted once the job has run.
``feeds.tar``
    the staged department feeds (Parquet with blind indexes, rejects with masked IDs) without
    ``uploads/``, for the same reason.

Neither the personal-data key (``var/keys/data.key`` or ``SHOUWANG_DATA_KEY``) nor the Django
secret key is ever written: without the data key the ciphertexts in the archive are unreadable,
which is the point of keeping the two apart.

A restore goes into the configured database and var folder. It reads the manifest first and
refuses before writing anything: another vendor, a backup with migrations this version does not
know, a target that already holds data (unless forced), then any part whose SHA-256 differs.
Then it restores the database (the backup API for SQLite, ``pg_restore`` for PostgreSQL),
replaces media and staged feeds, runs ``migrate``, points staged batches at the new feeds
folder, and counts what it finds.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from shouwang.core import crypto
from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import AuditEvent, Division, User
from shouwang.registry.io.services import UPLOAD_DIR as REGISTRY_UPLOAD_DIR
from shouwang.registry.models import Household, Member
from shouwang.screening.feeds.services import UPLOAD_DIR as FEED_UPLOAD_DIR
from shouwang.screening.models import FeedBatch

#: Version of the archive layout; a restore refuses layouts it does not know.
ARCHIVE_FORMAT = 1
MANIFEST_NAME = "manifest.json"
DATABASE_PART_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
MEDIA_PART_NAME = "media.tar"
FEEDS_PART_NAME = "feeds.tar"
VENDOR_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
#: gzip level of the archive: on the demo district's database, 6 took 1.2 s for 19 MB and 9
#: took 4.2 s for 18 MB.
ARCHIVE_COMPRESS_LEVEL = 6
COPY_CHUNK_BYTES = 1024 * 1024
#: What the manifest counts, and what the restore compares.
COUNTED_MODELS: dict[str, type[Model]] = {"households": Household, "members": Member}
#: Rows that mean "this database is in use": a fresh ``migrate`` leaves these tables empty.
GUARDED_MODELS: dict[str, type[Model]] = {
    "users": User,
    "divisions": Division,
    "households": Household,
    "members": Member,
    "audit_events": AuditEvent,
}

#: ``report(step, done, total)``: progress of one step; ``total`` None while unknown.
Report = Callable[[str, int, int | None], None]


def _no_report(step: str, done: int, total: int | None) -> None:
    return None


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    seconds: float
    manifest: dict[str, Any]


@dataclass(frozen=True)
class KeyCheck:
    """Whether the configured data key opens the restored ciphertexts.

    ``status`` is "matches", "missing" (no key configured: nothing was generated either),
    "wrong" (it does not decrypt), "blind_index" (it decrypts but the blind-index setting
    differs from the backup's) or "unchecked" (no member to try it on).
    """

    status: str
    location: str


@dataclass(frozen=True)
class RestoreResult:
    manifest: dict[str, Any]
    counts: dict[str, int]
    media_files: int
    feed_files: int
    migrations_applied: list[str]
    feed_batches_moved: int
    key: KeyCheck
    seconds: float


# --- labels shared by both commands ----------------------------------------------------------


def count_labels() -> dict[str, str]:
    return {"households": _("农户（户）"), "members": _("家庭成员（人）")}


def key_location() -> str:
    """Where this installation's data key comes from, for messages."""
    if settings.SHOUWANG_DATA_KEY:
        return _("环境变量 SHOUWANG_DATA_KEY")
    return str(settings.SHOUWANG_DATA_KEY_FILE)


# --- backup ----------------------------------------------------------------------------------


def backup_write(*, path: Path | str, report: Report = _no_report) -> BackupResult:
    """Write the archive to ``path`` (refused if it exists). A failed backup leaves nothing:
    the parts are staged in a private temporary folder beside ``path`` and the archive is
    renamed into place only when complete."""
    started = time.monotonic()
    path = Path(path).absolute()
    vendor = connection.vendor
    _backup_refusals(path, vendor)
    media_root = Path(settings.MEDIA_ROOT)
    feeds_dir = Path(settings.SHOUWANG_FEEDS_DIR)
    staging = Path(tempfile.mkdtemp(prefix=".shouwang-backup-", dir=path.parent))
    partial = path.with_name(f".{path.name}.partial")
    try:
        database_part = staging / DATABASE_PART_NAMES[vendor]
        step = _("复制数据库")
        report(step, 0, None)
        if vendor == "sqlite":
            migrations, counts = _sqlite_copy(database_part)
        else:
            migrations, counts = _postgresql_dump(database_part)
        report(step, 1, 1)
        media_files = _folder_pack(
            media_root,
            staging / MEDIA_PART_NAME,
            excluded=(REGISTRY_UPLOAD_DIR,),
            step=_("打包附件"),
            report=report,
        )
        feed_files = _folder_pack(
            feeds_dir,
            staging / FEEDS_PART_NAME,
            excluded=(FEED_UPLOAD_DIR,),
            step=_("打包部门数据暂存文件"),
            report=report,
        )
        parts = {
            "database": _part_entry(database_part),
            "media": {**_part_entry(staging / MEDIA_PART_NAME), "files": media_files},
            "feeds": {**_part_entry(staging / FEEDS_PART_NAME), "files": feed_files},
        }
        manifest = {
            "format": ARCHIVE_FORMAT,
            "shouwang_version": _shouwang_version(),
            "created_at": timezone.localtime().isoformat(timespec="seconds"),
            "database_vendor": vendor,
            "migrations": migrations,
            "counts": counts,
            "cipher": settings.SHOUWANG_CIPHER,
            "blind_index": settings.SHOUWANG_BLIND_INDEX,
            "feeds_dir": str(feeds_dir),
            "parts": parts,
            "not_included": ["data key", "Django secret key", "pending uploads"],
        }
        partial.unlink(missing_ok=True)  # left by a backup that was killed
        _archive_write(partial, staging, manifest, report)
        os.replace(partial, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        partial.unlink(missing_ok=True)
    return BackupResult(
        path=path,
        bytes=path.stat().st_size,
        seconds=time.monotonic() - started,
        manifest=manifest,
    )


def _backup_refusals(path: Path, vendor: str) -> None:
    if vendor not in DATABASE_PART_NAMES:
        raise ApplicationError(
            _("不支持备份 %(vendor)s 数据库（只支持 SQLite 和 PostgreSQL）") % {"vendor": vendor}
        )
    if path.exists():
        raise ApplicationError(
            _("文件已存在：%(file)s；请换一个文件名，或先移走原来的文件") % {"file": path}
        )
    if not path.parent.is_dir():
        raise ApplicationError(_("目录不存在：%(dir)s") % {"dir": path.parent})
    for folder in (Path(settings.MEDIA_ROOT), Path(settings.SHOUWANG_FEEDS_DIR)):
        if path.is_relative_to(folder.absolute()):
            raise ApplicationError(_("备份文件不能放在要备份的目录 %(dir)s 里面") % {"dir": folder})
    tables = set(connection.introspection.table_names())
    if "django_migrations" not in tables or Household._meta.db_table not in tables:
        raise ApplicationError(_("数据库尚未初始化，没有可备份的内容（先运行 shouwang migrate）"))


def _shouwang_version() -> str:
    try:
        return metadata.version("shouwang")
    except metadata.PackageNotFoundError:
        return "unknown"


def _database_facts(cursor: Any) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Applied migrations per app (in the order applied) and the counted rows, read through
    ``cursor`` (sqlite3's or Django's: plain SQL, no parameters)."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, id")
    migrations: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        migrations.setdefault(app, []).append(name)
    counts: dict[str, int] = {}
    for key, model in COUNTED_MODELS.items():
        cursor.execute(f'SELECT COUNT(*) FROM "{model._meta.db_table}"')
        counts[key] = int(cursor.fetchone()[0])
    return migrations, counts


def _private_file_create(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_copy(target: Path) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Copy the live database with the online backup API; read the manifest's facts from the
    copy, so they describe exactly what is archived."""
    source_path = Path(settings.DATABASES["default"]["NAME"])
    _private_file_create(target)
    source = sqlite3.connect(source_path, timeout=30)
    try:
        copy = sqlite3.connect(target)
        try:
            # One step (pages=-1): one read transaction, so writers never restart the copy and
            # the copy is the database as it was at one moment.
            source.backup(copy, pages=-1)
            # The live database runs in WAL mode; the copy becomes one self-contained file.
            copy.execute("PRAGMA journal_mode=DELETE")
            return _database_facts(copy.cursor())
        finally:
            copy.close()
    finally:
        source.close()


def _postgresql_environment() -> dict[str, str]:
    """libpq variables for pg_dump/pg_restore: the password never appears on a command line."""
    database = settings.DATABASES["default"]
    environment = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if database.get(key):
            environment[variable] = str(database[key])
    sslmode = (database.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        environment["PGSSLMODE"] = str(sslmode)
    return environment


def _postgresql_tool(arguments: list[str]) -> None:
    program = arguments[0]
    try:
        completed = subprocess.run(
            arguments,
            env=_postgresql_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise ApplicationError(
            _("找不到 %(program)s：请安装 PostgreSQL 客户端（postgresql-client）")
            % {"program": program}
        ) from None
    if completed.returncode != 0:
        raise ApplicationError(
            _("%(program)s 失败：%(error)s")
            % {"program": program, "error": completed.stderr.strip()[-2000:]}
        )


def _postgresql_dump(target: Path) -> tuple[dict[str, list[str]], dict[str, int]]:
    """pg_dump in the snapshot of the transaction that reads the manifest's facts."""
    _private_file_create(target)
    database_name = str(settings.DATABASES["default"]["NAME"])
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            facts = _database_facts(cursor)
        # The snapshot lives as long as this transaction: pg_dump runs inside it.
        _postgresql_tool(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--dbname={database_name}",
                f"--file={target}",
            ]
        )
    return facts


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """No local user or group names in the archive, and owner-only modes."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o700 if info.isdir() else 0o600
    return info


def _folder_pack(
    root: Path, target: Path, *, excluded: tuple[str, ...], step: str, report: Report
) -> int:
    """An uncompressed tar of ``root``'s regular files (the archive is compressed as a whole),
    without the top-level folders in ``excluded`` and without symbolic links."""
    files: list[Path] = []
    if root.is_dir():
        for directory, subdirectories, names in os.walk(root):
            here = Path(directory)
            if here == root:
                subdirectories[:] = [d for d in subdirectories if d not in excluded]
            subdirectories.sort()
            for name in sorted(names):
                file = here / name
                if file.is_file() and not file.is_symlink():
                    files.append(file)
    _private_file_create(target)
    packed = 0
    with tarfile.open(target, mode="w", format=tarfile.PAX_FORMAT) as tar:
        report(step, 0, len(files))
        for number, file in enumerate(files, start=1):
            try:
                tar.add(
                    file, arcname=str(file.relative_to(root)), recursive=False, filter=_anonymous
                )
                packed += 1
            except FileNotFoundError:  # removed meanwhile (a finished upload, a deleted batch)
                pass
            report(step, number, len(files))
    return packed


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _part_entry(path: Path) -> dict[str, Any]:
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": _sha256(path)}


class _ReportingReader:
    """A file read by tarfile, reporting the bytes read so far."""

    def __init__(self, handle: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._handle = handle
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._on_read(len(data))
        return data


def _archive_write(target: Path, staging: Path, manifest: dict[str, Any], report: Report) -> None:
    parts = [entry["file"] for entry in manifest["parts"].values()]
    total = sum(entry["bytes"] for entry in manifest["parts"].values())
    step = _("写入备份文件")
    written = 0

    def on_read(count: int) -> None:
        nonlocal written
        written += count
        report(step, written, total)

    report(step, 0, total)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as raw:
        with tarfile.open(
            fileobj=raw,
            mode="w:gz",
            compresslevel=ARCHIVE_COMPRESS_LEVEL,
            format=tarfile.PAX_FORMAT,
        ) as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(_anonymous(info), io.BytesIO(data))
            for name in parts:
                file = staging / name
                info = _anonymous(tar.gettarinfo(file, arcname=name))
                with file.open("rb") as handle:
                    tar.addfile(info, _ReportingReader(handle, on_read))
        raw.flush()
        os.fsync(raw.fileno())


# --- restore ---------------------------------------------------------------------------------


#: What a damaged or foreign file raises while it is read (truncated gzip: EOFError; bad CRC:
#: BadGzipFile); other OSErrors (a full disk) are not the file's fault and are not hidden.
_ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


def manifest_read(path: Path | str) -> dict[str, Any]:
    """The manifest, the archive's first member; only the start of the file is decompressed."""
    path = Path(path)
    if not path.is_file():
        raise ApplicationError(_("找不到备份文件：%(file)s") % {"file": path})
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            member = tar.next()
            if member is None or member.name != MANIFEST_NAME or not member.isfile():
                raise ApplicationError(_not_an_archive(path))
            handle = tar.extractfile(member)
            assert handle is not None
            manifest = json.loads(handle.read().decode())
    except (*_ARCHIVE_ERRORS, UnicodeDecodeError, ValueError):
        raise ApplicationError(_not_an_archive(path)) from None
    if not isinstance(manifest, dict):
        raise ApplicationError(_not_an_archive(path))
    if manifest.get("format") != ARCHIVE_FORMAT:
        raise ApplicationError(
            _("备份文件的格式版本（%(format)s）不是本版本守望能恢复的（%(known)d）")
            % {"format": manifest.get("format"), "known": ARCHIVE_FORMAT}
        )
    if not _manifest_parts_valid(manifest):
        raise ApplicationError(_not_an_archive(path))
    return manifest


def _manifest_parts_valid(manifest: dict[str, Any]) -> bool:
    """The three parts, under the names this layout uses, each with a size and a SHA-256."""
    parts = manifest.get("parts")
    names = {
        "database": DATABASE_PART_NAMES.get(manifest.get("database_vendor", "")),
        "media": MEDIA_PART_NAME,
        "feeds": FEEDS_PART_NAME,
    }
    if not isinstance(parts, dict) or set(parts) != set(names):
        return False
    for key, name in names.items():
        entry = parts[key]
        if not isinstance(entry, dict) or entry.get("file") != name:
            return False
        if not isinstance(entry.get("bytes"), int) or not isinstance(entry.get("sha256"), str):
            return False
    return isinstance(manifest.get("migrations"), dict) and isinstance(manifest.get("counts"), dict)


def _not_an_archive(path: Path) -> str:
    return _("%(file)s 不是守望的备份文件，或已损坏") % {"file": path.name}


def restore_run(*, path: Path | str, force: bool, report: Report = _no_report) -> RestoreResult:
    """Restore the archive at ``path`` into the configured database and var folder."""
    started = time.monotonic()
    path = Path(path)
    manifest = manifest_read(path)
    vendor = connection.vendor
    _check_vendor(manifest, vendor)
    _check_migrations_known(manifest)
    if not force:
        _check_target_empty()
    var_dir = Path(settings.VAR_DIR)
    var_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".shouwang-restore-", dir=var_dir))
    try:
        _archive_unpack(path, manifest, staging, report)
        media_files = _folder_unpack(staging, MEDIA_PART_NAME, staging / "media")
        feed_files = _folder_unpack(staging, FEEDS_PART_NAME, staging / "feeds")

        step = _("恢复数据库")
        report(step, 0, None)
        database_part = staging / manifest["parts"]["database"]["file"]
        if vendor == "sqlite":
            _sqlite_restore(database_part)
        else:
            _postgresql_restore(database_part)
        report(step, 1, 1)

        step = _("恢复附件和部门数据暂存文件")
        report(step, 0, 2)
        _folder_replace(staging / "media", Path(settings.MEDIA_ROOT))
        report(step, 1, 2)
        _folder_replace(staging / "feeds", Path(settings.SHOUWANG_FEEDS_DIR))
        report(step, 2, 2)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    step = _("升级数据库结构")
    report(step, 0, None)
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    call_command("migrate", interactive=False, verbosity=0)
    report(step, 1, 1)

    moved = _feed_paths_move(manifest.get("feeds_dir", ""), Path(settings.SHOUWANG_FEEDS_DIR))
    counts = {key: model.objects.count() for key, model in COUNTED_MODELS.items()}
    return RestoreResult(
        manifest=manifest,
        counts=counts,
        media_files=media_files,
        feed_files=feed_files,
        migrations_applied=[f"{m.app_label}.{m.name}" for m, _backwards in plan],
        feed_batches_moved=moved,
        key=_key_check(),
        seconds=time.monotonic() - started,
    )


def _check_vendor(manifest: dict[str, Any], vendor: str) -> None:
    backed_up = manifest.get("database_vendor")
    if backed_up == vendor:
        return
    raise ApplicationError(
        _(
            "这是 %(backup)s 数据库的备份，当前配置的是 %(target)s 数据库：不能跨数据库恢复。"
            "请恢复到同类数据库（SQLite 备份：不设置 DATABASE_URL；PostgreSQL 备份：DATABASE_URL 指向 PostgreSQL）"
        )
        % {
            "backup": VENDOR_LABELS.get(backed_up, str(backed_up)),
            "target": VENDOR_LABELS.get(vendor, vendor),
        }
    )


def _check_migrations_known(manifest: dict[str, Any]) -> None:
    """A backup from a newer Shouwang has migrations this one lacks: its tables would not match
    the code, so restoring it is refused (install the newer version first)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, names in manifest.get("migrations", {}).items()
        if app in loader.migrated_apps
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise ApplicationError(
            _(
                "备份来自更新版本的守望（%(version)s），含本版本没有的数据库迁移：%(names)s。"
                "请先升级守望再恢复"
            )
            % {"version": manifest.get("shouwang_version", "?"), "names": "、".join(unknown[:10])}
        )


def _has_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


def _check_target_empty() -> None:
    labels = {
        "users": _("用户"),
        "divisions": _("区划"),
        "households": _("农户"),
        "members": _("家庭成员"),
        "audit_events": _("审计记录"),
    }
    held: list[str] = []
    tables = set(connection.introspection.table_names())
    for key, model in GUARDED_MODELS.items():
        if model._meta.db_table in tables and model.objects.exists():
            held.append(labels[key])
    if _has_files(Path(settings.MEDIA_ROOT)):
        held.append(_("附件文件"))
    if _has_files(Path(settings.SHOUWANG_FEEDS_DIR)):
        held.append(_("部门数据暂存文件"))
    if held:
        raise ApplicationError(
            _(
                "目标已有数据（%(held)s），恢复会覆盖并删除它们。"
                "请恢复到空的数据库和数据目录；确认要覆盖时加 --force"
            )
            % {"held": "、".join(held)}
        )


def _archive_unpack(path: Path, manifest: dict[str, Any], staging: Path, report: Report) -> None:
    """Copy each part to ``staging``, hashing as it goes; refuse unknown, missing, duplicated
    or altered parts before anything is restored."""
    expected = {entry["file"]: entry for entry in manifest["parts"].values()}
    step = _("读取并校验备份")
    total = sum(entry["bytes"] for entry in expected.values())
    done = 0
    seen: dict[str, str] = {}
    manifest_passed = False
    report(step, 0, total)
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                if member.name == MANIFEST_NAME and not manifest_passed:
                    manifest_passed = True  # read by manifest_read; the first member
                    continue
                if member.name not in expected or member.name in seen or not member.isfile():
                    raise ApplicationError(
                        _("备份文件中有清单以外的内容（%(name)s），未做任何恢复")
                        % {"name": member.name[:100]}
                    )
                handle = tar.extractfile(member)
                assert handle is not None
                digest = hashlib.sha256()
                descriptor = os.open(
                    staging / member.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
                )
                with os.fdopen(descriptor, "wb") as out:
                    while chunk := handle.read(COPY_CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
                        done += len(chunk)
                        report(step, done, total)
                seen[member.name] = digest.hexdigest()
    except ApplicationError:
        raise
    except _ARCHIVE_ERRORS:
        raise ApplicationError(_not_an_archive(path)) from None
    for name, entry in expected.items():
        if name not in seen:
            raise ApplicationError(
                _("备份文件不完整：缺少 %(name)s，未做任何恢复") % {"name": name}
            )
        if seen[name] != entry["sha256"]:
            raise ApplicationError(
                _("备份文件已损坏或被改动：%(name)s 的 SHA-256 与清单不符，未做任何恢复")
                % {"name": name}
            )


def _private_modes(root: Path) -> None:
    for directory, _subdirectories, names in os.walk(root):
        os.chmod(directory, 0o700)
        for name in names:
            os.chmod(Path(directory) / name, 0o600)


def _folder_unpack(staging: Path, part_name: str, target: Path) -> int:
    """Extract an inner tar with tarfile's "data" filter: no absolute paths, no ``..``, no
    links out of the folder, no device files."""
    target.mkdir(mode=0o700)
    try:
        with tarfile.open(staging / part_name, mode="r:") as tar:
            members = [m for m in tar.getmembers() if m.isfile()]
            tar.extractall(target, filter="data")
    except tarfile.FilterError as exc:
        raise ApplicationError(
            _("备份中的 %(name)s 含有不安全的路径，未做任何恢复") % {"name": part_name}
        ) from exc
    except _ARCHIVE_ERRORS:
        raise ApplicationError(
            _("备份中的 %(name)s 无法读取，未做任何恢复") % {"name": part_name}
        ) from None
    _private_modes(target)
    return len(members)


def _sqlite_restore(copy: Path) -> None:
    """Write the backed-up database into the configured file through the backup API, which
    also takes care of the target's WAL files."""
    target = Path(settings.DATABASES["default"]["NAME"])
    connections.close_all()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        _private_file_create(target)
    source = sqlite3.connect(copy)
    try:
        destination = sqlite3.connect(target, timeout=30)
        try:
            source.backup(destination, pages=-1)
        finally:
            destination.close()
    finally:
        source.close()


def _django_tables_drop() -> None:
    """Drop the tables this version's models and migrations use, so a target migrated by a
    newer schema keeps no table the dump's migration records do not account for."""
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        names = set(connection.introspection.django_table_names(include_views=False))
        names.add("django_migrations")
        tables = sorted(names & existing)
        if tables:
            quoted = ", ".join(connection.ops.quote_name(t) for t in tables)
            cursor.execute(f"DROP TABLE IF EXISTS {quoted} CASCADE")


def _postgresql_restore(dump: Path) -> None:
    _django_tables_drop()
    connections.close_all()
    # --no-owner and --no-privileges: the target's role owns everything it restores, whatever
    # roles the source installation had. One transaction: a failure leaves nothing half-done.
    _postgresql_tool(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            f"--dbname={settings.DATABASES['default']['NAME']}",
            str(dump),
        ]
    )


def _folder_replace(unpacked: Path, target: Path) -> None:
    """Put the restored folder in place of ``target`` (empty, or its contents given up by
    --force)."""
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(unpacked), str(target))


def _feed_paths_move(old_dir: str, new_dir: Path) -> int:
    """Staged batches record absolute paths; restored into another var folder, they are
    pointed at the same files under the new one."""
    old_prefix = old_dir.rstrip(os.sep) + os.sep
    new_prefix = str(new_dir).rstrip(os.sep) + os.sep
    if not old_dir or old_prefix == new_prefix:
        return 0
    changed: list[FeedBatch] = []
    for batch in FeedBatch.objects.only("pk", "parquet_path", "rejects_path").iterator():
        moved = False
        for field in ("parquet_path", "rejects_path"):
            value = getattr(batch, field)
            if value.startswith(old_prefix):
                setattr(batch, field, new_prefix + value[len(old_prefix) :])
                moved = True
        if moved:
            changed.append(batch)
    FeedBatch.objects.bulk_update(changed, ["parquet_path", "rejects_path"], batch_size=500)
    return len(changed)


def _key_check() -> KeyCheck:
    """Try the configured key on one member's ID number, without ever creating a key: with
    no key configured, the next start would generate a new one that opens nothing."""
    location = key_location()
    if not settings.SHOUWANG_DATA_KEY and not Path(settings.SHOUWANG_DATA_KEY_FILE).exists():
        return KeyCheck("missing", location)
    sample = (
        Member.objects.order_by("pk").values_list("id_number_encrypted", "id_number_index").first()
    )
    if sample is None:
        return KeyCheck("unchecked", location)
    crypto.reset_key_cache()
    try:
        value = crypto.decrypt(sample[0])
    except (crypto.DecryptionError, ImproperlyConfigured, ValueError):
        return KeyCheck("wrong", location)
    if crypto.blind_index(value) != sample[1]:
        return KeyCheck("blind_index", location)
    return KeyCheck("matches", location)


# --- progress for the commands ---------------------------------------------------------------


@contextlib.contextmanager
def progress_bars(console: Console) -> Iterator[Report]:
    """A rich progress bar per step, created at the step's first report (on stderr, gone
    when done, as the other commands show theirs)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def report(step: str, done: int, total: int | None) -> None:
            if step not in tasks:
                tasks[step] = bars.add_task(step, total=total)
            bars.update(tasks[step], completed=done, total=total)

        yield report
