from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from shouwang.core import crypto
from shouwang.core.exceptions import PermissionDenied
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as c
from shouwang.registry.services import (
    household_delete,
    household_update,
    member_create,
    member_reveal_id_number,
    member_update,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_member_id_number_is_encrypted_indexed_masked_and_derives_sex():
    household = f.make_household(members=0)
    member = f.make_member(household, id_number="11010519491231002X", name="李四")
    assert "11010519491231002X" not in member.id_number_encrypted
    assert crypto.decrypt(member.id_number_encrypted) == "11010519491231002X"
    assert member.id_number_index == crypto.blind_index("11010519491231002X")
    assert member.id_number_masked == "110105********002X"
    assert member.sex == c.Sex.FEMALE
    assert str(member.birth_date) == "1949-12-31"


def test_per_capita_income_follows_members_and_incomes():
    household = f.make_household(members=2)
    # (30000 + 5000 + 0 + 2000 - 0) / 2
    assert household.per_capita_net_income == Decimal("18500.00")
    assert household.member_count == 2
    assert household.head_name == "成员0"
    household = household_update(
        actor=None, household=household, data={"productive_expenses": Decimal("7000")}
    )
    assert household.per_capita_net_income == Decimal("15000.00")


def test_changes_are_audited_with_before_and_after(village_cadre):
    household = f.make_household(members=1)
    member = household.members.get()
    member_update(actor=village_cadre, member=member, data={"labour_skill": c.LabourSkill.WEAK})
    event = AuditEvent.objects.filter(action="update", target_type="registry.member").get()
    assert event.actor == village_cadre
    assert event.before["labour_skill"] == "ordinary"
    assert event.after["labour_skill"] == "weak"
    assert event.subject == f"registry.household:{household.pk}"
    assert "id_number_encrypted" not in event.after


def test_duplicate_id_number_is_refused():
    household = f.make_household(members=0)
    f.make_member(household, id_number="11010519491231002X")
    with pytest.raises(ValidationError) as info:
        member_create(
            actor=None,
            household=household,
            id_number="11010519491231002X",
            data={
                "name": "王五",
                "relation": c.Relation.SON,
                "education": c.Education.PRIMARY,
                "labour_skill": c.LabourSkill.NONE,
            },
        )
    assert "已登记" in str(info.value)


def test_monitored_household_needs_category_and_risk():
    household = f.make_household(members=1)
    with pytest.raises(ValidationError) as info:
        household_update(
            actor=None,
            household=household,
            data={"monitoring_status": c.MonitoringStatus.RISK_UNRESOLVED},
        )
    assert "monitoring_category" in info.value.message_dict


def test_actor_outside_area_cannot_edit(village_cadre):
    other = f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1)
    with pytest.raises(PermissionDenied):
        household_update(actor=village_cadre, household=other, data={"wage_income": Decimal("1")})
    with pytest.raises(PermissionDenied):
        household_delete(actor=village_cadre, household=other)


def test_reveal_needs_permission_and_is_logged(village_cadre, district_admin):
    household = f.make_household(members=1)
    member = household.members.get()
    with pytest.raises(PermissionDenied):
        member_reveal_id_number(actor=village_cadre, member=member)
    full = member_reveal_id_number(actor=district_admin, member=member)
    assert len(full) == 18 and full.endswith(member.id_number_masked[-4:])
    assert AuditEvent.objects.filter(action="reveal", actor=district_admin).count() == 1


def test_sm4_and_sm3_round_trip(settings):
    settings.SHOUWANG_CIPHER = "sm4-gcm"
    settings.SHOUWANG_BLIND_INDEX = "hmac-sm3"
    token = crypto.encrypt("500156199001011234")
    assert token.startswith("sm4-gcm:")
    assert crypto.decrypt(token) == "500156199001011234"
    assert crypto.blind_index("500156199001011234") != ""
    settings.SHOUWANG_CIPHER = "aes-256-gcm"
    # Old SM4 rows stay readable after switching back.
    assert crypto.decrypt(token) == "500156199001011234"


def test_tampered_ciphertext_fails():
    token = crypto.encrypt("13912345678")
    name, payload = token.split(":")
    broken = name + ":" + payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(broken)


def test_grid_member_must_cover_the_village(village_cadre, township_staff):
    household = f.make_household(f.VILLAGE_B, members=1)
    with pytest.raises(ValidationError) as info:
        household_update(actor=None, household=household, data={"grid_member": village_cadre})
    assert "网格员" in str(info.value)
    household = household_update(
        actor=None, household=household, data={"grid_member": township_staff}
    )
    assert household.grid_member == township_staff


def test_second_head_is_refused_with_a_clear_reason():
    household = f.make_household(members=1)
    with pytest.raises(ValidationError) as info:
        f.make_member(household, relation=c.Relation.HEAD, name="又一个户主")
    assert "每户只能有一名户主" in str(info.value)
