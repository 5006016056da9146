from django.db import migrations, models
from django.db.models import F


def next_due_from_overall(apps, schema_editor):
    # Cases recorded before step limits existed have only the overall limit.
    apps.get_model("cases", "Case").objects.update(next_due_on=F("due_on"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_meetings_reviews_campaigns")]

    operations = [
        migrations.AddField(
            model_name="case",
            name="step_due_on",
            field=models.DateField(blank=True, null=True, verbose_name="本步骤时限"),
        ),
        migrations.AddField(
            model_name="case",
            name="step_due_estimated",
            field=models.BooleanField(default=False, verbose_name="本步骤时限为估算"),
        ),
        migrations.AddField(
            model_name="case",
            name="next_due_on",
            field=models.DateField(null=True, verbose_name="最近时限"),
        ),
        migrations.RunPython(next_due_from_overall, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="case",
            name="next_due_on",
            field=models.DateField(db_index=True, verbose_name="最近时限"),
        ),
    ]
