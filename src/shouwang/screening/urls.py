from django.urls import path

from shouwang.screening import admin_urls, views

app_name = "screening"

urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/dismiss/", views.alert_dismiss, name="alert_dismiss"),
    path("alerts/<int:pk>/assign/", views.alert_assign, name="alert_assign"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    # Feed sources, uploads, rules and policy values: the administration pages.
    *admin_urls.urlpatterns,
]
