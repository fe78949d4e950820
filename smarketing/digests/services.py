"""Digest actions: who is due, claiming a send, composing and sending, unsubscribing.

Exactly-once per subscriber-local date rests on the unique `Delivery` row, inserted and
committed before any mail leaves; every later step moves the row on with a conditional
UPDATE that only the holder of the current `claim_token` can win. The states:

- `claimed` → `sending` (just before SMTP) → `sent`;
- an SMTP error → `retrying` with exponential backoff (`next_attempt_at`), reclaimed by a
  later run, `failed` after `MAX_ATTEMPTS`;
- a run that crashed after claiming but before SMTP leaves `claimed`: a run at least
  `STALE_CLAIM` later reclaims and sends it;
- a run that crashed while handing the mail to SMTP leaves `sending`: whether the mail
  left is unknown, so it is marked `failed` rather than risking a second copy.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from email.mime.image import MIMEImage

from django.conf import settings
from django.core import mail, signing
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation

from smarketing.accounts.services import language_for
from smarketing.dashboards.boards import layout_key_readable
from smarketing.digests.compose import ComposeCache, Digest, digest_chat_payload, digest_compose
from smarketing.digests.models import Cadence, Delivery, DeliveryStatus, Subscription
from smarketing.funnel.models import company_tz

logger = logging.getLogger(__name__)

STALE_CLAIM = dt.timedelta(minutes=15)
# A morning digest that could not go out by the evening (scheduler down, subscription made
# in the afternoon) waits for the next morning instead of arriving at night.
LATE_LIMIT = dt.timedelta(hours=12)
MAX_ATTEMPTS = 5
RETRY_BASE = dt.timedelta(minutes=5)
RETRY_CAP = dt.timedelta(hours=1)
UNSUBSCRIBE_SALT = "smarketing.digests.unsubscribe"


# --- schedule ----------------------------------------------------------------------------
def subscription_local_date(*, subscription: Subscription, now: dt.datetime) -> dt.date:
    return now.astimezone(subscription.tz).date()


def subscription_due_at(*, subscription: Subscription, local_date: dt.date) -> dt.datetime:
    """The instant the digest of `local_date` becomes due.

    `fold=0` resolves a wall time that DST skips (02:30 on a spring-forward night) to the
    instant just after the gap, and a repeated wall time (01:30 on a fall-back night) to
    its first occurrence; either way there is exactly one instant per local date.
    """
    local = dt.datetime.combine(local_date, subscription.send_time, tzinfo=subscription.tz)
    return local.astimezone(dt.UTC)


def subscription_sends_on(*, subscription: Subscription, local_date: dt.date) -> bool:
    if subscription.cadence == Cadence.WEEKLY:
        return local_date.weekday() == subscription.weekday
    return not (subscription.cadence == Cadence.WEEKDAYS and local_date.weekday() >= 5)


def subscription_next_send(*, subscription: Subscription, now: dt.datetime) -> dt.datetime | None:
    """The next instant a digest is scheduled after `now`, in the subscriber's zone."""
    if not subscription.active or not subscription.dashboards:
        return None
    today = subscription_local_date(subscription=subscription, now=now)
    for offset in range(8):
        day = today + dt.timedelta(days=offset)
        if not subscription_sends_on(subscription=subscription, local_date=day):
            continue
        due_at = subscription_due_at(subscription=subscription, local_date=day)
        if due_at > now:
            return due_at.astimezone(subscription.tz)
    return None


def subscriptions_active() -> list[Subscription]:
    candidates = (
        Subscription.objects.filter(active=True, user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "chat_destination")
        .order_by("pk")
    )
    return [subscription for subscription in candidates if subscription.dashboards]


def digests_due(*, now: dt.datetime) -> list[tuple[Subscription, dt.date]]:
    """Active subscriptions past their send time today (their local today, within LATE_LIMIT)
    and not yet claimed."""
    due: list[tuple[Subscription, dt.date]] = []
    for subscription in subscriptions_active():
        local_date = subscription_local_date(subscription=subscription, now=now)
        if not subscription_sends_on(subscription=subscription, local_date=local_date):
            continue
        due_at = subscription_due_at(subscription=subscription, local_date=local_date)
        if due_at <= now < due_at + LATE_LIMIT:
            due.append((subscription, local_date))
    if not due:
        return []
    claimed = set(
        Delivery.objects.filter(
            subscription_id__in=[s.pk for s, _ in due], local_date__in={d for _, d in due}
        ).values_list("subscription_id", "local_date")
    )
    return [(s, d) for s, d in due if (s.pk, d) not in claimed]


