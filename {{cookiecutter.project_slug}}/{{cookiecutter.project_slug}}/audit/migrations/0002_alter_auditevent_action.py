from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("signed_up", "Signed up"),
                    ("logged_in", "Logged in"),
                    ("login_failed", "Login failed"),
                    ("locked_out", "Locked out"),
                    ("email_changed", "Email changed"),
                    ("email_confirmed", "Email confirmed"),
                    ("username_changed", "Username changed"),
                    ("groups_added", "Added to groups"),
                    ("groups_removed", "Removed from groups"),
                    ("user_deleted", "User deleted"),
                ],
                max_length=32,
            ),
        ),
    ]
