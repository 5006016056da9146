"""``shouwang registry import|export|template``: the registry as a spreadsheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import User
from shouwang.registry.io import (
    import_summary_text,
    registry_export,
    registry_import,
    registry_template,
)


class Command(BaseCommand):
    help = _("农户档案导入、导出和导入模板（监测对象信息表格式）")

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help=_("导入 .xlsx/.xls/.csv；任一行有误则不导入任何数据"))
        imp.add_argument("file", type=Path)
        imp.add_argument("--dry-run", action="store_true", help=_("只校验，不写入"))
        imp.add_argument("--user", help=_("以该用户身份导入（限其管辖范围）；省略则不限范围"))
        exp = sub.add_parser("export", help=_("导出到 .xlsx 或 .csv（按扩展名）"))
        exp.add_argument("file", type=Path)
        exp.add_argument("--user", help=_("以该用户身份导出（限其管辖范围）；省略则导出全部"))
        exp.add_argument(
            "--full-id-numbers",
            action="store_true",
            help=_("写入完整证件号码和电话（可再导入；需相应权限）"),
        )
        exp.add_argument(
            "--encoding", default=None, help=_("CSV 编码：utf-8（默认，带 BOM）或 gb18030")
        )
        tpl = sub.add_parser("template", help=_("生成只含表头的导入模板（.xlsx 或 .csv）"))
        tpl.add_argument("file", type=Path)

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        # Rich writes to the real streams; Django's wrappers would add line endings to its chunks.
        self.out = Console(
            file=getattr(self.stdout, "_out", self.stdout), highlight=False, soft_wrap=True
        )
        self.err = Console(file=getattr(self.stderr, "_out", self.stderr), highlight=False)
        try:
            if action == "import":
                self._import(options)
            elif action == "export":
                self._export(options)
            else:
                registry_template(path=options["file"])
                self.out.print(_("已生成导入模板：%(file)s") % {"file": options["file"]})
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc

    def _actor(self, username: str | None) -> User | None:
        if not username:
            return None
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(_("用户“%(username)s”不存在") % {"username": username}) from None

    def _import(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("找不到文件：%(file)s") % {"file": path})
        actor = self._actor(options["user"])
        stages = {"validating": _("校验"), "importing": _("写入")}
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        ) as bar:
            tasks: dict[str, Any] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stages.get(stage, stage), total=total)
                bar.update(tasks[stage], completed=done, total=max(total, done))

            report = registry_import(
                actor=actor, path=path, dry_run=options["dry_run"], progress=progress
            )
        if report.errors:
            failed = _("%(file)s：%(count)d 处错误，未导入任何数据") % {
                "file": path.name,
                "count": len(report.errors),
            }
            table = Table(title=failed)
            table.add_column(_("行"), justify="right")
            table.add_column(_("列"))
            table.add_column(_("原因"))
            for error in report.errors:
                row = "" if error["row"] is None else str(error["row"])
                table.add_row(row, error["column"], error["message"])
            self.out.print(table)
            raise CommandError(
                _("校验未通过：%(count)d 处错误，未导入任何数据") % {"count": len(report.errors)}
            )
        self.out.print(import_summary_text(report.job.summary))

    def _export(self, options: dict[str, Any]) -> None:
        actor = self._actor(options["user"])
        full = options["full_id_numbers"]
        count = registry_export(
            actor=actor, path=options["file"], full_id_numbers=full, encoding=options["encoding"]
        )
        self.out.print(
            _("已导出 %(count)d 名成员到 %(file)s（%(kind)s）")
            % {
                "count": count,
                "file": options["file"],
                "kind": _("含完整证件号码") if full else _("证件号码已脱敏"),
            }
        )
