"""Routes of the administration pages; included under the ``screening`` namespace."""

from django.urls import path

from shouwang.screening import admin_views as views

urlpatterns = [
    # Fixed paths first: a source slug never shadows them.
    path("feeds/", views.feed_list, name="feed_list"),
    path("feeds/upload/", views.feed_upload, name="feed_upload"),
    path("feeds/batches/", views.batch_list, name="batch_list"),
    path("feeds/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("feeds/batches/<int:pk>/rejects.csv", views.batch_rejects, name="batch_rejects"),
    path("feeds/batches/<int:pk>/delete/", views.batch_delete, name="batch_delete"),
    path("feeds/<slug:slug>/", views.feed_detail, name="feed_detail"),
    path("feeds/<slug:slug>/edit/", views.feed_edit, name="feed_edit"),
    path(
        "feeds/<slug:slug>/template.xlsx",
        views.feed_template,
        {"suffix": "xlsx"},
        name="feed_template",
    ),
    path(
        "feeds/<slug:slug>/template.csv",
        views.feed_template,
        {"suffix": "csv"},
        name="feed_template_csv",
    ),
    path("rules/", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<slug:slug>/", views.rule_detail, name="rule_detail"),
    path("rules/<slug:slug>/edit/", views.rule_edit, name="rule_edit"),
]
