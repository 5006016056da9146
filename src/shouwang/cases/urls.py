from django.urls import path

from shouwang.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="case_list"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/act/<slug:verb>/", views.case_act, name="case_act"),
    path("<int:pk>/attachments/", views.case_attachment_upload, name="attachment_upload"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/",
        views.case_attachment_download,
        name="attachment_download",
    ),
    path("eliminate/", views.elimination_candidates, name="elimination_candidates"),
    path("eliminate/<int:household_id>/", views.elimination_start, name="elimination_start"),
    path("notice/<str:village_code>/", views.notice, name="notice"),
]
