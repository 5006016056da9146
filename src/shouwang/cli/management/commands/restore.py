"""``shouwang restore FILE [--force]``: a backup into the configured database and var folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from shouwang.cli.backup import (
    VENDOR_LABELS,
    RestoreResult,
    count_labels,
    progress_bars,
    restore_run,
)
from shouwang.core.exceptions import ApplicationError

#: Applied migrations named in the output; the rest are counted.
MIGRATIONS_NAMED = 5


class Command(BaseCommand):
    help = _(
        "从备份文件恢复到当前配置的数据库和数据目录（应为空），再升级数据库结构；"
        "恢复前请停止 shouwang serve 和 shouwang worker"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help=_("shouwang backup 写出的备份文件"))
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("目标已有数据时仍然恢复：现有数据库、附件和部门数据暂存文件将被覆盖"),
        )

    def handle(self, *args: Any, file: Path, force: bool, **options: Any) -> None:
        out = Console(
            file=getattr(self.stdout, "_out", self.stdout), highlight=False, soft_wrap=True
        )
        err = Console(file=getattr(self.stderr, "_out", self.stderr), highlight=False)
        try:
            with progress_bars(err) as report:
                result = restore_run(path=file, force=force, report=report)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        manifest = result.manifest
        out.print(
            _(
                "已从 %(file)s 恢复：守望 %(version)s 于 %(created)s 备份的 %(vendor)s 数据库；用时 %(seconds).1f 秒"
            )
            % {
                "file": file,
                "version": manifest.get("shouwang_version", "?"),
                "created": manifest.get("created_at", "?"),
                "vendor": VENDOR_LABELS[manifest["database_vendor"]],
                "seconds": result.seconds,
            }
        )
        matches = self._print_counts(out, result)
        if result.migrations_applied:
            named = "、".join(result.migrations_applied[:MIGRATIONS_NAMED])
            if len(result.migrations_applied) > MIGRATIONS_NAMED:
                named += _(" 等")
            out.print(
                _("数据库结构：备份来自较早的版本，已升级（应用迁移 %(n)d 个：%(names)s）")
                % {"n": len(result.migrations_applied), "names": named}
            )
        else:
            out.print(_("数据库结构：与本版本一致，无需升级"))
        if result.feed_batches_moved:
            out.print(
                _("部门数据暂存文件已移到 %(dir)s，%(n)d 个批次的文件路径已随之更新")
                % {"dir": settings.SHOUWANG_FEEDS_DIR, "n": result.feed_batches_moved}
            )
        if not matches:
            raise CommandError(_("恢复后的数量与备份清单不符（见上表），请检查备份文件和本次恢复"))
        self._print_key(out, result)

    def _print_counts(self, out: Console, result: RestoreResult) -> bool:
        manifest = result.manifest
        rows = [
            (label, manifest["counts"].get(key), result.counts[key])
            for key, label in count_labels().items()
        ]
        rows.append((_("附件文件"), manifest["parts"]["media"]["files"], result.media_files))
        rows.append((_("部门数据暂存文件"), manifest["parts"]["feeds"]["files"], result.feed_files))
        table = Table(title=_("恢复核对"))
        table.add_column(_("项目"))
        table.add_column(_("备份清单"), justify="right")
        table.add_column(_("恢复后"), justify="right")
        table.add_column(_("结果"))
        matches = True
        for label, expected, found in rows:
            same = expected == found
            matches = matches and same
            table.add_row(label, str(expected), str(found), _("一致") if same else _("不符"))
        out.print(table)
        return matches

    def _print_key(self, out: Console, result: RestoreResult) -> None:
        key = result.key
        if key.status == "matches":
            out.print(_("数据密钥（%(where)s）能解密恢复的证件号码。") % {"where": key.location})
        elif key.status == "unchecked":
            out.print(_("备份中没有家庭成员，未核对数据密钥。"))
        elif key.status == "missing":
            out.print(
                _(
                    "[bold yellow]注意：[/]未找到数据密钥。请把备份时的数据密钥放到 %(file)s（权限 600），"
                    "或设置环境变量 SHOUWANG_DATA_KEY，然后再启动服务。没有它，证件号码和电话号码无法读取；"
                    "首次用到密钥时守望会生成一把新密钥，新密钥也打不开这些数据。"
                )
                % {"file": settings.SHOUWANG_DATA_KEY_FILE}
            )
        elif key.status == "blind_index":
            raise CommandError(
                _(
                    "恢复已完成，但 SHOUWANG_BLIND_INDEX（当前 %(current)s）与备份时（%(backup)s）不同："
                    "证件号码的查找和比对会失效。请改回 %(backup)s 后再启动服务。"
                )
                % {
                    "current": settings.SHOUWANG_BLIND_INDEX,
                    "backup": result.manifest.get("blind_index", "?"),
                }
            )
        else:
            raise CommandError(
                _(
                    "恢复已完成，但当前数据密钥（%(where)s）无法解密恢复的证件号码："
                    "请改用备份时的数据密钥，然后再启动服务。"
                )
                % {"where": key.location}
            )
