from django.apps import AppConfig


class AssistanceConfig(AppConfig):
    name = "shouwang.assistance"
    label = "assistance"
    verbose_name = "精准帮扶"

    def ready(self) -> None:
        from shouwang.assistance.selectors import delivered_measure_names
        from shouwang.cases.hooks import register_delivered_measures

        # Elimination's "a measure delivered" is answered here (cases/hooks.py).
        register_delivered_measures(
            lambda household_ids: delivered_measure_names(household_ids=household_ids)
        )
