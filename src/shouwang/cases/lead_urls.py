from django.urls import path

from shouwang.cases import lead_views

app_name = "leads"

urlpatterns = [
    path("", lead_views.lead_list, name="lead_list"),
    path("new/", lead_views.lead_create, name="lead_create"),
    path("<int:pk>/", lead_views.lead_detail, name="lead_detail"),
    path("<int:pk>/open-case/", lead_views.lead_open_case, name="lead_open_case"),
    path("<int:pk>/close/", lead_views.lead_close, name="lead_close"),
]
