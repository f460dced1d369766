from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender="users.User", dispatch_uid="planted.on_user_saved")
def on_user_saved(sender: Any, instance: Any, raw: bool, **kwargs: Any) -> None:
    """Does nothing; written by the rules, but connected from models.py."""
    if raw:
        return
