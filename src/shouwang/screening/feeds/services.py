"""Importing department files into the staging area, their templates, and removing a batch.

An import is a ``FeedBatch``: created when the file arrives, updated with its progress while
``ingest.stage_feed_file`` streams the rows (committed as it goes, so a page can poll it), and
finished with its counts and one "import" audit row. Accepted rows go to
``SHOUWANG_FEEDS_DIR/<source>/<batch id>.parquet``, rejected ones to ``<batch id>.rejects.csv``
next to it. The same file is staged once per source: a second import of it is refused.

Uploads through the page or the API are kept under ``SHOUWANG_FEEDS_DIR/uploads`` until the
worker (django-tasks) has imported them, then deleted: the upload holds raw ID numbers. Every
file here is the service user's alone (0600, directories 0700); a file refused before reading
(``core.filecheck``: too large, damaged, an encoding not read) ends as a failed batch whose
message says why, with nothing staged.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.utility
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.core.audit import audit_record, model_snapshot, stored_actor
from shouwang.core.choices import AuditAction, Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import User
from shouwang.registry.io.readers import IMPORT_SUFFIXES
from shouwang.registry.io.services import file_sha256
from shouwang.screening.choices import BatchStatus, ColumnType
from shouwang.screening.feeds.ingest import (
    REJECT_REASONS,
    DivisionResolver,
    IngestResult,
    create_private_file,
    private_directory,
    stage_feed_file,
)
from shouwang.screening.models import FeedBatch, FeedSource
from shouwang.screening.services import period_validate
from shouwang.screening.sources import ColumnsInvalid, ColumnSpec, parse_columns

logger = logging.getLogger(__name__)

#: Roles that may import any source's files; department officers import their department's.
FEED_IMPORTERS = frozenset({Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF})
#: How often a running import writes its progress to its batch row.
PROGRESS_INTERVAL_SECONDS = 1.0
UPLOAD_DIR = "uploads"
TEMPLATE_SUFFIXES = frozenset({".xlsx", ".csv"})
Progress = Callable[[int, int], None]


# --- who may do what -------------------------------------------------------------------


def can_import_feed(actor: User | None, source: FeedSource) -> bool:
    """District administrators and staff import every source; a department officer their own."""
    if actor is None or actor.is_superuser:
        return True
    if actor.role in FEED_IMPORTERS:
        return True
    return actor.role == Role.DEPARTMENT_OFFICER and actor.department == source.department


def _require_importer(actor: User | None, source: FeedSource) -> None:
    if not can_import_feed(actor, source):
        raise PermissionDenied(
            _("您不能导入“%(source)s”的数据：只有区县工作人员和该部门的工作人员可以导入")
            % {"source": source.name}
        )


# --- paths -----------------------------------------------------------------------------


def feed_batch_paths(batch: FeedBatch) -> tuple[Path, Path]:
    """Where a batch's accepted rows (Parquet) and rejected rows (CSV) are written."""
    directory = Path(settings.SHOUWANG_FEEDS_DIR) / batch.source.slug
    return directory / f"{batch.pk}.parquet", directory / f"{batch.pk}.rejects.csv"


def feed_upload_path(batch: FeedBatch) -> Path:
    """Where an uploaded file waits for the worker: ``uploads/<sha256><suffix>``."""
    suffix = Path(batch.file_name).suffix.lower()
    return Path(settings.SHOUWANG_FEEDS_DIR) / UPLOAD_DIR / f"{batch.file_sha256}{suffix}"


# --- checks shared by the command and uploads -------------------------------------------


def _source_columns(source: FeedSource) -> list[ColumnSpec]:
    try:
        return parse_columns(source.columns)
    except ColumnsInvalid as exc:
        raise ApplicationError(
            _("数据源“%(source)s”的列定义有误：%(errors)s")
            % {"source": source.name, "errors": "；".join(exc.errors)}
        ) from None


def _check_suffix(file_name: str) -> None:
    suffix = Path(file_name).suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise ApplicationError(
            _("不支持的文件类型“%(suffix)s”，请使用 .xlsx、.xls 或 .csv") % {"suffix": suffix}
        )


def _check_importable(
    *, actor: User | None, source: FeedSource, file_name: str, period: str
) -> str:
    """Permission, source, file type and period; returns the normalised period."""
    _require_importer(actor, source)
    if not source.active:
        raise ApplicationError(_("数据源“%(source)s”已停用，不能导入") % {"source": source.name})
    _source_columns(source)
    _check_suffix(file_name)
    return period_validate(period)


