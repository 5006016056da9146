"""Registry import, export and the import template.

An import validates the whole file first and writes nothing if any row is bad; otherwise it
writes everything in one transaction through ``registry_bulk_upsert`` (upsert by household
number and by the blind index of the ID number), so importing the same file twice changes
nothing. Each import is an ImportJob row, updated as it goes so a page can show progress,
and one "import" audit row; the per-record audit rows come from the bulk upsert.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.utility
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core import crypto
from shouwang.core.audit import audit_record, stored_actor
from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import can_edit_registry, can_reveal_personal_data
from shouwang.core.models import User
from shouwang.registry.bulk import BulkResult, HouseholdRecord, registry_bulk_upsert
from shouwang.registry.io.columns import (
    COLUMNS,
    HOUSEHOLD,
    IMPORT_COLUMNS,
    Boolean,
    Choice,
    Column,
    Money,
    division_short_name,
)
from shouwang.registry.io.parsing import FileRejected, RowError, parse_table
from shouwang.registry.io.readers import IMPORT_SUFFIXES, UnreadableFile, open_table
from shouwang.registry.io.validation import RegistryValidator
from shouwang.registry.models import Household, ImportJob, ImportJobStatus, Member
from shouwang.registry.selectors import member_list

logger = logging.getLogger(__name__)

#: progress(stage, done, total); stage is "validating" (rows) or "importing" (households).
Progress = Callable[[str, int, int], None]
EXPORT_SUFFIXES = frozenset({".xlsx", ".csv"})
EXPORT_ENCODINGS = frozenset({"utf-8-sig", "gb18030"})
#: How often a running import writes its progress to its ImportJob row.
PROGRESS_INTERVAL_SECONDS = 0.5
UPLOAD_DIR = "imports"


@dataclass
class ImportReport:
    job: ImportJob
    rows: int
    households: int
    members: int
    errors: list[dict[str, Any]]
    result: BulkResult | None
    dry_run: bool
    #: Seconds per phase: "validate" (reading and checking every row as it streams), "lookups"
    #: (the bulk database checks) and "write" (the upsert, when there is one).
    timings: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_summary_text(summary: dict[str, Any]) -> str:
    """One Chinese line describing a finished import's summary (ImportJob.summary)."""
    head = _("共 %(rows)d 行，%(households)d 户 %(members)d 人") % summary
    if summary.get("dry_run"):
        return _("校验通过（仅校验，未写入）：") + head
    return (
        _("导入完成：")
        + head
        + _(
            "；新增 %(households_created)d 户、%(members_created)d 人，修改 %(households_updated)d 户、"
            "%(members_updated)d 人，未变 %(households_unchanged)d 户、%(members_unchanged)d 人"
        )
        % summary
    )


def _job_progress(job: ImportJob, forward: Progress | None) -> Progress:
    """Write validation progress to the job row (throttled) and pass every call on."""
    last = 0.0

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal last
        if stage == "validating":
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL_SECONDS:
                last = now
                ImportJob.objects.filter(pk=job.pk).update(
                    rows_done=done, rows_total=max(total, done)
                )
        if forward is not None:
            forward(stage, done, total)

    return progress


def _set_status(job: ImportJob, status: str, **fields: Any) -> None:
    job.status = status
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["status", "updated_at", *fields])


def _finish(
    job: ImportJob,
    *,
    actor: User | None,
    status: str,
    errors: list[RowError],
    summary: dict[str, Any],
) -> None:
    """Record the outcome on the job and in one audit row (inside the caller's transaction)."""
    job.errors = [e.as_dict() for e in errors]
    job.summary = summary
    job.finished_at = timezone.now()
    _set_status(
        job,
        status,
        errors=job.errors,
        summary=summary,
        finished_at=job.finished_at,
        rows_done=job.rows_done,
        rows_total=job.rows_total,
    )
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        target=job,
        target_repr=job.file_name,
        extra={
            "file": job.file_name,
            "sha256": job.file_sha256,
            "status": status,
            "dry_run": job.dry_run,
            "errors": len(errors),
            **summary,
        },
    )


