from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "shouwang.cases"
    label = "cases"
    verbose_name = "识别与风险消除"
