"""``shouwang screen``: run the screening rules over the registry and the staged feeds now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from rich.console import Console
from rich.table import Table

from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import User
from shouwang.screening.choices import Engine, RunTrigger
from shouwang.screening.engines.base import EngineUnavailable
from shouwang.screening.services import screening_run


class Command(BaseCommand):
    help = _("数据比对：用全部启用的规则比对在册农户和已导入的部门数据，生成预警")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--engine",
            choices=Engine.values,
            default=Engine.DUCKDB,
            help=_("计算引擎（默认 duckdb）"),
        )
        parser.add_argument(
            "--rules",
            default="",
            help=_("只运行这些规则（代码，逗号分隔）；省略则运行全部启用的规则"),
        )
        parser.add_argument(
            "--period", default=None, help=_("比对期别 YYYY-MM；默认为最近导入数据的期别")
        )
        parser.add_argument("--user", default=None, help=_("以该用户身份发起（记入审计日志）"))

    def handle(
        self,
        *args: Any,
        engine: str,
        rules: str,
        period: str | None,
        user: str | None,
        **options: Any,
    ) -> None:
        out = Console(
            file=getattr(self.stdout, "_out", self.stdout), highlight=False, soft_wrap=True
        )
        actor = None
        if user:
            try:
                actor = User.objects.get(username=user)
            except User.DoesNotExist:
                raise CommandError(_("用户“%(name)s”不存在") % {"name": user}) from None
        slugs = [s.strip() for s in rules.split(",") if s.strip()] or None
        try:
            run = screening_run(
                actor=actor,
                engine=engine,
                period=period,
                rule_slugs=slugs,
                trigger=RunTrigger.COMMAND,
            )
        except (ApplicationError, EngineUnavailable) as exc:
            raise CommandError(getattr(exc, "message", None) or str(exc)) from None
        table = Table(
            title=_("比对运行 #%(id)d（%(period)s，%(engine)s）")
            % {"id": run.pk, "period": run.period, "engine": run.get_engine_display()}
        )
        table.add_column(_("规则"))
        table.add_column(_("命中"), justify="right")
        table.add_column(_("新增预警"), justify="right")
        table.add_column(_("已有"), justify="right")
        for slug, counts in sorted(run.counts.items()):
            if "error" in counts:
                table.add_row(slug, "—", "—", counts["error"])
                continue
            table.add_row(
                slug,
                str(counts["matches"]),
                str(counts["new"]),
                str(counts["existing"] + counts["updated"]),
            )
        out.print(table)
        out.print(
            _(
                "在册 %(persons)d 人、%(households)d 户，部门数据 %(rows)d 行；新增预警 %(new)d 条，已有 %(old)d 条；用时 %(seconds).2f 秒"
            )
            % {
                "persons": run.persons,
                "households": run.households,
                "rows": run.feed_rows,
                "new": run.alerts_new,
                "old": run.alerts_existing,
                "seconds": run.duration_ms / 1000,
            }
        )
        if run.message:
            out.print(run.message)
