from django.urls import path
from django.views.generic import RedirectView

from shouwang.cases import routine_views as views

app_name = "routines"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="routines:meeting_list"), name="index"),
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("reviews/", views.review_list, name="review_list"),
    path("reviews/new/<int:household_pk>/", views.review_create, name="review_create"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path(
        "campaigns/<int:pk>/check/<int:household_pk>/",
        views.campaign_check,
        name="campaign_check",
    ),
]
