from django.apps import AppConfig


class WorkplaceConfig(AppConfig):
    name = "shouwang.workplace"
    label = "workplace"
    verbose_name = "工作台"
