from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_notification_account_exists"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="traceparent",
            field=models.CharField(blank=True, default="", max_length=55),
        ),
    ]
