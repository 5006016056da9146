from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "shouwang.screening"
    label = "screening"
    verbose_name = "部门数据比对预警"
