from django.db import migrations, models


def group_existing_alerts(apps, schema_editor):
    """Every alert is its own item; unresolved ones of one household (or unregistered person)
    that rest on shared rows are then joined, as alerts_regroup does after each run."""
    from shouwang.screening.triage import (
        GroupCandidate,
        evidence_rows,
        triage_groups,
        triage_subject,
    )

    Alert = apps.get_model("screening", "Alert")
    Alert.objects.update(triage_group=models.F("fingerprint"))
    unresolved = Alert.objects.filter(status__in=["open", "assigned"])
    candidates = [
        GroupCandidate(pk, triage_subject(household, person), fingerprint, evidence_rows(evidence))
        for pk, household, person, fingerprint, evidence in unresolved.values_list(
            "pk", "household_id", "person_index", "fingerprint", "evidence"
        ).iterator(chunk_size=2000)
    ]
    fingerprints = {c.pk: c.fingerprint for c in candidates}
    changed = [
        Alert(pk=pk, triage_group=key)
        for pk, key in triage_groups(candidates).items()
        if key != fingerprints[pk]
    ]
    Alert.objects.bulk_update(changed, ["triage_group"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0003_more_departments"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="triage_group",
            field=models.CharField(
                blank=True, db_index=True, max_length=64, verbose_name="处理分组"
            ),
        ),
        migrations.RunPython(group_existing_alerts, migrations.RunPython.noop),
    ]
