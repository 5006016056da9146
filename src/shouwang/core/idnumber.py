"""Resident ID numbers (居民身份证号码), GB 11643-1999.

18 characters: a 6-digit address code (GB/T 2260), the birth date YYYYMMDD, a 3-digit sequence
(odd for men, even for women) and an ISO 7064 MOD 11-2 check character. An ID keeps the county
code in force when it was issued, so only the province part of the address code is checked.
Excel damage is recognised and explained: a column of IDs formatted as numbers shows them in
scientific notation, and keeps only 15 significant digits, so the last three become ``000``.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
#: Taiwan, Hong Kong and Macau residents' codes are not in the NBS list but appear in IDs.
EXTRA_PROVINCES = frozenset({"71", "81", "82", "83"})
EARLIEST_BIRTH_YEAR = 1850

SCIENTIFIC_NOTATION = re.compile(r"^\s*\d(\.\d+)?[eE]\+?\d+\s*$", re.ASCII)
_DIGITS_WITH_DECIMAL = re.compile(r"^\d{15,18}\.0+$", re.ASCII)
_SHAPE = re.compile(r"^\d{17}[\dX]$", re.ASCII)  # ASCII: no Arabic-Indic or full-width digits

EXCEL_FIX_HINT = gettext_lazy("请在 Excel 中把该列设置为“文本”格式后重新录入完整号码")


class IdNumberError(ValueError):
    """The value is not a valid resident ID number; the message says why, in Chinese."""


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: dt.date
    sex: str  # "male" or "female"

    @property
    def address_code(self) -> str:
        return self.value[:6]


@functools.cache
def province_codes() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "divisions" / "provinces.csv"
    with path.open(encoding="utf-8") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle)) | EXTRA_PROVINCES


def check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def parse_id_number(raw: object, *, today: dt.date | None = None) -> IdNumber:
    """Validate and normalise an ID number, deriving birth date and sex.

    Raises IdNumberError with a Chinese message naming the problem.
    """
    if raw is None:
        raise IdNumberError(_("身份证号码为空"))
    if isinstance(raw, float):
        raise IdNumberError(
            _("身份证号码被 Excel 存成了数字，后几位已丢失；%(hint)s") % {"hint": EXCEL_FIX_HINT}
        )
    text = str(raw).strip().replace(" ", "")
    if not text:
        raise IdNumberError(_("身份证号码为空"))
    if SCIENTIFIC_NOTATION.match(text):
        raise IdNumberError(
            _("身份证号码“%(value)s”被 Excel 转成了科学计数法，后几位已丢失；%(hint)s")
            % {"value": text, "hint": EXCEL_FIX_HINT}
        )
    if _DIGITS_WITH_DECIMAL.match(text):
        raise IdNumberError(
            _("身份证号码被 Excel 存成了数字（带小数点）；%(hint)s") % {"hint": EXCEL_FIX_HINT}
        )
    if text.endswith("x"):
        text = text[:-1] + "X"
    if len(text) != 18:
        raise IdNumberError(_("身份证号码应为 18 位，实际为 %(count)d 位") % {"count": len(text)})
    if not _SHAPE.match(text):
        raise IdNumberError(_("身份证号码前 17 位应为数字，最后一位为数字或 X"))
    if text[:2] not in province_codes():
        raise IdNumberError(_("身份证号码的地址码“%(code)s”不属于任何省份") % {"code": text[:6]})
    try:
        birth = dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise IdNumberError(
            _("身份证号码中的出生日期“%(date)s”不是有效日期") % {"date": text[6:14]}
        ) from None
    today = today or timezone.localdate()
    if birth > today:
        raise IdNumberError(_("身份证号码中的出生日期“%(date)s”晚于今天") % {"date": text[6:14]})
    if birth.year < EARLIEST_BIRTH_YEAR:
        raise IdNumberError(_("身份证号码中的出生年份 %(year)d 不合理") % {"year": birth.year})
    expected = check_character(text[:17])
    if text[17] != expected:
        if text.endswith("000"):
            raise IdNumberError(
                _("身份证号码校验位不符，且末三位为 000：很可能被 Excel 当作数字截断了；%(hint)s")
                % {"hint": EXCEL_FIX_HINT}
            )
        raise IdNumberError(_("身份证号码校验位错误（应为 %(expected)s）") % {"expected": expected})
    sex = "male" if int(text[16]) % 2 == 1 else "female"
    return IdNumber(value=text, birth_date=birth, sex=sex)


def make_id_number(address_code: str, birth: dt.date, sequence: int) -> str:
    """Build a valid ID number (for the demo district and tests)."""
    first17 = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
