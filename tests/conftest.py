"""Shared fixtures. The test database holds Wulong's divisions, loaded once per session."""

from __future__ import annotations

import pytest

from shouwang.core.choices import Role
from tests import factories as f


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from shouwang.core.divisions import divisions_load_county

    with django_db_blocker.unblock():
        divisions_load_county(county_code="500156", actor=None)


def _ensure_wulong() -> None:
    """Divisions, and what data migrations seed (policy values, feed sources, rules, the
    measure catalogue): a transactional test's flush removes them all."""
    from shouwang.assistance import defaults as assistance_defaults
    from shouwang.assistance.models import Measure, MeasureGroup, RecommendationRule
    from shouwang.core.divisions import divisions_load_county
    from shouwang.core.models import Division
    from shouwang.policy.defaults import seed_policy_values
    from shouwang.policy.models import PolicyValue
    from shouwang.screening.defaults import seed_feed_sources, seed_rules
    from shouwang.screening.models import FeedSource, Rule, RuleVersion

    if not Division.objects.filter(code=f.VILLAGE_B).exists():
        divisions_load_county(county_code="500156", actor=None)
    seed_policy_values(PolicyValue, Division)
    seed_feed_sources(FeedSource)
    seed_rules(Rule, RuleVersion)
    assistance_defaults.seed_catalogue(MeasureGroup, Measure)
    assistance_defaults.seed_rules(MeasureGroup, Measure, RecommendationRule)


@pytest.fixture(scope="module")
def divisions_restored_afterwards(django_db_blocker):
    """Transactional tests flush every table, the session's divisions included. Torn down after
    the module's last flush, this puts Wulong back for the tests that follow."""
    yield
    with django_db_blocker.unblock():
        _ensure_wulong()


@pytest.fixture
def committed_divisions(divisions_restored_afterwards, transactional_db):
    """For transactional tests (live server, threads): Wulong's divisions committed and present."""
    _ensure_wulong()


@pytest.fixture
def village_cadre(db):
    return f.make_user("cadre-a", Role.VILLAGE_CADRE, [f.VILLAGE_A], display_name="村干部甲")


@pytest.fixture
def township_staff(db):
    return f.make_user("township-huolu", Role.TOWNSHIP_STAFF, [f.TOWNSHIP_HUOLU])


@pytest.fixture
def district_admin(db):
    return f.make_user("district-admin", Role.DISTRICT_ADMIN, [f.COUNTY_WULONG])


@pytest.fixture
def district_staff(db):
    return f.make_user("district-staff", Role.DISTRICT_STAFF, [f.COUNTY_WULONG])


@pytest.fixture
def department_officer(db):
    return f.make_user(
        "dept-medical", Role.DEPARTMENT_OFFICER, [f.COUNTY_WULONG], department="medical_insurance"
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Sign-in failure counts and rate limits of one test never reach the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _private_feed_dirs(settings, tmp_path_factory):
    """Staged feeds and screening work files of a test stay in its own temporary folder."""
    base = tmp_path_factory.mktemp("var")
    settings.SHOUWANG_FEEDS_DIR = base / "feeds"
    settings.SHOUWANG_SCREENING_DIR = base / "screening"
    settings.MEDIA_ROOT = base / "media"