def _refuse_duplicate(source: FeedSource, digest: str) -> None:
    """The same file is staged once per source (a failed attempt may be retried)."""
    batches = FeedBatch.objects.filter(source=source, file_sha256=digest)
    staged = batches.filter(status=BatchStatus.STAGED).order_by("id").first()
    if staged is not None:
        when = timezone.localtime(staged.finished_at or staged.created_at)
        raise ApplicationError(
            _("该文件已于 %(date)s 导入（批次 #%(id)d，期别 %(period)s），不再重复导入")
            % {"date": f"{when:%Y-%m-%d %H:%M}", "id": staged.pk, "period": staged.period}
        )
    pending = batches.filter(status__in=[BatchStatus.QUEUED, BatchStatus.RUNNING]).first()
    if pending is not None:
        raise ApplicationError(
            _("该文件正在导入（批次 #%(id)d），请等待其完成") % {"id": pending.pk}
        )


# --- import ----------------------------------------------------------------------------


def feed_batch_import(
    *,
    actor: User | None,
    source: FeedSource,
    path: Path | str,
    file_name: str = "",
    period: str,
    progress: Progress | None = None,
) -> FeedBatch:
    """Stage a department file now (the command's path); returns the finished batch.

    Refused before anything is recorded (ApplicationError) when the actor may not import the
    source, the period or file type is wrong, or the same file is already staged. A file that
    cannot be staged at all (no header, a required column missing, no acceptable row) ends as
    a FAILED batch whose ``message`` says why. Not atomic as a whole on purpose: the batch's
    progress is committed as the file streams, so other connections can show it.
    """
    path = Path(path)
    file_name = Path(file_name or path.name).name[:255]
    period = _check_importable(actor=actor, source=source, file_name=file_name, period=period)
    digest = file_sha256(path)
    _refuse_duplicate(source, digest)
    batch = FeedBatch.objects.create(
        source=source,
        period=period,
        file_name=file_name,
        file_sha256=digest,
        file_size=path.stat().st_size,
        status=BatchStatus.QUEUED,
        actor=stored_actor(actor),
    )
    return _batch_run(batch=batch, actor=actor, path=path, progress=progress)


def _batch_progress(batch: FeedBatch, forward: Progress | None) -> Progress:
    """Write progress to the batch row at most once a second and pass every call on."""
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_INTERVAL_SECONDS:
            last = now
            FeedBatch.objects.filter(pk=batch.pk).update(
                rows_read=done, rows_estimated=max(total, done), updated_at=timezone.now()
            )
        if forward is not None:
            forward(done, total)

    return progress


def _outcome_message(result: IngestResult) -> str:
    if result.file_error:
        return result.file_error
    if result.rows_accepted == 0:
        if result.rows_read == 0:
            return _("文件中没有数据行")
        return _("没有可接收的行：%(rejected)d 行全部拒收，请按拒收原因修改后重新导入") % {
            "rejected": result.rows_rejected
        }
    parts = [
        _("接收 %(accepted)d 行，拒收 %(rejected)d 行")
        % {"accepted": result.rows_accepted, "rejected": result.rows_rejected}
    ]
    if result.error_counts:
        parts.append(
            "、".join(
                f"{REJECT_REASONS.get(kind, kind)} {count}"
                for kind, count in sorted(result.error_counts.items(), key=lambda i: -i[1])
            )
        )
    if result.villages_unresolved:
        parts.append(
            _("%(n)d 行的村（社区）未能识别，已接收但村（社区）留空")
            % {"n": result.villages_unresolved}
        )
    return "；".join(parts)


def _batch_run(
    *, batch: FeedBatch, actor: User | None, path: Path, progress: Progress | None = None
) -> FeedBatch:
    """Stage the file of a recorded batch and record the outcome."""
    out_path, rejects_path = feed_batch_paths(batch)
    private_directory(Path(settings.SHOUWANG_FEEDS_DIR))
    batch.status = BatchStatus.RUNNING
    batch.started_at = timezone.now()
    batch.parquet_path = batch.rejects_path = ""
    batch.save(update_fields=["status", "started_at", "parquet_path", "rejects_path", "updated_at"])
    try:
        result = stage_feed_file(
            path=path,
            columns=_source_columns(batch.source),
            batch_id=batch.pk,
            period=batch.period,
            out_path=out_path,
            rejects_path=rejects_path,
            divisions=DivisionResolver.for_home_division(),
            on_progress=_batch_progress(batch, progress),
        )
        staged = not result.file_error and result.rows_accepted > 0
        batch.status = BatchStatus.STAGED if staged else BatchStatus.FAILED
        batch.rows_estimated = max(result.rows_estimated, result.rows_read)
        batch.rows_read = result.rows_read
        batch.rows_accepted = result.rows_accepted if staged else 0
        batch.rows_rejected = result.rows_rejected
        batch.errors = result.errors
        batch.error_counts = result.error_counts
        batch.message = _outcome_message(result)
        batch.parquet_path = str(out_path) if staged else ""
        batch.rejects_path = str(rejects_path) if result.rejects_written else ""
        batch.finished_at = timezone.now()
        if not staged:
            out_path.unlink(missing_ok=True)
        try:
            with transaction.atomic():
                batch.save()
                _audit_import(actor, batch, result)
        except IntegrityError:
            # Another import of the same file was staged while this one ran.
            out_path.unlink(missing_ok=True)
            batch.status = BatchStatus.FAILED
            batch.parquet_path = ""
            batch.rows_accepted = 0
            batch.message = _("该文件已由另一次导入入库，本次未重复入库")
            with transaction.atomic():
                batch.save()
                _audit_import(actor, batch, result)
        return batch
    except Exception as exc:
        out_path.unlink(missing_ok=True)
        FeedBatch.objects.filter(pk=batch.pk).update(
            status=BatchStatus.FAILED,
            parquet_path="",
            finished_at=timezone.now(),
            message=_("导入时发生内部错误（%(error)s），未入库任何数据")
            % {"error": type(exc).__name__},
            updated_at=timezone.now(),
        )
        raise


