"""The registry's spreadsheet layout: one ordered list of columns, as the national monitoring
system's 监测对象信息 export names them.

One row per member; household-level columns are repeated on every member row. Each column
maps a Chinese header to a model field (or to one of a few pseudo-fields such as the village
code or the ID number) and carries a converter that turns a cell into a clean Python value
(raising ``CellError`` with a Chinese reason) and a value back into a cell.

Headers and choice labels are taken from the models' ``verbose_name`` and ``choices``, read
with translation switched off so the file layout does not depend on the active language.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

from shouwang.core.choices import DivisionLevel
from shouwang.core.idnumber import (
    EXCEL_FIX_HINT,
    SCIENTIFIC_NOTATION,
    IdNumber,
    IdNumberError,
    parse_id_number,
)
from shouwang.registry.choices import RISK_TYPE_ALIASES
from shouwang.registry.models import RISK_FIELDS, Household, Member

#: What a spreadsheet or CSV reader hands over for one cell.
Cell = str | float | int | bool | dt.date | dt.datetime | dt.time | dt.timedelta | None

HOUSEHOLD = "household"
MEMBER = "member"

#: Floats at or above this may have lost digits in Excel (15 significant digits are kept).
_EXACT_FLOAT_LIMIT = 1e15
#: How Excel shows a long number: one digit, decimals, ``E+`` and the exponent (``5.00156E+17``).
_MONTH = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})月?$", re.ASCII)
_INTEGER = re.compile(r"^[+-]?\d{1,9}(\.0+)?$", re.ASCII)
#: Characters that make a spreadsheet treat a text cell as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

TRUE_LABEL = "是"
FALSE_LABEL = "否"


class CellError(ValueError):
    """A cell cannot be converted; ``message`` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def cell_text(cell: Cell) -> str:
    """The text a user sees in the cell, trimmed; integral numbers without ``.0``."""
    if type(cell) is str:  # the common case first: this runs for every cell of every row
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, bool):
        return TRUE_LABEL if cell else FALSE_LABEL
    if isinstance(cell, float):
        if math.isfinite(cell) and cell.is_integer() and abs(cell) < _EXACT_FLOAT_LIMIT:
            return str(int(cell))
        return repr(cell)
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    return str(cell).strip()


def is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def unescape_formula(text: str) -> str:
    """Undo the ``'`` that CSV export puts before text starting like a formula."""
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


