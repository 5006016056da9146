import pytest

from shouwang.core.choices import DivisionLevel
from shouwang.core.divisions import divisions_load_county
from shouwang.core.exceptions import ApplicationError
from shouwang.core.models import Division

pytestmark = pytest.mark.django_db


def test_wulong_has_its_townships_and_villages():
    wulong = Division.objects.get(code="500156000000")
    assert wulong.name == "武隆区"
    assert wulong.parent.parent.name == "重庆市"
    townships = Division.objects.filter(parent=wulong)
    assert townships.count() == 26
    assert (
        Division.objects.filter(level=DivisionLevel.VILLAGE, code__startswith="500156").count()
        == 214
    )
    huolu = Division.objects.get(code="500156104000")
    assert (
        huolu.name == "火炉镇"
        and huolu.level == DivisionLevel.TOWNSHIP
        and huolu.prefix == "500156104"
    )


def test_loading_again_changes_nothing():
    before = Division.objects.count()
    result = divisions_load_county(county_code="500156", actor=None)
    assert result.created == 0
    assert (result.townships, result.villages) == (26, 214)
    assert Division.objects.count() == before


def test_another_county_loads_beside_wulong():
    result = divisions_load_county(county_code="500101", actor=None)  # 万州区
    assert result.county.name == "万州区"
    assert result.villages > 0
    assert Division.objects.filter(code="500000000000").count() == 1


@pytest.mark.parametrize("code", ["5001", "abcdef", "999999"])
def test_bad_county_codes_are_refused_in_chinese(code):
    with pytest.raises(ApplicationError) as info:
        divisions_load_county(county_code=code, actor=None)
    assert "区县" in info.value.message
