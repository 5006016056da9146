from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from shouwang.api import (
    assistance_views,
    case_views,
    routine_views,
    screening_views,
    social_views,
)
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
router.register("measure-groups", assistance_views.MeasureGroupViewSet, basename="measure-group")
router.register("measures", assistance_views.MeasureViewSet, basename="measure")
router.register(
    "recommendation-rules",
    assistance_views.RecommendationRuleViewSet,
    basename="recommendation-rule",
)
router.register("plans", assistance_views.PlanViewSet, basename="plan")
router.register("plan-measures", assistance_views.PlanMeasureViewSet, basename="plan-measure")
router.register("social-offers", social_views.SocialOfferViewSet, basename="social-offer")
router.register("social-matches", social_views.SocialMatchViewSet, basename="social-match")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="token"),
    # The OpenAPI document only; no browsable docs page, which would need a CDN.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
