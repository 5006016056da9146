from django.db import migrations


def forwards(apps, schema_editor):
    from shouwang.policy.defaults import seed_policy_values

    seed_policy_values(apps.get_model("policy", "PolicyValue"), apps.get_model("core", "Division"))


class Migration(migrations.Migration):
    dependencies = [("policy", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
