"""``shouwang feeds template|import|list``: department files into the staging area."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import User
from shouwang.screening.choices import BatchStatus
from shouwang.screening.feeds.ingest import REJECT_REASONS
from shouwang.screening.feeds.selectors import feed_batch_latest, feed_source_get, feed_source_list
from shouwang.screening.feeds.services import (
    feed_batch_import,
    feed_batches_purge,
    feed_template_write,
)
from shouwang.screening.models import FeedSource

#: Rejected rows printed after an import (all of them are in the rejects file).
ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = _("部门数据：生成导入模板、导入文件到暂存区、查看数据源和导入批次")

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        tpl = sub.add_parser("template", help=_("生成数据源的空白模板（.xlsx 或 .csv，中文表头）"))
        tpl.add_argument("source", help=_("数据源代码，例如 medical"))
        tpl.add_argument("file", type=Path)
        imp = sub.add_parser(
            "import", help=_("导入 .xlsx/.xls/.csv（UTF-8、带 BOM 的 UTF-8 或 GB18030）")
        )
        imp.add_argument("source", help=_("数据源代码，例如 medical"))
        imp.add_argument("file", type=Path)
        imp.add_argument("--period", required=True, help=_("数据期别，年-月，例如 2026-10"))
        imp.add_argument("--user", help=_("以该用户身份导入；省略则以系统身份导入"))
        sub.add_parser("list", help=_("列出数据源及其最近一次导入"))
        sub.add_parser(
            "purge", help=_("删除超过保存期限的暂存批次（SHOUWANG_FEED_RETENTION_MONTHS）")
        )

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        # Rich writes to the real streams; Django's wrappers would add line endings to its chunks.
        self.out = Console(
            file=getattr(self.stdout, "_out", self.stdout), highlight=False, soft_wrap=True
        )
        self.err = Console(file=getattr(self.stderr, "_out", self.stderr), highlight=False)
        try:
            if action == "template":
                source = self._source(options["source"], None)
                feed_template_write(source=source, path=options["file"])
                self.out.print(
                    _("已生成“%(source)s”的导入模板：%(file)s")
                    % {"source": source.name, "file": options["file"]}
                )
            elif action == "import":
                self._import(options)
            elif action == "purge":
                count = feed_batches_purge()
                self.out.print(_("已删除 %(n)d 个超过保存期限的暂存批次") % {"n": count})
            else:
                self._list()
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _actor(self, username: str | None) -> User | None:
        if not username:
            return None
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(_("用户“%(username)s”不存在") % {"username": username}) from None

    def _source(self, slug: str, actor: User | None) -> FeedSource:
        try:
            return feed_source_get(actor=actor, slug=slug)
        except FeedSource.DoesNotExist:
            known = "、".join(feed_source_list(actor=actor).values_list("slug", flat=True))
            raise CommandError(
                _("数据源“%(slug)s”不存在；可用：%(known)s") % {"slug": slug, "known": known}
            ) from None

    def _import(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("找不到文件：%(file)s") % {"file": path})
        actor = self._actor(options["user"])
        source = self._source(options["source"], actor)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        ) as bar:
            task = bar.add_task(_("导入 %(file)s") % {"file": path.name}, total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=max(total, done))

            batch = feed_batch_import(
                actor=actor, source=source, path=path, period=options["period"], progress=progress
            )
        if batch.errors:
            table = Table(
                title=_("拒收的行（前 %(n)d 条；全部见拒收明细文件）")
                % {"n": min(ERRORS_SHOWN, len(batch.errors))}
            )
            table.add_column(_("行"), justify="right")
            table.add_column(_("列"))
            table.add_column(_("原因"), overflow="fold")
            for error in batch.errors[:ERRORS_SHOWN]:
                row = "" if error["row"] is None else str(error["row"])
                table.add_row(row, error["column"], error["message"])
            self.out.print(table)
        if batch.rejects_path:
            self.out.print(_("拒收明细：%(file)s") % {"file": batch.rejects_path})
        if batch.status != BatchStatus.STAGED:
            raise CommandError(
                _("%(file)s 未入库（批次 #%(id)d）：%(message)s")
                % {"file": path.name, "id": batch.pk, "message": batch.message}
            )
        self.out.print(
            _(
                "已入库：批次 #%(id)d，%(source)s，期别 %(period)s；读取 %(read)d 行，接收 %(accepted)d 行，拒收 %(rejected)d 行"
            )
            % {
                "id": batch.pk,
                "source": source.name,
                "period": batch.period,
                "read": batch.rows_read,
                "accepted": batch.rows_accepted,
                "rejected": batch.rows_rejected,
            }
        )
        if batch.error_counts:
            self.out.print(
                _("拒收原因：%(reasons)s")
                % {
                    "reasons": "、".join(
                        f"{REJECT_REASONS.get(kind, kind)} {count}"
                        for kind, count in batch.error_counts.items()
                    )
                }
            )

    def _list(self) -> None:
        latest = feed_batch_latest(actor=None)
        table = Table(title=_("数据源及最近一次导入"))
        for title in (_("代码"), _("名称"), _("部门"), _("启用"), _("批次"), _("期别"), _("状态")):
            table.add_column(title)
        table.add_column(_("接收行数"), justify="right")
        table.add_column(_("导入时间"))
        for source in feed_source_list(actor=None):
            row = [
                source.slug,
                source.name,
                source.get_department_display(),
                _("是") if source.active else _("否"),
            ]
            batch = latest.get(source.pk)
            if batch is None:
                row += [_("（无）"), "", "", "", ""]
            else:
                when = timezone.localtime(batch.finished_at or batch.created_at)
                row += [
                    f"#{batch.pk}",
                    batch.period,
                    batch.get_status_display(),
                    str(batch.rows_accepted),
                    f"{when:%Y-%m-%d %H:%M}",
                ]
            table.add_row(*row)
        self.out.print(table)
