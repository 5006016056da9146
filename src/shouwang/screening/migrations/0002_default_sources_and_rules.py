from django.db import migrations


def forwards(apps, schema_editor):
    from shouwang.screening.defaults import seed_feed_sources, seed_rules

    seed_feed_sources(apps.get_model("screening", "FeedSource"))
    seed_rules(apps.get_model("screening", "Rule"), apps.get_model("screening", "RuleVersion"))


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