def _validate_file(
    path: Path, *, actor: User | None, report: ImportReport, progress: Progress
) -> tuple[list[HouseholdRecord], list[RowError]]:
    """Read and check every row; the records to write (none if there is any error), the errors.

    A function of its own so the spreadsheet held in memory by the reader is freed on return,
    before the write needs its memory.
    """
    validator = RegistryValidator(actor=actor)
    started = time.perf_counter()
    try:
        table = open_table(path)
        _layout, rows = parse_table(table)
        total = max(table.estimated_rows - 1, 0)
        for row in rows:
            validator.add(row)
            if validator.rows % 1000 == 0:
                progress("validating", validator.rows, total)
        report.timings["validate"] = time.perf_counter() - started
        records = validator.finish()
        report.timings["lookups"] = time.perf_counter() - started - report.timings["validate"]
        errors = validator.sorted_errors()
    except UnreadableFile as exc:
        records, errors = [], [RowError(None, "", exc.message)]
    except FileRejected as exc:
        records, errors = [], exc.errors
    progress("validating", validator.rows, validator.rows)
    report.rows = validator.rows
    report.households = len(validator.households)
    report.members = sum(len(d.members) for d in validator.households.values())
    return records, errors


def registry_import(
    *,
    actor: User | None,
    path: Path | str,
    dry_run: bool = False,
    progress: Progress | None = None,
    job: ImportJob | None = None,
) -> ImportReport:
    """Validate a registry file and, if every row is good and not ``dry_run``, write it.

    ``actor=None`` acts with full access (commands without ``--user``); otherwise rows must be
    in the actor's area. Not atomic as a whole on purpose: the job's progress is committed as
    validation goes, so other connections can show it; the writes are one transaction.
    """
    if not can_edit_registry(actor):
        raise PermissionDenied(_("您的角色不能导入农户档案"))
    path = Path(path)
    if job is None:
        job = ImportJob.objects.create(
            actor=stored_actor(actor),
            file_name=path.name,
            file_sha256=file_sha256(path),
            dry_run=dry_run,
        )
    report = ImportReport(
        job=job, rows=0, households=0, members=0, errors=[], result=None, dry_run=dry_run
    )
    try:
        _set_status(job, ImportJobStatus.VALIDATING)
        started = time.perf_counter()
        records, errors = _validate_file(
            path, actor=actor, report=report, progress=_job_progress(job, progress)
        )
        report.errors = [e.as_dict() for e in errors]
        job.rows_total = job.rows_done = report.rows
        summary: dict[str, Any] = {
            "rows": report.rows,
            "households": report.households,
            "members": report.members,
            "dry_run": dry_run,
        }
        if errors or dry_run:
            status = ImportJobStatus.REJECTED if errors else ImportJobStatus.SUCCEEDED
            with transaction.atomic():
                _finish(job, actor=actor, status=status, errors=errors, summary=summary)
            return report
        _set_status(
            job, ImportJobStatus.IMPORTING, rows_done=job.rows_done, rows_total=job.rows_total
        )
        writing = time.perf_counter()
        with transaction.atomic():
            report.result = registry_bulk_upsert(
                actor=actor,
                records=records,
                source=f"import:{job.pk}",
                progress=(lambda done, total: progress("importing", done, total))
                if progress
                else None,
            )
            summary.update(dataclasses.asdict(report.result))
            report.timings["write"] = time.perf_counter() - writing
            summary["seconds"] = round(time.perf_counter() - started, 1)
            _finish(job, actor=actor, status=ImportJobStatus.SUCCEEDED, errors=[], summary=summary)
        return report
    except Exception as exc:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJobStatus.FAILED,
            finished_at=timezone.now(),
            errors=[
                RowError(
                    None,
                    "",
                    _("导入时发生内部错误（%(error)s），未写入任何数据")
                    % {"error": type(exc).__name__},
                ).as_dict()
            ],
        )
        raise


# -- uploads through the page --------------------------------------------------------------------


def import_upload_path(job: ImportJob) -> Path:
    """Where an uploaded file waits for its job: MEDIA_ROOT/imports/<job>-<sha256>.<ext>. It
    is deleted once the job has run (the job keeps the SHA-256, counts and rejects)."""
    return (
        Path(settings.MEDIA_ROOT)
        / UPLOAD_DIR
        / f"{job.pk}-{job.file_sha256}{Path(job.file_name).suffix.lower()}"
    )


@transaction.atomic
def registry_import_submit(
    *, actor: User, file_name: str, chunks: Iterable[bytes], dry_run: bool
) -> ImportJob:
    """Keep an uploaded file, record an ImportJob, and run the import in a background thread
    once the job row is committed."""
    if not can_edit_registry(actor):
        raise PermissionDenied(_("您的角色不能导入农户档案"))
    suffix = Path(file_name).suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise ApplicationError(
            _("不支持的文件类型“%(suffix)s”，请使用 .xlsx、.xls 或 .csv") % {"suffix": suffix}
        )
    directory = Path(settings.MEDIA_ROOT) / UPLOAD_DIR
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    partial = directory / f".upload-{threading.get_ident()}-{time.monotonic_ns()}"
    try:
        # The upload holds ID and phone numbers in clear: the service user's alone.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
        job = ImportJob(
            actor=actor,
            file_name=Path(file_name).name[:255],
            file_sha256=digest.hexdigest(),
            dry_run=dry_run,
        )
        job.save()
        partial.replace(import_upload_path(job))
    finally:
        partial.unlink(missing_ok=True)
    transaction.on_commit(lambda: start_import_thread(job.pk))
    return job


