"""``shouwang demo``: build the Wulong demo district (divisions, demo accounts, synthetic registry)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
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

from shouwang.core.exceptions import ApplicationError
from shouwang.registry.demo import DEMO_HOUSEHOLDS, DEMO_SEED, DemoAccountRow, demo_build


class Command(BaseCommand):
    help = _("生成武隆区演示数据：区划、演示账号和约 1.5 万户合成农户档案")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help=_("随机种子；相同种子生成相同数据"))
        parser.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS, help=_("农户数"))
        parser.add_argument("--if-empty", action="store_true", help=_("已有农户时不做任何改动"))
        parser.add_argument(
            "--force", action="store_true",
            help=_("数据库已有其他农户或其他种子的演示农户时仍然写入（后者删除后重建）"),
        )

    def handle(self, *args, seed: int, households: int, if_empty: bool, force: bool, **options):
        console = Console(file=self.stdout, highlight=False)
        if not console.is_terminal:
            console.width = 120  # rich assumes 80 columns for files and pipes, which cuts the table
        started = time.monotonic()
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=True, disable=options["verbosity"] == 0 or not console.is_terminal,
        ) as progress:
            tasks: list[TaskID] = []

            def report(done: int, total: int) -> None:
                if not tasks:  # created on the first report, so a skipped build shows no bar
                    tasks.append(progress.add_task(_("写入农户"), total=total))
                progress.update(tasks[0], completed=done, total=total)

            try:
                result = demo_build(
                    actor=None, seed=seed, households=households, if_empty=if_empty, force=force, progress=report
                )
            except ApplicationError as exc:
                raise CommandError(exc.message) from exc

        if result.skipped:
            console.print(_("数据库中已有农户，未生成演示数据（--if-empty）。"))
        else:
            bulk = result.bulk
            console.print(
                _("演示数据：%(households)d 户、%(members)d 人；新增 %(hc)d 户 %(mc)d 人，更新 %(hu)d 户 %(mu)d 人，"
                  "未变 %(hn)d 户 %(mn)d 人；用时 %(seconds).1f 秒")
                % {
                    "households": result.households, "members": result.members,
                    "hc": bulk.households_created, "mc": bulk.members_created,
                    "hu": bulk.households_updated, "mu": bulk.members_updated,
                    "hn": bulk.households_unchanged, "mn": bulk.members_unchanged,
                    "seconds": time.monotonic() - started,
                }
            )
            if result.replaced_households:
                console.print(_("已删除并重建与本次种子不一致的演示农户 %(n)d 户。") % {"n": result.replaced_households})
        if result.accounts:
            console.print(_accounts_table(result.accounts))


def _accounts_table(accounts: list[DemoAccountRow]) -> Table:
    table = Table(title=_("演示账号"))
    for header in (_("用户名"), _("姓名"), _("角色"), _("管辖区域"), _("密码")):
        table.add_column(header, overflow="fold")
    for row in accounts:
        table.add_row(row.username, row.display_name, row.role, row.area, row.password)
    return table