# --- claims ------------------------------------------------------------------------------
def delivery_claim(*, subscription: Subscription, local_date: dt.date, now: dt.datetime) -> Delivery | None:
    """Insert the (subscription, local date) row; None when another run holds it already."""
    try:
        with transaction.atomic():
            return Delivery.objects.create(
                subscription=subscription,
                local_date=local_date,
                status=DeliveryStatus.CLAIMED,
                claimed_at=now,
                recipient=subscription.user.email,
            )
    except IntegrityError:
        return None


def deliveries_claim(*, due: list[tuple[Subscription, dt.date]], now: dt.datetime) -> list[Delivery]:
    """Claim many at once: one INSERT that skips rows another run holds, then read back ours.

    Every row this call inserts carries the same fresh token; rows that already existed keep
    their holder's token, so the read-back returns exactly the claims this call won.
    """
    if not due:
        return []
    token = uuid.uuid4()
    Delivery.objects.bulk_create(
        [
            Delivery(subscription=subscription, local_date=local_date, status=DeliveryStatus.CLAIMED,
                     claimed_at=now, recipient=subscription.user.email, claim_token=token)
            for subscription, local_date in due
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    by_pk = {subscription.pk: subscription for subscription, _day in due}
    mine = list(
        Delivery.objects.filter(subscription_id__in=list(by_pk), claim_token=token).order_by("subscription_id")
    )
    for delivery in mine:
        delivery.subscription = by_pk[delivery.subscription_id]
    return mine


def _take_over(delivery: Delivery, *, now: dt.datetime) -> Delivery | None:
    token = uuid.uuid4()
    won = Delivery.objects.filter(
        pk=delivery.pk, status=delivery.status, claim_token=delivery.claim_token
    ).update(status=DeliveryStatus.CLAIMED, claim_token=token, claimed_at=now, next_attempt_at=None)
    if not won:
        return None
    delivery.status, delivery.claim_token, delivery.claimed_at = DeliveryStatus.CLAIMED, token, now
    delivery.next_attempt_at = None
    return delivery


def deliveries_reclaim(*, now: dt.datetime) -> list[Delivery]:
    """Take over retries that are due and claims abandoned by a crashed run."""
    cutoff = now - STALE_CLAIM
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=cutoff).update(
        status=DeliveryStatus.FAILED,
        last_error="interrupted while handing the mail to SMTP; not resent, it may have been delivered",
    )
    candidates = (
        Delivery.objects.filter(
            Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.CLAIMED, claimed_at__lt=cutoff)
        )
        .select_related("subscription__user")
        .order_by("pk")
    )
    taken = []
    for delivery in candidates:
        if delivery.attempts >= MAX_ATTEMPTS:
            Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token).update(
                status=DeliveryStatus.FAILED
            )
            continue
        if (mine := _take_over(delivery, now=now)) is not None:
            taken.append(mine)
    return taken


def retry_delay(*, attempts: int) -> dt.timedelta:
    return min(RETRY_CAP, RETRY_BASE * (2 ** max(0, attempts - 1)))


