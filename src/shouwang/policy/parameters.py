"""The policy parameters Shouwang knows, with sourced default values (domain.md §2, §5).

Defaults seed the ``PolicyValue`` table on migrate; administrators then own the rows. Figures
not confirmed for Chongqing say so in their note, so a district knows what to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

CHONGQING = "500000000000"


@dataclass(frozen=True)
class Parameter:
    key: str
    label: str
    unit: str
    per_year: bool
    description: str


@dataclass(frozen=True)
class DefaultValue:
    parameter: str
    value: Decimal
    year: int | None = None
    division: str | None = None
    source: str = ""
    note: str = ""


PARAMETERS: dict[str, Parameter] = {
    p.key: p
    for p in (
        Parameter(
            "monitoring_line",
            _("防止返贫监测范围（人均纯收入）"),
            _("元/人·年"),
            True,
            _("各省每年确定的监测范围；人均纯收入低于此线且有风险的农户纳入监测。"),
        ),
        Parameter(
            "rural_disposable_income",
            _("农村居民人均可支配收入"),
            _("元/人·年"),
            True,
            _("统计部门公布的年度数据，医疗自付等阈值按其比例计算。"),
        ),
        Parameter(
            "screening_day",
            _("每月自动比对日"),
            _("日"),
            False,
            _("每月这一天自动运行全部启用规则（医保等部门在每月 5 日前推送数据）。"),
        ),
    )
}

_NBS_2024 = "国家统计局《2024年国民经济和社会发展统计公报》https://www.stats.gov.cn/sj/zxfb/202502/t20250228_1958817.html"
_NBS_2023 = "国家统计局《2023年国民经济和社会发展统计公报》https://www.stats.gov.cn/sj/zxfb/202402/t20240228_1947915.html"
_NBS_2022 = "国家统计局《2022年国民经济和社会发展统计公报》https://www.stats.gov.cn/sj/zxfb/202302/t20230228_1919011.html"
_UNCONFIRMED = "重庆市当年数值未经核实，请按市级文件修改"

DEFAULT_VALUES: tuple[DefaultValue, ...] = (
    DefaultValue(
        "monitoring_line",
        Decimal(6000),
        2021,
        source="http://www.jingbian.gov.cn/zwgk/zcjd/wzjd/1496737812254937089.html",
        note="2021 年全国底线标准（脱贫攻坚期扶贫标准的 1.5 倍）",
    ),
    DefaultValue(
        "monitoring_line",
        Decimal(6500),
        2022,
        source="http://117.156.67.38/mobile/zwgk-view/27986.html",
        note=_UNCONFIRMED,
    ),
    DefaultValue(
        "monitoring_line",
        Decimal(7600),
        2023,
        source="https://mini.eastday.com/mobile/230510132351236601896.html",
        note=_UNCONFIRMED,
    ),
    DefaultValue(
        "monitoring_line",
        Decimal(8800),
        2024,
        source="https://m.jiusongjiankang.com/health/news/4933292.html",
        note=_UNCONFIRMED,
    ),
    DefaultValue(
        "monitoring_line",
        Decimal(8700),
        2025,
        source="云农办通〔2025〕1号 https://www.qrrfcrh.cn/zfxxgk_zkx_fwz/artview/1185/326180.html",
        note=_UNCONFIRMED + "；2026 年起沿用至公布新值",
    ),
    DefaultValue(
        "rural_disposable_income",
        Decimal(20133),
        2022,
        source=_NBS_2022,
        note="全国农村居民人均可支配收入；可按重庆市数值覆盖",
    ),
    DefaultValue(
        "rural_disposable_income",
        Decimal(21691),
        2023,
        source=_NBS_2023,
        note="全国农村居民人均可支配收入；可按重庆市数值覆盖",
    ),
    DefaultValue(
        "rural_disposable_income",
        Decimal(23119),
        2024,
        source=_NBS_2024,
        note="全国农村居民人均可支配收入；可按重庆市数值覆盖",
    ),
    DefaultValue(
        "screening_day",
        Decimal(6),
        None,
        source="https://xiexiebang.com/a5/c1b3fc008528046d.html",
        note="医保局每月 5 日前推送数据，次日比对",
    ),
)
