from django.urls import path

from shouwang.registry import io_views

app_name = "registry_io"

urlpatterns = [
    path("", io_views.import_page, name="import"),
    path("jobs/<int:pk>/", io_views.import_job, name="job"),
    path("jobs/<int:pk>/errors.csv", io_views.import_job_errors, name="job_errors"),
    path("template/", io_views.template_download, name="template"),
    path("export/", io_views.export_download, name="export"),
]
