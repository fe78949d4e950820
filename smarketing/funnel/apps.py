from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_data_managers_group(**kwargs) -> None:
    """The `data managers` group carries the one write permission (uploads, API writes, targets)."""
    from django.conf import settings
    from django.contrib.auth.models import Group, Permission

    permission = Permission.objects.filter(
        content_type__app_label="funnel", codename="manage_data"
    ).first()
    if permission is None:
        return
    group, _ = Group.objects.get_or_create(name=settings.DATA_MANAGER_GROUP)
    group.permissions.add(permission)


class FunnelConfig(AppConfig):
    name = "smarketing.funnel"
    label = "funnel"
    verbose_name = "Funnel records"

    def ready(self) -> None:
        post_migrate.connect(ensure_data_managers_group, sender=self)