def escape_formula(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _ascii_text(cell: Cell) -> str:
    """Cell text with full-width digits and letters (typed with a Chinese IME) made ASCII."""
    return unicodedata.normalize("NFKC", cell_text(cell)).replace(" ", "")


class Converter:
    """Turns cells into values (``parse``) and values into cells (``to_cell``/``to_text``)."""

    #: Written as a text cell in xlsx so Excel keeps leading zeros and all 18 digits.
    text_cell = False
    #: Written as a number cell in xlsx.
    number_cell = False

    def parse(self, cell: Cell) -> Any:
        raise NotImplementedError

    def to_cell(self, value: Any) -> str | int | float:
        return "" if value is None else str(value)

    def to_text(self, value: Any) -> str:
        return str(self.to_cell(value))


class Text(Converter):
    """Free text (names, the relocation site, a grid member's username)."""

    def __init__(self, *, required: bool) -> None:
        self.required = required

    def parse(self, cell: Cell) -> str:
        text = unescape_formula(cell_text(cell))
        if not text and self.required:
            raise CellError(_("不能为空"))
        return text

    def to_text(self, value: Any) -> str:
        return escape_formula(str(value or ""))


class Code(Converter):
    """Identifiers made of digits (household number, phone): kept as text, Excel damage refused."""

    text_cell = True

    def __init__(self, *, required: bool, digits: int | None = None, label: str = "") -> None:
        self.required = required
        self.digits = digits
        self.label = label

    def parse(self, cell: Cell) -> str:
        if isinstance(cell, float) and not (
            math.isfinite(cell) and cell.is_integer() and abs(cell) < _EXACT_FLOAT_LIMIT
        ):
            raise CellError(
                _("被 Excel 存成了数字，末几位可能已丢失；%(hint)s") % {"hint": EXCEL_FIX_HINT}
            )
        text = _ascii_text(cell)
        if SCIENTIFIC_NOTATION.match(text):
            raise CellError(
                _("“%(value)s”被 Excel 转成了科学计数法，末几位已丢失；%(hint)s")
                % {"value": text, "hint": EXCEL_FIX_HINT}
            )
        if self.label and "*" in text:
            raise CellError(
                _("%(label)s已脱敏（含 *），无法导入；请填写完整号码") % {"label": self.label}
            )
        text = unescape_formula(text)
        if not text:
            if self.required:
                raise CellError(_("不能为空"))
            return ""
        if self.digits is not None and not (
            text.isascii() and text.isdigit() and len(text) == self.digits
        ):
            raise CellError(
                _("应为 %(digits)d 位数字，实为“%(value)s”")
                % {"digits": self.digits, "value": text}
            )
        return text


class Choice(Converter):
    """A choice written by its Chinese label; aliases and the stored value are accepted too."""

    def __init__(self, field: models.Field, *, aliases: Mapping[str, str] | None = None) -> None:
        self.required = not field.blank
        self.labels = {str(value): str(label) for value, label in field.choices or ()}
        self.lookup = {value: value for value in self.labels}
        self.lookup.update({str(k): str(v) for k, v in (aliases or {}).items()})
        self.lookup.update({label: value for value, label in self.labels.items()})

    def parse(self, cell: Cell) -> str:
        text = cell.strip() if type(cell) is str else cell_text(cell)
        value = self.lookup.get(text)
        if value is not None:
            return value
        if not text:
            if self.required:
                raise CellError(_("不能为空"))
            return ""
        try:
            return self.lookup[text]
        except KeyError:
            raise CellError(
                _("“%(value)s”不是可选值；可选：%(options)s")
                % {"value": text, "options": "、".join(self.labels.values())}
            ) from None

    def to_cell(self, value: Any) -> str:
        return self.labels.get(str(value), str(value)) if value else ""


class Boolean(Converter):
    def parse(self, cell: Cell) -> bool:
        if isinstance(cell, bool):
            return cell
        text = cell_text(cell)
        if text == TRUE_LABEL:
            return True
        if text == FALSE_LABEL:
            return False
        raise CellError(_("请填写“是”或“否”"))

    def to_cell(self, value: Any) -> str:
        return TRUE_LABEL if value else FALSE_LABEL


class Money(Converter):
    """An amount in yuan; a blank cell is 0. Precision is checked by the model field."""

    number_cell = True

    def parse(self, cell: Cell) -> Decimal:
        if isinstance(cell, bool):
            raise CellError(_("“%(value)s”不是有效的金额") % {"value": cell_text(cell)})
        if isinstance(cell, float):
            if not math.isfinite(cell):
                raise CellError(_("“%(value)s”不是有效的金额") % {"value": cell_text(cell)})
            return Decimal(repr(cell))
        if isinstance(cell, int):
            return Decimal(cell)
        text = _ascii_text(cell).replace(",", "")
        if not text:
            return Decimal("0")
        try:
            value = Decimal(text)
        except (InvalidOperation, ValueError):
            raise CellError(_("“%(value)s”不是有效的金额") % {"value": text}) from None
        if not value.is_finite():
            raise CellError(_("“%(value)s”不是有效的金额") % {"value": text})
        return value

    def to_cell(self, value: Any) -> float:
        return float(value or 0)

    def to_text(self, value: Any) -> str:
        return str(value if value is not None else Decimal("0"))


class Month(Converter):
    """A month as YYYYMM; date cells and ``2024-03`` / ``2024年3月`` are accepted."""

    text_cell = True

    def parse(self, cell: Cell) -> str:
        if isinstance(cell, (dt.date, dt.datetime)):
            return f"{cell.year:04d}{cell.month:02d}"
        if isinstance(cell, float) and not cell.is_integer():
            raise CellError(_("请按 YYYYMM 填写年月，例如 202403"))
        text = _ascii_text(cell)
        if not text:
            return ""
        match = _MONTH.match(text)
        if match is None:
            raise CellError(_("请按 YYYYMM 填写年月，例如 202403"))
        return f"{int(match.group(1)):04d}{int(match.group(2)):02d}"


class Integer(Converter):
    number_cell = True

    def __init__(self, *, default: int | None) -> None:
        self.default = default

    def parse(self, cell: Cell) -> int:
        if isinstance(cell, float) and cell.is_integer() and math.isfinite(cell):
            return int(cell)
        text = _ascii_text(cell)
        if not text:
            if self.default is None:
                raise CellError(_("不能为空"))
            return self.default
        if not _INTEGER.match(text):
            raise CellError(_("“%(value)s”不是有效的整数") % {"value": text})
        return int(text.split(".")[0])

    def to_cell(self, value: Any) -> int:
        return int(value or 0)


class IdNumberCell(Converter):
    """A resident ID number; the raw cell goes to parse_id_number, which explains Excel damage."""

    text_cell = True

    def parse(self, cell: Cell) -> IdNumber:
        if isinstance(cell, str):
            cell = unicodedata.normalize("NFKC", cell).strip()
            if "*" in cell:
                raise CellError(masked_id_message())
            if not cell.isascii():
                raise CellError(_("证件号码含有无法识别的字符"))
        elif isinstance(cell, bool) or isinstance(cell, (dt.date, dt.time, dt.timedelta)):
            raise CellError(_("“%(value)s”不是身份证号码") % {"value": cell_text(cell)})
        try:
            return parse_id_number(cell)
        except IdNumberError as exc:
            raise CellError(str(exc)) from None

    def to_cell(self, value: Any) -> str:
        return str(value or "")


class DateCell(Converter):
    """Export only (birth dates): ISO text, which Excel and people both read."""

    text_cell = True

    def to_cell(self, value: Any) -> str:
        return value.isoformat() if value else ""


#: Statistical names of villages end in the committee's name; files use the short name.
_COMMITTEE_SUFFIXES = (("村民委员会", "村"), ("村委会", "村"), ("居民委员会", ""), ("居委会", ""))


def division_short_name(name: str) -> str:
    """``向前村村民委员会`` → ``向前村``, ``张家村委会`` → ``张家村``, ``火炉社区居民委员会`` → ``火炉社区``."""
    for suffix, kind in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            return base if base.endswith(kind) else base + kind
    return name


def masked_id_message() -> str:
    return _(
        "证件号码已脱敏（含 *），不能用于导入；请使用“含完整证件号码”导出的文件，或录入完整号码"
    )


@dataclass(frozen=True)
class Column:
    header: str
    #: A model field name, or one of the pseudo-fields ``village_id``, ``township_name``,
    #: ``village_name``, ``phone``, ``grid_member`` (a username) and ``id_number``.
    field: str
    level: str
    converter: Converter
    #: False for columns written on export and ignored on import (derived values).
    importable: bool = True
    #: An import file must have the column (the division names are optional: checked if present).
    required: bool = True


def _converter_for(field: models.Field) -> Converter:
    if field.choices:
        return Choice(field, aliases=RISK_TYPE_ALIASES if field.name in RISK_FIELDS else None)
    if isinstance(field, models.BooleanField):
        return Boolean()
    if isinstance(field, models.DecimalField):
        return Money()
    if isinstance(field, models.DateField):
        return DateCell()
    if isinstance(field, models.PositiveSmallIntegerField):
        default = field.default if isinstance(field.default, int) else None
        return Integer(default=default)
    if field.name.endswith("_month"):
        return Month()
    return Text(required=not field.blank)


def _build_columns() -> tuple[Column, ...]:
    def household(name: str, converter: Converter | None = None, **kwargs: Any) -> Column:
        field = Household._meta.get_field(name)
        return Column(
            str(field.verbose_name), name, HOUSEHOLD, converter or _converter_for(field), **kwargs
        )

    def member(name: str, converter: Converter | None = None, **kwargs: Any) -> Column:
        field = Member._meta.get_field(name)
        return Column(
            str(field.verbose_name), name, MEMBER, converter or _converter_for(field), **kwargs
        )

    village = Household._meta.get_field("village")
    phone = Household._meta.get_field("phone_masked")
    id_number = Member._meta.get_field("id_number_masked")
    return (
        household("household_number", Code(required=True)),
        Column("行政区划代码", "village_id", HOUSEHOLD, Code(required=True, digits=12)),
        Column(
            str(DivisionLevel.TOWNSHIP.label),
            "township_name",
            HOUSEHOLD,
            Text(required=False),
            required=False,
        ),
        Column(
            str(village.verbose_name),
            "village_name",
            HOUSEHOLD,
            Text(required=False),
            required=False,
        ),
        household("household_type"),
        household("monitoring_category"),
        household("monitoring_status"),
        household("identified_month"),
        household("elimination_method"),
        household("eliminated_month"),
        *(household(name) for name in RISK_FIELDS),
        Column(
            str(phone.verbose_name),
            "phone",
            HOUSEHOLD,
            Code(required=False, label=str(phone.verbose_name)),
        ),
        household("income_year"),
        household("wage_income"),
        household("operating_income"),
        household("property_income"),
        household("transfer_income"),
        household("productive_expenses"),
        household("per_capita_net_income", importable=False),
        household("compliant_out_of_pocket"),
        household("housing_secure"),
        household("drinking_water_secure"),
        household("relocated"),
        household("relocation_site"),
        household("relocation_mode"),
        household("grid_member", Text(required=False)),
        member("name"),
        Column(str(id_number.verbose_name), "id_number", MEMBER, IdNumberCell()),
        member("sex", importable=False),
        member("birth_date", importable=False),
        member("relation"),
        member("ethnicity"),
        member("education"),
        member("school_status"),
        member("health_status"),
        member("disability_grade"),
        member("disability_type"),
        member("labour_skill"),
        member("employment_status"),
        member("months_employed"),
        member("has_basic_medical_insurance"),
        member("has_critical_illness_insurance"),
        member("has_pension_insurance"),
        member("social_assistance"),
    )


with translation.override(None):
    #: The layout, in file order.
    COLUMNS: tuple[Column, ...] = _build_columns()

IMPORT_COLUMNS = tuple(c for c in COLUMNS if c.importable)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}
#: Model field names (as full_clean reports them) → the header to show with the error.
FIELD_HEADERS = {
    **{c.field: c.header for c in COLUMNS},
    "village": COLUMN_BY_FIELD["village_id"].header,
    "household_number": COLUMN_BY_FIELD["household_number"].header,
}
#: Header spellings found in other systems' exports → the field they stand for.
HEADER_ALIASES = {"身份证号码": "id_number", "身份证号": "id_number", "区划代码": "village_id"}


def header_key(text: object) -> str:
    """A header as compared: half-width, no spaces or line breaks, no ``*`` required-marker."""
    key = unicodedata.normalize("NFKC", str(text))
    key = "".join(key.split()).lstrip("*")
    return key


HEADER_LOOKUP: dict[str, Column] = {header_key(c.header): c for c in COLUMNS}
HEADER_LOOKUP.update(
    {header_key(alias): COLUMN_BY_FIELD[field] for alias, field in HEADER_ALIASES.items()}
)
