from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "shouwang.core"
    label = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        from shouwang.core import signin  # noqa: F401 (connects the failed sign-in signal)
