import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shouwang.core.idnumber import IdNumberError, check_character, make_id_number, parse_id_number


@pytest.mark.parametrize("value", ["11010519491231002X", "440524188001010014"])
def test_published_examples_are_valid(value):
    parsed = parse_id_number(value)
    assert parsed.value == value


def test_derives_sex_and_birth_date():
    parsed = parse_id_number("11010519491231002X")
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "female"
    assert parse_id_number("440524188001010014").sex == "male"


def test_retired_county_code_is_still_valid():
    # 440524 (汕头 潮阳县) is gone from the 2023 list but IDs issued under it stay valid.
    assert parse_id_number("440524188001010014").address_code == "440524"


def test_lowercase_x_is_normalised():
    assert parse_id_number("11010519491231002x").value == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("5.00156E+17", "科学计数法"),
        ("5.00156199001011E+17", "科学计数法"),
        (5.00156199001011e17, "数字"),
        ("500156199001011000", "000"),
        ("500156199001011234.0", "小数点"),
    ],
)
def test_excel_damage_is_explained(value, fragment):
    with pytest.raises(IdNumberError) as info:
        parse_id_number(value)
    assert fragment in str(info.value)
    assert "文本" in str(info.value)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "为空"),
        ("5001561990010112", "18 位"),
        ("99015619900101123X", "省份"),
        ("500156199002301231", "有效日期"),
        ("11010519491231002Y", "前 17 位"),
        ("110105194912310021", "校验位"),
    ],
)
def test_invalid_numbers_are_rejected_with_reason(value, fragment):
    with pytest.raises(IdNumberError) as info:
        parse_id_number(value)
    assert fragment in str(info.value)


def test_future_birth_date_is_rejected():
    future = make_id_number("500156", dt.date(2030, 1, 1), 11)
    with pytest.raises(IdNumberError, match="晚于今天"):
        parse_id_number(future, today=dt.date(2026, 11, 28))


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 11, 28)),
    sequence=st.integers(min_value=0, max_value=999),
    address=st.sampled_from(["500156", "110105", "440524", "652901"]),
)
def test_every_built_number_parses_back(birth, sequence, address):
    value = make_id_number(address, birth, sequence)
    parsed = parse_id_number(value, today=dt.date(2026, 11, 28))
    assert parsed.birth_date == birth
    assert parsed.sex == ("male" if sequence % 2 else "female")


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 11, 28)),
    sequence=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_a_single_changed_digit_is_caught(birth, sequence, position, delta):
    value = make_id_number("500156", birth, sequence)
    digits = list(value)
    digits[position] = str((int(digits[position]) + delta) % 10)
    changed = "".join(digits)
    # MOD 11-2 detects every single-digit substitution.
    assert check_character(changed[:17]) != changed[17]
    with pytest.raises(IdNumberError):
        parse_id_number(changed, today=dt.date(2026, 11, 28))


def test_non_ascii_digits_are_not_digits():
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in "11010519491231002") + "X"
    with pytest.raises(IdNumberError):
        parse_id_number(arabic_indic)
