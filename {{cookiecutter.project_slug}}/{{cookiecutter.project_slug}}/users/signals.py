"""What the users app does when a user is saved.

Connected by UsersConfig.ready(). There is deliberately no receiver that
saves the profile on every user save: it would cost two queries per save and
crash for users that have no profile yet.
"""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Profile


@receiver(
    post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="users.create_profile"
)
def create_profile(sender, instance, created, raw, **kwargs):
    """Create the profile of a new user, so every user has one from the start.

    Skipped for raw saves: fixtures and loaddata bring their own profile rows.
    """
    if created and not raw:
        Profile.objects.create(user=instance)
