"""Subscribe people with a role by default, the moment their team member gets a user."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from smarketing.funnel.models import TeamMember


@receiver(post_save, sender=TeamMember, dispatch_uid="digests_default_subscription")
def team_member_saved(sender, instance: TeamMember, **kwargs) -> None:
    if instance.role and instance.user_id:
        from smarketing.digests.services import subscription_default_for

        subscription_default_for(user=instance.user)
