from django.urls import path

from shouwang.cases import alert_views

app_name = "alert_leads"

urlpatterns = [
    path("<int:pk>/lead/", alert_views.alert_open_lead, name="open_lead"),
]
