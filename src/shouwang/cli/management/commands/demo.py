"""``shouwang demo``: build the Wulong demo district (divisions, demo accounts, synthetic registry,
department feeds and a first screening run)."""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from shouwang.assistance.demo import DemoAssistanceResult, demo_assistance_build
from shouwang.cases.demo import DemoCasesResult, demo_cases_build
from shouwang.core.exceptions import ApplicationError
from shouwang.registry.demo import DEMO_HOUSEHOLDS, DEMO_SEED, DemoAccountRow, demo_build
from shouwang.screening.demo import DemoFeedsResult, demo_feeds_build


def _migrations_pending() -> bool:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class Command(BaseCommand):
    help = _(
        "生成武隆区演示数据：区划、演示账号、约 1.5 万户合成农户档案、两个月的部门数据和一次比对"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", type=int, default=DEMO_SEED, help=_("随机种子；相同种子生成相同数据")
        )
        parser.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS, help=_("农户数"))
        parser.add_argument("--if-empty", action="store_true", help=_("已有农户时不做任何改动"))
        parser.add_argument(
            "--no-feeds", action="store_true", help=_("只生成农户档案，不生成部门数据、不运行比对")
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=_("数据库已有其他农户或其他种子的演示农户时仍然写入（后者删除后重建）"),
        )

    def handle(
        self,
        *args,
        seed: int,
        households: int,
        if_empty: bool,
        force: bool,
        no_feeds: bool,
        **options,
    ):
        console = Console(file=self.stdout, highlight=False)
        if not console.is_terminal:
            console.width = 120  # rich assumes 80 columns for files and pipes, which cuts the table
        if _migrations_pending():
            # A database never migrated would otherwise end in "no such table".
            console.print(_("数据库尚未初始化或版本较旧，先执行数据库迁移……"))
            call_command("migrate", interactive=False, verbosity=0)
        started = time.monotonic()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=options["verbosity"] == 0 or not console.is_terminal,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def reporter(description: str):
                def report(done: int, total: int) -> None:
                    if (
                        description not in tasks
                    ):  # created on the first report: a skipped step shows no bar
                        tasks[description] = progress.add_task(description, total=total)
                    progress.update(tasks[description], completed=done, total=total)

                return report

            feeds: DemoFeedsResult | None = None
            cases: DemoCasesResult | None = None
            assistance: DemoAssistanceResult | None = None
            try:
                result = demo_build(
                    actor=None,
                    seed=seed,
                    households=households,
                    if_empty=if_empty,
                    force=force,
                    progress=reporter(_("写入农户")),
                )
                registry_seconds = time.monotonic() - started
                if not result.skipped and not no_feeds:
                    feeds = demo_feeds_build(
                        actor=None, seed=seed, progress=reporter(_("导入部门数据并比对"))
                    )
                    cases = demo_cases_build()
                    assistance = demo_assistance_build(
                        seed=seed, progress=reporter(_("制定帮扶计划"))
                    )
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc

        if result.skipped:
            console.print(_("数据库中已有农户，未生成演示数据（--if-empty）。"))
        else:
            bulk = result.bulk
            console.print(
                _(
                    "演示数据：%(households)d 户、%(members)d 人；新增 %(hc)d 户 %(mc)d 人，更新 %(hu)d 户 %(mu)d 人，"
                    "未变 %(hn)d 户 %(mn)d 人；用时 %(seconds).1f 秒"
                )
                % {
                    "households": result.households,
                    "members": result.members,
                    "hc": bulk.households_created,
                    "mc": bulk.members_created,
                    "hu": bulk.households_updated,
                    "mu": bulk.members_updated,
                    "hn": bulk.households_unchanged,
                    "mn": bulk.members_unchanged,
                    "seconds": registry_seconds,
                }
            )
            if result.replaced_households:
                console.print(
                    _("已删除并重建与本次种子不一致的演示农户 %(n)d 户。")
                    % {"n": result.replaced_households}
                )
            if feeds is not None:
                console.print(_feeds_summary(feeds, time.monotonic() - started - registry_seconds))
            if cases is not None and not cases.skipped:
                console.print(
                    _("线索与识别：由向前村的预警生成线索 %(leads)d 条，启动识别 %(cases)d 户")
                    % {"leads": cases.leads, "cases": cases.cases}
                )
            if assistance is not None and not assistance.skipped:
                console.print(
                    _(
                        "帮扶计划：%(plans)d 户 %(measures)d 项措施，已落实 %(delivered)d 项，逾期 %(overdue)d 项；"
                        "社会帮扶资源 %(offers)d 条，待确认对接 %(matches)d 条"
                    )
                    % {
                        "plans": assistance.plans,
                        "measures": assistance.measures,
                        "delivered": assistance.delivered,
                        "overdue": assistance.overdue,
                        "offers": assistance.offers,
                        "matches": assistance.proposed_matches,
                    }
                )
        if result.accounts:
            console.print(_accounts_table(result.accounts))


def _feeds_summary(feeds: DemoFeedsResult, seconds: float) -> str:
    lines = [
        _("部门数据：新导入 %(staged)d 个文件，接收 %(accepted)d 行，拒收 %(rejected)d 行")
        % {
            "staged": feeds.staged,
            "accepted": feeds.rows_accepted,
            "rejected": feeds.rows_rejected,
        }
    ]
    if feeds.already:
        lines[0] += _("；%(n)d 个文件此前已导入，未重复导入") % {"n": feeds.already}
    failed = [f.file_name for f in feeds.files if f.outcome == "failed"]
    if failed:
        lines[0] += _("；未入库：%(files)s") % {"files": "、".join(failed)}
    run = feeds.run
    if run is not None:
        lines.append(
            _("比对运行 #%(id)d（%(period)s）：新增预警 %(new)d 条，已有 %(existing)d 条")
            % {
                "id": run.pk,
                "period": run.period,
                "new": run.alerts_new,
                "existing": run.alerts_existing,
            }
        )
    lines[-1] += _("；用时 %(seconds).1f 秒") % {"seconds": seconds}
    return "\n".join(lines)


def _accounts_table(accounts: list[DemoAccountRow]) -> Table:
    table = Table(title=_("演示账号"))
    for header in (_("用户名"), _("姓名"), _("角色"), _("管辖区域"), _("密码")):
        table.add_column(header, overflow="fold")
    for row in accounts:
        table.add_row(row.username, row.display_name, row.role, row.area, row.password)
    return table
