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
        Parameter(
            "identification_limit_days",
            _("识别办结时限"),
            _("天"),
            False,
            _("从发现风险线索到完成识别（区县审定）的自然日天数，含公示期。"),
        ),
        Parameter(
            "notice_days",
            _("村级公示天数"),
            _("天"),
            False,
            _("村内公示的最少天数；公示期满前流程不能进入乡镇审核。"),
        ),
        Parameter(
            "home_visit_working_days",
            _("入户核实时限（工作日）"),
            _("工作日"),
            False,
            _(
                "可选：启动识别后须在多少个工作日内完成入户核实（按国家法定节假日和调休计算）。不设置则只看总时限。"
            ),
        ),
        Parameter(
            "township_review_working_days",
            _("乡镇审核时限（工作日）"),
            _("工作日"),
            False,
            _("可选：公示期满后乡镇（街道）须在多少个工作日内完成联合审核。"),
        ),
        Parameter(
            "district_decision_working_days",
            _("区县审定时限（工作日）"),
            _("工作日"),
            False,
            _("可选：乡镇审核同意后区县须在多少个工作日内审定。"),
        ),
        Parameter(
            "elimination_min_months",
            _("风险消除最短监测月数"),
            _("个月"),
            False,
            _("识别纳入监测后至少满多少个月才能提名风险消除。"),
        ),
        Parameter(
            "visit_record_required",
            _("入户核实须上传签字的核实记录"),
            _("1 为必须，0 为不要求"),
            False,
            _("为 1 时，入户核实须先在流程附件中上传农户和核实人员签字的入户核实记录。"),
        ),
        Parameter(
            "notice_photo_required",
            _("公示结束须上传公示照片"),
            _("1 为必须，0 为不要求"),
            False,
            _("为 1 时，结束公示、提交乡镇审核前须在流程附件中上传公示期间拍摄的公示照片。"),
        ),
        Parameter(
            "monthly_meeting_day",
            _("村月工作会议截止日"),
            _("日"),
            False,
            _("各村每月须在这一天之前召开防止返贫动态监测与帮扶月工作会议。"),
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
    DefaultValue(
        "identification_limit_days",
        Decimal(15),
        None,
        source="http://www.qinan.gov.cn/info/11792/1360362.htm",
        note="从发现风险线索到完成识别原则上不超过 15 天（含不少于 5 天的公示）",
    ),
    DefaultValue(
        "notice_days",
        Decimal(5),
        None,
        source="http://www.qinan.gov.cn/info/11792/1360362.htm",
        note="村内公示不少于 5 天，只公示一次",
    ),
    DefaultValue(
        "elimination_min_months",
        Decimal(6),
        None,
        source="https://www.yjq.gov.cn/openness/grassroots/6603431/39287644.html",
        note="识别满 6 个月且至少落实一项帮扶措施（安徽地方规定；重庆未经核实，请按市级文件修改）",
    ),
    DefaultValue(
        "monthly_meeting_day",
        Decimal(10),
        None,
        source="《武隆区巩固拓展脱贫攻坚成果同乡村振兴有效衔接实施规划（2021—2025年）》：各村委会每月初必须召开防止返贫动态监测与帮扶月工作会议",
        note="规划要求“每月初”召开，默认每月 10 日前完成，可按区里要求调整",
    ),
    DefaultValue(
        "visit_record_required",
        Decimal(1),
        None,
        source="",
        note="入户核实记录由农户和核实人员签字，作为识别和风险消除的档案材料；各省可按本省要求改为 0",
    ),
    DefaultValue(
        "notice_photo_required",
        Decimal(1),
        None,
        source="",
        note="村内公示须留存公示照片备查；各省可按本省要求改为 0",
    ),
)
