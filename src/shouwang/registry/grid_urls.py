from django.urls import path

from shouwang.registry import grid_views as views

app_name = "grids"

urlpatterns = [
    path("", views.grid_list, name="grid_list"),
    path("new/", views.grid_create, name="grid_create"),
    path("<int:pk>/", views.grid_detail, name="grid_detail"),
    path("<int:pk>/edit/", views.grid_edit, name="grid_edit"),
    path("<int:pk>/delete/", views.grid_delete, name="grid_delete"),
    path("<int:pk>/assign/", views.grid_assign, name="grid_assign"),
    path(
        "<int:pk>/households/<int:household_pk>/remove/",
        views.grid_remove,
        name="grid_remove",
    ),
]
