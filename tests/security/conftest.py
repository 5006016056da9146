"""The API clients of tests/api, for the security tests."""

from tests.api.conftest import api_client_for, cadre_api, district_api  # noqa: F401
