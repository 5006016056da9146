from django.db import migrations


def forwards(apps, schema_editor):
    from shouwang.assistance.defaults import seed_catalogue, seed_rules

    group = apps.get_model("assistance", "MeasureGroup")
    measure = apps.get_model("assistance", "Measure")
    seed_catalogue(group, measure)
    seed_rules(group, measure, apps.get_model("assistance", "RecommendationRule"))


class Migration(migrations.Migration):
    dependencies = [("assistance", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
