from django.db import migrations, models


class Migration(migrations.Migration):
    """The monthly meeting's agenda gains the village's overdue assistance measures."""

    dependencies = [("cases", "0003_step_limits")]

    operations = [
        migrations.AlterField(
            model_name="meetingitem",
            name="kind",
            field=models.CharField(
                choices=[
                    ("new_leads", "新发现的风险线索"),
                    ("open_cases", "在办的识别/消除流程"),
                    ("alerts", "未处理的部门比对预警"),
                    ("eliminations_due", "已满监测期、可研究风险消除的监测对象"),
                    ("overdue_measures", "逾期帮扶措施"),
                    ("monitor_report", "监测员监测工作汇报"),
                ],
                max_length=24,
                verbose_name="议题",
            ),
        ),
    ]
