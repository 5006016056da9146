from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from shouwang.api.auth import ObtainTokenView
from shouwang.api.views import DivisionViewSet, HouseholdViewSet, MemberViewSet

app_name = "api"

router = DefaultRouter()
router.register("divisions", DivisionViewSet, basename="division")
router.register("households", HouseholdViewSet, basename="household")
router.register("members", MemberViewSet, basename="member")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    # The OpenAPI document only; no browsable docs page, which would need a CDN.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
