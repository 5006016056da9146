import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db


def test_form_pages_cancel_back_to_where_the_user_came_from(client, village_cadre):
    household = f.make_household(members=1)
    member = household.members.get()
    client.force_login(village_cadre)
    detail = reverse("registry:household_detail", args=[household.pk])
    cases = [
        (reverse("registry:household_create"), reverse("registry:household_list")),
        (reverse("registry:household_edit", args=[household.pk]), detail),
        (reverse("registry:member_create", args=[household.pk]), detail),
        (reverse("registry:member_edit", args=[member.pk]), detail),
    ]
    for url, cancel in cases:
        html = client.get(url).content.decode()
        assert f'<a class="button" href="{cancel}">取消</a>' in html, url
        assert 'type="submit"' in html