# --- content and envelope ---------------------------------------------------------------
def unsubscribe_token_make(*, subscription: Subscription) -> str:
    return signing.dumps({"s": subscription.pk, "u": subscription.user_id}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_read(*, token: str) -> Subscription:
    """The subscription a token names; signing.BadSignature for anything not signed by us."""
    payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    try:
        return Subscription.objects.get(pk=payload["s"], user_id=payload["u"])
    except (Subscription.DoesNotExist, KeyError, TypeError):
        raise signing.BadSignature("the subscription of this link no longer exists") from None


def subscription_unsubscribe(*, token: str) -> Subscription:
    subscription = unsubscribe_token_read(token=token)
    if subscription.active:
        subscription.active = False
        subscription.save(update_fields=["active", "updated_at"])
    return subscription


def unsubscribe_url(*, subscription: Subscription) -> str:
    path = reverse("digests:unsubscribe", kwargs={"token": unsubscribe_token_make(subscription=subscription)})
    return f"{settings.SITE_URL}{path}"


def company_date(*, now: dt.datetime) -> dt.date:
    return now.astimezone(company_tz()).date()


def digest_for(
    *, subscription: Subscription, now: dt.datetime, cache: ComposeCache | None = None
) -> Digest:
    user = subscription.user
    # Written in the subscriber's language: subject, both parts and the charts' labels.
    with translation.override(language_for(user)):
        return _digest_compose(subscription=subscription, now=now, cache=cache)


def _digest_compose(*, subscription: Subscription, now: dt.datetime, cache: ComposeCache | None) -> Digest:
    user = subscription.user
    return digest_compose(
        # A dashboard retired from the layouts since the user subscribed is skipped, not fatal.
        # So is a board deleted, or no longer shared with the subscriber.
        dashboards=[key for key in subscription.dashboards if layout_key_readable(user=user, key=key)] or ["shared"],
        # Complete days only: a digest sent on the 1st reports the whole previous month.
        as_of=company_date(now=now) - dt.timedelta(days=1),
        local_date=subscription_local_date(subscription=subscription, now=now),
        weekly=subscription.weekly,
        recipient_name=user.first_name or user.get_full_name() or user.username,
        local_hour=now.astimezone(subscription.tz).hour,
        settings_url=f"{settings.SITE_URL}{reverse('digests:settings')}",
        # A preview of a subscription not saved yet has nothing to unsubscribe from.
        unsubscribe_url=unsubscribe_url(subscription=subscription) if subscription.pk else
        f"{settings.SITE_URL}{reverse('digests:settings')}",
        cache=cache,
    )


def digest_message(
    *, digest: Digest, subscription: Subscription, cache: ComposeCache | None = None
) -> EmailMultiAlternatives:
    """text/plain + text/html alternatives inside multipart/related with the CID images.

    Image parts are immutable once built, so every message of a run shares the same ones.
    """
    parts = cache.mime_parts if cache is not None else {}
    link = unsubscribe_url(subscription=subscription)
    message = EmailMultiAlternatives(
        subject=digest.subject,
        body=digest.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscription.user.email],
        headers={
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    message.attach_alternative(digest.html, "text/html")
    if digest.images:
        message.mixed_subtype = "related"
        for image in digest.images:
            if image.cid not in parts:
                part = MIMEImage(image.png, "png")
                part.add_header("Content-ID", f"<{image.cid}>")
                part.add_header("Content-Disposition", "inline", filename=image.cid.split("@")[0] + ".png")
                parts[image.cid] = part
            message.attach(parts[image.cid])
    return message


# --- send --------------------------------------------------------------------------------
def _writes_flush(pending: list[Callable[[], object]]) -> None:
    while pending:
        pending.pop(0)()


def digest_send(
    *,
    delivery: Delivery,
    message: EmailMultiAlternatives,
    connection,
    now: dt.datetime,
    pending: list[Callable[[], object]] | None = None,
) -> str:
    """Hand one claimed delivery to SMTP; returns the delivery's new status (or "lost").

    With `pending` (a run sending many), the outcome write is queued there and committed in
    the same transaction as the next delivery's hand-off, or by the caller at the end: one
    commit per message instead of two. The guarantee is unchanged: until that commit the row
    reads `sending`, which is never sent again.
    """
    with transaction.atomic():
        if pending:
            _writes_flush(pending)
        moved = Delivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.CLAIMED, claim_token=delivery.claim_token
        ).update(status=DeliveryStatus.SENDING, claimed_at=now, subject=message.subject[:300],
                 recipient=message.to[0])
    if not moved:
        return "lost"
    attempts = delivery.attempts + 1
    mine = Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token)
    try:
        if isinstance(connection, SMTPBackend) and connection.connection is None:
            connection.open()  # reconnect after an earlier message's failure closed the session
        connection.send_messages([message])
    except (smtplib.SMTPException, OSError) as error:
        # Drop the connection: after an SMTP error it may be half-closed for the next message.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()
        status = DeliveryStatus.FAILED if attempts >= MAX_ATTEMPTS else DeliveryStatus.RETRYING
        fields = {
            "status": status,
            "attempts": attempts,
            "last_error": f"{type(error).__name__}: {error}"[:2000],
            "next_attempt_at": now + retry_delay(attempts=attempts) if status == DeliveryStatus.RETRYING else None,
        }
        logger.warning("digest %s to %s failed (attempt %s): %s", delivery.pk, message.to[0], attempts, error)
    else:
        status = DeliveryStatus.SENT
        fields = {"status": status, "attempts": attempts, "sent_at": timezone.now(), "last_error": ""}
    if pending is None:
        mine.update(**fields)
    else:
        pending.append(lambda: mine.update(**fields))
    return status


