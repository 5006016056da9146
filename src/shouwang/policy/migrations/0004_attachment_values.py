from decimal import Decimal

from django.db import migrations

# Frozen here, not read from today's parameters module, so this migration means the same
# in five years.
DEFAULTS = (
    (
        "visit_record_required",
        "入户核实记录由农户和核实人员签字，作为识别和风险消除的档案材料；各省可按本省要求改为 0",
    ),
    ("notice_photo_required", "村内公示须留存公示照片备查；各省可按本省要求改为 0"),
)


def forwards(apps, schema_editor):
    PolicyValue = apps.get_model("policy", "PolicyValue")
    for parameter, note in DEFAULTS:
        PolicyValue.objects.get_or_create(
            parameter=parameter,
            division_id=None,
            year=None,
            defaults={"value": Decimal(1), "source": "", "note": note},
        )


class Migration(migrations.Migration):
    dependencies = [("policy", "0003_case_values")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