def _audit_import(actor: User | None, batch: FeedBatch, result: IngestResult) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        target=batch,
        target_repr=f"{batch.source.name} {batch.period} {batch.file_name}",
        extra={
            "source": batch.source.slug,
            "period": batch.period,
            "file": batch.file_name,
            "sha256": batch.file_sha256,
            "status": batch.status,
            "rows_read": result.rows_read,
            "rows_accepted": batch.rows_accepted,
            "rows_rejected": result.rows_rejected,
            "error_counts": result.error_counts,
            "seconds": round(result.seconds, 1),
        },
    )


# --- uploads (page and API) -------------------------------------------------------------


@transaction.atomic
def feed_batch_submit(
    *,
    actor: User,
    source: FeedSource,
    file_name: str,
    chunks: Iterable[bytes],
    period: str,
) -> FeedBatch:
    """Keep an uploaded file, record a queued batch, and have the worker import it once the
    batch row is committed. The checks that need no reading of rows happen here, at once."""
    file_name = Path(file_name).name[:255]
    period = _check_importable(actor=actor, source=source, file_name=file_name, period=period)
    private_directory(Path(settings.SHOUWANG_FEEDS_DIR))
    directory = private_directory(Path(settings.SHOUWANG_FEEDS_DIR) / UPLOAD_DIR)
    digest = hashlib.sha256()
    size = 0
    partial = directory / f".upload-{threading.get_ident()}-{time.monotonic_ns()}"
    try:
        # The upload holds ID numbers in clear until the worker has staged it.
        create_private_file(partial)
        with partial.open("wb") as handle:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
                size += len(chunk)
        _refuse_duplicate(source, digest.hexdigest())
        batch = FeedBatch(
            source=source,
            period=period,
            file_name=file_name,
            file_sha256=digest.hexdigest(),
            file_size=size,
            status=BatchStatus.QUEUED,
            actor=stored_actor(actor),
        )
        partial.replace(feed_upload_path(batch))
    finally:
        partial.unlink(missing_ok=True)
    batch.save()
    from shouwang.screening.feeds.tasks import feed_batch_import_task

    transaction.on_commit(lambda: feed_batch_import_task.enqueue(batch.pk))
    return batch


def feed_batch_execute(batch_id: int) -> FeedBatch | None:
    """Import a queued upload (the worker's task); does nothing for a batch already taken."""
    batch = FeedBatch.objects.select_related("source", "actor").filter(pk=batch_id).first()
    if batch is None:
        logger.warning("feed batch %s no longer exists", batch_id)
        return None
    if batch.status != BatchStatus.QUEUED:
        logger.info("feed batch %s already ran (%s)", batch_id, batch.status)
        return batch
    upload = feed_upload_path(batch)
    try:
        if not upload.exists():
            FeedBatch.objects.filter(pk=batch.pk).update(
                status=BatchStatus.FAILED,
                message=_("上传的文件已不存在，请重新上传"),
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
            batch.refresh_from_db()
            return batch
        return _batch_run(batch=batch, actor=batch.actor, path=upload)
    finally:
        # Another queued batch may wait on the same upload (same file, another source).
        if (
            not FeedBatch.objects.filter(file_sha256=batch.file_sha256, status=BatchStatus.QUEUED)
            .exclude(pk=batch.pk)
            .exists()
        ):
            upload.unlink(missing_ok=True)


def feed_batches_fail_interrupted() -> int:
    """Batches left running by a stopped worker are marked failed; returns how many."""
    interrupted = FeedBatch.objects.filter(status=BatchStatus.RUNNING)
    for batch in interrupted.select_related("source"):
        feed_batch_paths(batch)[0].unlink(missing_ok=True)
    return interrupted.update(
        status=BatchStatus.FAILED,
        parquet_path="",
        message=_("导入被服务停止中断，未入库任何数据；请重新上传"),
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )


# --- delete ----------------------------------------------------------------------------


@transaction.atomic
def feed_batch_delete(*, actor: User | None, batch: FeedBatch) -> None:
    """Remove a batch and its staged files (after the deletion commits). Later screening runs
    no longer see its rows; alerts raised from them keep their evidence."""
    _require_importer(actor, batch.source)
    if batch.status in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        raise ApplicationError(_("批次 #%(id)d 正在导入，不能删除") % {"id": batch.pk})
    before = model_snapshot(batch)
    paths = [Path(p) for p in (batch.parquet_path, batch.rejects_path) if p]
    paths.extend(feed_batch_paths(batch))
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        target=batch,
        target_repr=f"{batch.source.name} {batch.period} {batch.file_name}",
        before=before,
    )
    batch.delete()

    def remove_files() -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    transaction.on_commit(remove_files)


