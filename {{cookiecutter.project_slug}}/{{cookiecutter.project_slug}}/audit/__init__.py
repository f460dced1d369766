"""The audit trail: who did what to which account, written by signal receivers.

Each entry is written in the transaction of the change it records (see
audit/signals.py), so a rollback leaves none and a commit cannot lose one.

The gap: bulk_create(), QuerySet.update() and raw SQL send no model signals,
so changes made that way leave no entry. So do changes of a user's groups
made through the m2m table directly (User.groups.through.objects...).
Change accounts with save(), the related managers (user.groups.add(...)),
and delete() (per object, or on a queryset: both send the delete signals).
"""
