from django.urls import path

from shouwang.cases import public_views

app_name = "apply"

urlpatterns = [
    path("", public_views.apply, name="apply"),
    path("villages/", public_views.apply_villages, name="villages"),
    path("done/", public_views.apply_done, name="done"),
    path("status/", public_views.apply_status, name="status"),
]
