from django.urls import path

from shouwang.workplace import views

app_name = "workplace"

urlpatterns = [
    # Under /cases/ since the list began with the procedures; the path stays for bookmarks.
    path("cases/todo/", views.todo, name="todo"),
]