def start_import_thread(job_id: int) -> threading.Thread:
    thread = threading.Thread(
        target=registry_import_run, args=(job_id,), name=f"registry-import-{job_id}", daemon=True
    )
    thread.start()
    return thread


def import_job_execute(job_id: int) -> None:
    """Run one submitted job; does nothing for a job that is gone or already ran."""
    job = ImportJob.objects.select_related("actor").filter(pk=job_id).first()
    if job is None:
        logger.warning("import job %s no longer exists", job_id)
        return
    if job.status != ImportJobStatus.PENDING:
        logger.info("import job %s already ran (%s)", job_id, job.status)
        return
    if job.actor is None:
        # Without its user the job would run with full access: refuse instead.
        job.status = ImportJobStatus.FAILED
        job.errors = [RowError(None, "", _("提交导入的用户已不存在")).as_dict()]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "errors", "finished_at", "updated_at"])
        return
    try:
        registry_import(actor=job.actor, path=import_upload_path(job), dry_run=job.dry_run, job=job)
    finally:
        # Accepted, rejected, dry run or failed: the plaintext file goes.
        import_upload_path(job).unlink(missing_ok=True)


def import_jobs_fail_interrupted() -> int:
    """Mark jobs left unfinished by a server stop as failed; returns how many.

    Page imports run in a thread of the server process, so at server start none can still be
    running: an unfinished job was cut off (its transaction never committed, nothing was written).
    """
    unfinished = (ImportJobStatus.PENDING, ImportJobStatus.VALIDATING, ImportJobStatus.IMPORTING)
    interrupted = [
        RowError(None, "", _("服务重启，导入中断，未写入任何数据；请重新上传")).as_dict()
    ]
    jobs = list(ImportJob.objects.filter(status__in=unfinished))
    for job in jobs:
        import_upload_path(job).unlink(missing_ok=True)
    return ImportJob.objects.filter(pk__in=[j.pk for j in jobs]).update(
        status=ImportJobStatus.FAILED,
        errors=interrupted,
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


def registry_import_run(job_id: int) -> None:
    """Body of the background thread: run the job, log any failure, close the thread's connection."""
    try:
        import_job_execute(job_id)
    except Exception:
        logger.exception("import job %s failed", job_id)
    finally:
        connection.close()


# -- export and template ---------------------------------------------------------------------------


class _XlsxOut:
    def __init__(self, path: Path, columns: tuple[Column, ...]) -> None:
        # constant_memory streams rows to disk; strings are never turned into formulas or URLs.
        self.book = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.sheet = self.book.add_worksheet(_("监测对象信息"))
        self.columns = columns
        self.text = self.book.add_format({"num_format": "@"})
        self.money = self.book.add_format({"num_format": "0.00"})
        header = self.book.add_format({"bold": True, "text_wrap": True, "valign": "vcenter"})
        for index, column in enumerate(columns):
            width = max(10, len(column.header) * 2 + 2)
            if column.field == "id_number":
                width = 22
            fmt = self.text if column.converter.text_cell else None
            self.sheet.set_column(index, index, width, fmt)
            self.sheet.write_string(0, index, column.header, header)
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def write(self, values: list[Any]) -> None:
        for index, (column, value) in enumerate(zip(self.columns, values, strict=True)):
            converter = column.converter
            if converter.number_cell:
                self.sheet.write_number(
                    self.row,
                    index,
                    converter.to_cell(value),
                    self.money if isinstance(converter, Money) else None,
                )
            else:
                self.sheet.write_string(
                    self.row,
                    index,
                    str(converter.to_cell(value)),
                    self.text if converter.text_cell else None,
                )
        self.row += 1

    def close(self) -> None:
        self.book.close()


class _CsvOut:
    def __init__(self, path: Path, columns: tuple[Column, ...], encoding: str) -> None:
        self.handle = path.open("w", encoding=encoding, newline="")
        self.writer = csv.writer(self.handle)
        self.columns = columns
        self.writer.writerow([c.header for c in columns])

    def write(self, values: list[Any]) -> None:
        self.writer.writerow(
            [c.converter.to_text(v) for c, v in zip(self.columns, values, strict=True)]
        )

    def close(self) -> None:
        self.handle.close()


def _open_out(path: Path, columns: tuple[Column, ...], encoding: str | None) -> _XlsxOut | _CsvOut:
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ApplicationError(_("导出文件应以 .xlsx 或 .csv 结尾"))
    if suffix == ".xlsx":
        return _XlsxOut(path, columns)
    encoding = encoding or "utf-8-sig"  # with a BOM, so Excel opens it as UTF-8
    if encoding.lower().replace("_", "-") in {"utf-8", "utf8", "utf-8-sig"}:
        encoding = "utf-8-sig"
    if encoding.lower() not in EXPORT_ENCODINGS:
        raise ApplicationError(_("CSV 编码应为 utf-8 或 gb18030"))
    return _CsvOut(path, columns, encoding.lower())


def _row_values(member: Member, household: Household, *, full: bool, phone: str) -> list[Any]:
    values: list[Any] = []
    for column in COLUMNS:
        name = column.field
        if name == "village_id":
            value: Any = household.village_id
        elif name == "township_name":
            value = (
                division_short_name(household.village.parent.name)
                if household.village.parent
                else ""
            )
        elif name == "village_name":
            value = division_short_name(household.village.name)
        elif name == "phone":
            value = phone
        elif name == "grid_member":
            value = household.grid_member.username if household.grid_member else ""
        elif name == "id_number":
            value = crypto.decrypt(member.id_number_encrypted) if full else member.id_number_masked
        else:
            value = getattr(household if column.level == HOUSEHOLD else member, name)
        values.append(value)
    return values


def registry_export(
    *,
    actor: User | None,
    path: Path | str,
    full_id_numbers: bool = False,
    encoding: str | None = None,
) -> int:
    """Write the actor's area in the import layout (.xlsx or .csv by extension); the member count.

    ``full_id_numbers`` writes full ID and phone numbers (so the file can be imported again)
    and needs ``can_reveal_personal_data``; otherwise both are masked. Every export is audited.
    Households without members have no row. The rows are read outside a transaction, which
    on SQLite would hold the write lock for the whole export; the audit row has its own, and
    the file is removed if it cannot be written.
    """
    if full_id_numbers and not can_reveal_personal_data(actor):
        raise PermissionDenied(_("您没有导出完整证件号码的权限"))
    path = Path(path)
    out = _open_out(path, COLUMNS, encoding)
    members = member_list(actor=actor).select_related(
        "household__village__parent", "household__grid_member"
    )
    count = 0
    households: set[int] = set()
    phone = ""
    try:
        try:
            for member in members.iterator(chunk_size=2000):
                household = member.household
                if household.pk not in households:  # rows of a household are consecutive
                    households.add(household.pk)
                    if full_id_numbers and household.phone_encrypted:
                        phone = crypto.decrypt(household.phone_encrypted)
                    else:
                        phone = "" if full_id_numbers else household.phone_masked
                out.write(_row_values(member, household, full=full_id_numbers, phone=phone))
                count += 1
        finally:
            out.close()
        with transaction.atomic():
            audit_record(
                actor=actor,
                action=AuditAction.EXPORT,
                target_type="registry.household",
                target_repr=path.name,
                extra={
                    "file": path.name,
                    "members": count,
                    "households": len(households),
                    "full_id_numbers": full_id_numbers,
                    "format": path.suffix.lower().lstrip("."),
                },
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return count


def registry_template(*, path: Path | str) -> None:
    """An empty import file: the header row only (xlsx with drop-down lists, or csv)."""
    path = Path(path)
    columns = IMPORT_COLUMNS
    out = _open_out(path, columns, None)
    if isinstance(out, _XlsxOut):
        options = out.book.add_worksheet(_("可选值"))
        for index, column in enumerate(columns):
            converter = column.converter
            if isinstance(converter, Choice):
                labels = list(converter.labels.values())
            elif isinstance(converter, Boolean):
                labels = [converter.to_cell(True), converter.to_cell(False)]
            else:
                continue
                continue
            options.write_string(0, index, column.header)
            for offset, label in enumerate(labels, start=1):
                options.write_string(offset, index, label)
            letter = xlsxwriter.utility.xl_col_to_name(index)
            out.sheet.data_validation(
                1,
                index,
                100_000,
                index,
                {
                    "validate": "list",
                    "source": f"='{options.name}'!${letter}$2:${letter}${len(labels) + 1}",
                    "ignore_blank": True,
                },
            )
        options.hide()
    out.close()