@dataclass
class SendReport:
    now: dt.datetime
    due: int = 0
    claimed: int = 0
    reclaimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0
    compose_errors: int = 0
    sections_composed: int = 0  # distinct (dashboard, company date) bodies rendered this run
    dry_run: list[tuple[str, dt.date, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"due {self.due}, claimed {self.claimed}, reclaimed {self.reclaimed}, sent {self.sent}, "
            f"retrying {self.retrying}, failed {self.failed}, lost to another run {self.lost}"
        )


def digests_send_due(
    *, now: dt.datetime | None = None, dry_run: bool = False, connection=None
) -> SendReport:
    """Claim every due digest and send it; safe to run twice or concurrently."""
    now = now or timezone.now()
    report = SendReport(now=now)
    subscriptions_ensure_defaults()
    due = digests_due(now=now)
    report.due = len(due)
    cache = ComposeCache()
    if dry_run:
        for subscription, local_date in due:
            digest = digest_for(subscription=subscription, now=now, cache=cache)
            report.dry_run.append((subscription.user.email, local_date, digest.subject))
        report.sections_composed = len(cache.sections)
        return report
    work = deliveries_claim(due=due, now=now)
    report.claimed = len(work)
    report.lost = len(due) - len(work)
    reclaimed = deliveries_reclaim(now=now)
    report.reclaimed = len(reclaimed)
    work.extend(reclaimed)
    if not work:
        return report
    connection = connection or mail.get_connection(fail_silently=False)
    pending: list[Callable[[], object]] = []
    try:
        if isinstance(connection, SMTPBackend):
            # One session for the whole run; without it the backend reconnects per message.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.open()
        for delivery in work:
            subscription = delivery.subscription
            try:
                digest = digest_for(subscription=subscription, now=now, cache=cache)
                message = digest_message(digest=digest, subscription=subscription, cache=cache)
            except Exception as error:
                # A composing bug must not wedge the claim for good: back off and retry like SMTP.
                logger.exception("digest %s for %s could not be composed", delivery.pk, subscription.user)
                report.compose_errors += 1
                _record_failure(delivery, error=error, now=now)
                continue
            if subscription.chat_destination_id:
                _chat_enqueue(subscription=subscription, digest=digest, local_date=delivery.local_date)
            message.connection = connection
            outcome = digest_send(delivery=delivery, message=message, connection=connection, now=now,
                                  pending=pending)
            setattr(report, outcome, getattr(report, outcome) + 1)
    finally:
        with transaction.atomic():
            _writes_flush(pending)
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()
    report.sections_composed = len(cache.sections)
    logger.info("digests at %s: %s", now.isoformat(), report.summary())
    return report


def _chat_enqueue(*, subscription: Subscription, digest: Digest, local_date: dt.date) -> None:
    """Hand the digest to the subscription's Slack / Teams destination, once per local date
    (the alerts outbox sends it with its retries; a reclaimed delivery hands it over again,
    which the dedupe key makes a no-op)."""
    from smarketing.alerts.services import message_enqueue

    payload = digest_chat_payload(digest=digest, settings_url=f"{settings.SITE_URL}{reverse('digests:settings')}")
    message_enqueue(destination=subscription.chat_destination, payload=payload,
                    dedupe_key=f"digest:{subscription.pk}:{local_date.isoformat()}")


def _record_failure(delivery: Delivery, *, error: Exception, now: dt.datetime) -> None:
    attempts = delivery.attempts + 1
    status = DeliveryStatus.FAILED if attempts >= MAX_ATTEMPTS else DeliveryStatus.RETRYING
    Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token).update(
        status=status,
        attempts=attempts,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        next_attempt_at=now + retry_delay(attempts=attempts) if status == DeliveryStatus.RETRYING else None,
    )


# --- subscriptions -----------------------------------------------------------------------
def subscription_default_for(*, user) -> Subscription | None:
    """The subscription a user with a role starts with: their role's dashboard, 07:30 local."""
    member = getattr(user, "team_member", None)
    if member is None or not member.role:
        return None
    subscription, _created = Subscription.objects.get_or_create(
        user=user, defaults={"dashboards": [member.role], "time_zone": settings.SMARKETING_TIMEZONE}
    )
    return subscription


def subscriptions_ensure_defaults() -> int:
    """Subscribe every user with a role who has no subscription row yet (bulk importers skip signals).

    A user who opted out keeps an inactive row, so this never subscribes them again.
    """
    from smarketing.funnel.models import TeamMember

    members = (
        TeamMember.objects.exclude(role="")
        .filter(user__isnull=False, user__digest_subscription__isnull=True)
        .values_list("user_id", "role")
    )
    rows = [
        Subscription(user_id=user_id, dashboards=[role], time_zone=settings.SMARKETING_TIMEZONE)
        for user_id, role in members
    ]
    if rows:
        Subscription.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def subscription_for_preview(*, user) -> Subscription:
    """The user's subscription, or the one they would get (their role's dashboard, else shared)."""
    existing = Subscription.objects.filter(user=user).select_related("user").first()
    if existing and existing.dashboards:
        return existing
    member = getattr(user, "team_member", None)
    role = member.role if member is not None and member.role else "shared"
    return Subscription(user=user, dashboards=[role], time_zone=settings.SMARKETING_TIMEZONE)


def subscription_save(*, user, dashboards: list[str], send_time: dt.time, time_zone: str,
                      cadence: str, weekday: int, active: bool, chat_destination=None) -> Subscription:
    zoneinfo.ZoneInfo(time_zone)
    subscription, _created = Subscription.objects.update_or_create(
        user=user,
        defaults={"dashboards": dashboards, "send_time": send_time, "time_zone": time_zone,
                  "cadence": cadence, "weekday": weekday, "active": active, "chat_destination": chat_destination},
    )
    return subscription

