from django.contrib import admin
from django.urls import include, path

from shouwang.workplace.views import home

urlpatterns = [
    path("", include("shouwang.core.urls")),
    path("", home, name="home"),
    path("", include("shouwang.workplace.urls")),
    path("", include("shouwang.registry.urls")),
    path("registry/io/", include("shouwang.registry.io_urls")),
    path("grids/", include("shouwang.registry.grid_urls")),
    path("screening/policy/", include("shouwang.policy.urls")),
    path("screening/", include("shouwang.screening.urls")),
    path("screening/alerts/", include("shouwang.cases.alert_urls")),
    path("cases/", include("shouwang.cases.urls")),
    path("leads/", include("shouwang.cases.lead_urls")),
    path("apply/", include("shouwang.cases.public_urls")),
    path("routines/", include("shouwang.cases.routine_urls")),
    path("assistance/coverage/", include("shouwang.assistance.coverage_urls")),
    path("assistance/", include("shouwang.assistance.urls")),
    path("social/", include("shouwang.assistance.social_urls")),
    path("api/", include("shouwang.api.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "shouwang.core.views.permission_denied"
handler404 = "shouwang.core.views.page_not_found"
