"""``shouwang backup FILE``: database, attachments and staged feeds in one archive, never the keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.console import Console

from shouwang.cli.backup import VENDOR_LABELS, backup_write, key_location, progress_bars
from shouwang.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = _(
        "备份数据库（SQLite 在线备份或 pg_dump）、附件和部门数据暂存文件到一个文件；"
        "不含数据密钥和 Django 密钥，服务运行时也可备份"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "file", type=Path, help=_("备份文件（不能已存在），例如 shouwang-2026-10-31.tar.gz")
        )

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        # Rich writes to the real streams; Django's wrappers would add line endings to its chunks.
        out = Console(
            file=getattr(self.stdout, "_out", self.stdout), highlight=False, soft_wrap=True
        )
        err = Console(file=getattr(self.stderr, "_out", self.stderr), highlight=False)
        try:
            with progress_bars(err) as report:
                result = backup_write(path=file, report=report)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        manifest = result.manifest
        parts = manifest["parts"]
        out.print(
            _("已写入备份：%(file)s（%(size).1f MB，权限 600，用时 %(seconds).1f 秒）")
            % {"file": result.path, "size": result.bytes / 1e6, "seconds": result.seconds}
        )
        out.print(
            _(
                "内容：%(vendor)s 数据库（农户 %(households)d 户、家庭成员 %(members)d 人），"
                "附件 %(media)d 个文件，部门数据暂存文件 %(feeds)d 个，清单含各部分的 SHA-256"
            )
            % {
                "vendor": VENDOR_LABELS[manifest["database_vendor"]],
                "households": manifest["counts"]["households"],
                "members": manifest["counts"]["members"],
                "media": parts["media"]["files"],
                "feeds": parts["feeds"]["files"],
            }
        )
        out.print(
            _(
                "备份不含数据密钥（本机在 %(key)s）和 Django 密钥。没有数据密钥，备份中的证件号码和"
                "电话号码无法读取：请把数据密钥另行妥善保管，不要与备份文件放在一起。"
            )
            % {"key": key_location()}
        )
