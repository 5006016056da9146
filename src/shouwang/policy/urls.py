from django.urls import path

from shouwang.policy import views

app_name = "policy"

# Mounted under /screening/policy/, where the district's administration pages are.
urlpatterns = [
    path("", views.policy_list, name="policy_list"),
    path("new/", views.policy_create, name="policy_create"),
    path("<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("<int:pk>/delete/", views.policy_delete, name="policy_delete"),
]
