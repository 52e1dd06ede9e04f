"""State changes of accounts. Views and tasks call these; each records one audit event."""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models import CharField, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from accounts.models import User
from core.audit import record_event
from core.models import AuditEvent
from petitions.identity import normalise_email
from petitions.models import Petition, Signature

PREFERENCE_FIELDS = [
    "display_name",
    "preferred_language",
    "notify_petition_updates",
    "notify_signed_petition_responses",
]


@transaction.atomic
def update_preferences(user: User, *, actor: User, **changes: Any) -> list[str]:
    """Save the changed preference fields; returns their names (empty if nothing changed)."""
    changed = [
        name
        for name, value in changes.items()
        if name in PREFERENCE_FIELDS and getattr(user, name) != value
    ]
    if not changed:
        return []
    for name in changed:
        setattr(user, name, changes[name])
    user.save(update_fields=changed)
    record_event("account.preferences_changed", actor=actor, target=user, data={"fields": changed})
    return changed


def export_personal_data(user: User) -> dict[str, Any]:
    """Everything Agora holds about ``user``, as JSON-ready data (GDPR article 15 and 20).

    Later apps add their sections here (petitions created, signatures) as they arrive.
    """
    return {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "preferred_language": user.preferred_language,
            "notify_petition_updates": user.notify_petition_updates,
            "notify_signed_petition_responses": user.notify_signed_petition_responses,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
            "roles": sorted(user.groups.values_list("name", flat=True)),
        },
        "email_addresses": [
            {"email": address.email, "verified": address.verified, "primary": address.primary}
            for address in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        "petitions_created": [
            {
                "id": petition.pk,
                "title": petition.title,
                "state": petition.state,
                "created_at": petition.created_at.isoformat(),
            }
            for petition in Petition.objects.filter(creator=user).order_by("created_at")
        ],
        "signatures": [
            {
                "petition": signature.petition_id,
                "petition_title": signature.petition.title,
                "name": signature.name,
                "email": signature.email,
                "country": signature.country,
                "postcode": signature.postcode,
                "state": signature.state,
                "wants_updates": signature.wants_updates,
                "listed_publicly": signature.listed_publicly,
                "signed_at": signature.created_at.isoformat(),
                "confirmed_at": signature.confirmed_at.isoformat()
                if signature.confirmed_at
                else None,
            }
            for signature in _signatures_of(user).select_related("petition").order_by("created_at")
        ],
        "activity": [
            {"action": event.action, "at": event.created_at.isoformat()}
            for event in AuditEvent.objects.filter(actor=user).order_by("created_at")
        ],
    }


def _signatures_of(user: User) -> QuerySet[Signature]:
    """Signatures given from the account, or with its address before it existed."""
    return Signature.objects.filter(Q(user=user) | Q(email_normalised=normalise_email(user.email)))


@transaction.atomic
def delete_account(user: User, *, actor: User) -> None:
    """Delete the account and its personal data.

    Signatures stay counted but lose everything that identifies the signer (name, email,
    postcode, address); petitions keep the name their creator published them under. The
    audit trail keeps the events the person caused (with the actor set to null by the
    foreign key), so the history of public objects stays whole without naming anyone.
    """
    user_id = user.pk
    _signatures_of(user).update(
        name="",
        email="",
        # Still unique per petition, and no longer anybody's address.
        email_normalised=Concat(Value("deleted-"), Cast("id", CharField())),
        postcode="",
        ip_address=None,
        user=None,
        wants_updates=False,
        listed_publicly=False,
    )
    record_event(
        "account.deleted", actor=None, data={"user_id": user_id, "by_self": actor.pk == user_id}
    )
    user.delete()
