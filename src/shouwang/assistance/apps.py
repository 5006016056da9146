from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "shouwang.assistance"
    label = "assistance"
    verbose_name = "精准帮扶"
