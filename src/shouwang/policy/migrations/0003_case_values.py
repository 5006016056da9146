from django.db import migrations


def forwards(apps, schema_editor):
    # Seeds the defaults added for the case workflows; existing rows are left as they are.
    from shouwang.policy.defaults import seed_policy_values

    seed_policy_values(apps.get_model("policy", "PolicyValue"), apps.get_model("core", "Division"))


class Migration(migrations.Migration):
    dependencies = [("policy", "0002_default_values")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