def retention_cutoff(today: dt.date, months: int) -> str:
    """The oldest period (YYYY-MM) kept when staged batches are kept ``months`` months."""
    index = today.year * 12 + today.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def feed_batches_purge(*, actor: User | None = None, today: dt.date | None = None) -> int:
    """Delete staged batches older than ``SHOUWANG_FEED_RETENTION_MONTHS`` (their Parquet,
    rejects and upload files), each through ``feed_batch_delete`` with its audit row; the
    number deleted. Alerts raised from them keep their evidence."""
    today = today or timezone.localdate()
    cutoff = retention_cutoff(today, settings.SHOUWANG_FEED_RETENTION_MONTHS)
    old = FeedBatch.objects.filter(period__lt=cutoff).exclude(
        status__in=(BatchStatus.QUEUED, BatchStatus.RUNNING)
    )
    count = 0
    for batch in old.select_related("source"):
        feed_batch_delete(actor=actor, batch=batch)
        count += 1
    return count


# --- template --------------------------------------------------------------------------


def feed_template_write(*, source: FeedSource, path: Path | str) -> None:
    """An empty file with the source's headers, as departments name them: .xlsx (ID column
    formatted as text, drop-down lists for choices) or .csv (UTF-8 with BOM)."""
    path = Path(path)
    columns = _source_columns(source)
    suffix = path.suffix.lower()
    if suffix not in TEMPLATE_SUFFIXES:
        raise ApplicationError(_("模板文件应以 .xlsx 或 .csv 结尾"))
    if suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerow([c.header for c in columns])
        return
    book = xlsxwriter.Workbook(
        str(path),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    try:
        sheet = book.add_worksheet(source.name[:31])
        header = book.add_format({"bold": True, "text_wrap": True, "valign": "vcenter"})
        required = book.add_format(
            {"bold": True, "text_wrap": True, "valign": "vcenter", "font_color": "#b42318"}
        )
        text = book.add_format({"num_format": "@"})
        date = book.add_format({"num_format": "yyyy-mm-dd"})
        money = book.add_format({"num_format": "0.00"})
        options = None
        for index, column in enumerate(columns):
            width = max(10, len(column.header) * 2 + 2)
            fmt: Any = None
            if column.type == ColumnType.ID_NUMBER:
                width, fmt = 22, text  # all 18 characters stay; Excel would round a number
            elif column.type == ColumnType.DIVISION:
                width, fmt = max(width, 16), text
            elif column.type == ColumnType.DATE:
                width, fmt = max(width, 12), date
            elif column.type == ColumnType.DECIMAL:
                fmt = money
            sheet.set_column(index, index, width, fmt)
            sheet.write_string(0, index, column.header, required if column.required else header)
            if column.type == ColumnType.CHOICE:
                if options is None:
                    options = book.add_worksheet(_("可选值"))
                labels = list(dict.fromkeys(column.choices))
                options.write_string(0, index, column.header)
                for offset, label in enumerate(labels, start=1):
                    options.write_string(offset, index, label)
                letter = xlsxwriter.utility.xl_col_to_name(index)
                sheet.data_validation(
                    1,
                    index,
                    1_048_575,
                    index,
                    {
                        "validate": "list",
                        "source": f"='{options.name}'!${letter}$2:${letter}${len(labels) + 1}",
                        "ignore_blank": True,
                    },
                )
        sheet.freeze_panes(1, 0)
        if options is not None:
            options.hide()
    finally:
        book.close()
