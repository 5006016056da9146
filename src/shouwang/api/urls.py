from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from shouwang.api import case_views, routine_views, screening_views
from shouwang.api.auth import ObtainTokenView
from shouwang.api.views import DivisionViewSet, HouseholdViewSet, MemberViewSet

app_name = "api"

router = DefaultRouter()
router.register("divisions", DivisionViewSet, basename="division")
router.register("households", HouseholdViewSet, basename="household")
router.register("members", MemberViewSet, basename="member")
router.register("feed-sources", screening_views.FeedSourceViewSet, basename="feed-source")
router.register("feed-batches", screening_views.FeedBatchViewSet, basename="feed-batch")
router.register("rules", screening_views.RuleViewSet, basename="rule")
router.register("screening-runs", screening_views.ScreeningRunViewSet, basename="screening-run")
router.register("alerts", screening_views.AlertViewSet, basename="alert")
router.register("policy-values", screening_views.PolicyValueViewSet, basename="policy-value")
router.register("leads", case_views.LeadViewSet, basename="lead")
router.register("cases", case_views.CaseViewSet, basename="case")
router.register("meetings", routine_views.MeetingViewSet, basename="meeting")
router.register("reviews", routine_views.ReviewViewSet, basename="review")
router.register("campaigns", routine_views.CampaignViewSet, basename="campaign")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    # The OpenAPI document only; no browsable docs page, which would need a CDN.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
