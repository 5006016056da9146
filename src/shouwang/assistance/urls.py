from django.urls import path

from shouwang.assistance import views

app_name = "assistance"

urlpatterns = [
    path("", views.index, name="index"),
    path("overdue/", views.overdue, name="overdue"),
    path("measures/<int:pk>/", views.measure_detail, name="measure_detail"),
    path("households/<int:household_id>/plan/", views.household_plan, name="household_plan"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/groups/new/", views.group_create, name="group_create"),
    path("catalogue/groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("catalogue/measures/new/", views.measure_create, name="measure_create"),
    path("catalogue/measures/<int:pk>/edit/", views.measure_edit, name="measure_edit"),
    path("rules/", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
