from django.urls import path

from shouwang.assistance import social_views as views

app_name = "social"

urlpatterns = [
    path("", views.offer_list, name="offer_list"),
    path("offers/new/", views.offer_create, name="offer_create"),
    path("offers/<int:pk>/", views.offer_detail, name="offer_detail"),
    path("offers/<int:pk>/edit/", views.offer_edit, name="offer_edit"),
    path("offers/<int:pk>/propose/", views.offer_propose, name="offer_propose"),
    path("offers/<int:pk>/close/", views.offer_close, name="offer_close"),
    path("matches/", views.match_list, name="match_list"),
    path("matches/<int:pk>/", views.match_detail, name="match_detail"),
    path("matches/<int:pk>/confirm/", views.match_confirm, name="match_confirm"),
    path("matches/<int:pk>/decline/", views.match_decline, name="match_decline"),
]
