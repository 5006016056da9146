from django.urls import path

from shouwang.registry import views

app_name = "registry"

urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/find/", views.household_find, name="household_find"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/delete/", views.household_delete, name="household_delete"),
    path(
        "households/<int:pk>/reveal-phone/",
        views.household_reveal_phone,
        name="household_reveal_phone",
    ),
    path("households/<int:pk>/members/new/", views.member_create, name="member_create"),
    path("members/<int:pk>/edit/", views.member_edit, name="member_edit"),
    path("members/<int:pk>/delete/", views.member_delete, name="member_delete"),
    path("members/<int:pk>/reveal/", views.member_reveal, name="member_reveal"),
]
