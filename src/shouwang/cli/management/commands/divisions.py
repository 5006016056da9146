"""``shouwang divisions load COUNTY``: load a county's division tree from the NBS 2023 data."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from shouwang.core.divisions import divisions_load_county
from shouwang.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "加载统计用区划代码（2023）"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="加载一个区县及其全部乡镇、村（社区）")
        load.add_argument("county", help="6 位区县代码，例如 500156（武隆区）")

    def handle(self, *args, action: str, county: str, **options):
        try:
            result = divisions_load_county(county_code=county, actor=None)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            f"已加载 {result.county.name}（{result.county.code}）：乡镇（街道）{result.townships} 个，"
            f"村（社区）{result.villages} 个，新增 {result.created} 条"
        )
