from django.urls import path

from shouwang.assistance import coverage_views as views

app_name = "coverage"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("export/", views.export, name="export"),
    path("problems/<slug:problem>/", views.problems, name="problems"),
]
