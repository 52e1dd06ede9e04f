"""Demo data for `make run`: a user per role, the legal pages, regions and petitions.

Idempotent: running it again changes nothing and prints the same logins.
"""

from __future__ import annotations

from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.roles import Role, group_name, sync_roles
from petitions.demo import load_demo_petitions
from responses.demo import load_demo_departments, load_demo_responses

DEMO_PASSWORD = "agora-demo-2026"  # noqa: S105 - published on purpose: demo accounts only

DEMO_USERS: list[tuple[str, str, Role | None]] = [
    ("citizen@agora.example", "Camille Citoyen", None),
    ("moderator@agora.example", "Morgan Moderator", Role.MODERATOR),
    ("officer@agora.example", "Olivia Officer", Role.OFFICER),
    ("reviewer@agora.example", "Rémi Reviewer", Role.REVIEWER),
    ("publisher@agora.example", "Pauline Publisher", Role.PUBLISHER),
    ("admin@agora.example", "Alex Administrator", Role.ADMINISTRATOR),
]


class Command(BaseCommand):
    help = "Load idempotent demo data and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        sync_roles()
        call_command("load_site_pages", stdout=self.stdout)
        for email, name, role in DEMO_USERS:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User.objects.create_user(email, DEMO_PASSWORD, display_name=name)
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            if role is not None:
                user.groups.add(Group.objects.get(name=group_name(role)))
                if not user.is_staff:
                    user.is_staff = True
                    user.save(update_fields=["is_staff"])
            if role is Role.ADMINISTRATOR and not user.is_superuser:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
        call_command("load_regions", stdout=self.stdout)
        users = {user.email: user for user in User.objects.filter(email__endswith="@agora.example")}
        created = load_demo_petitions(
            creator=users["citizen@agora.example"], moderator=users["moderator@agora.example"]
        )
        self.stdout.write(f"demo petitions: {created or 'already loaded'}")
        load_demo_departments(users)
        routed = load_demo_responses(users)
        self.stdout.write(f"demo departments and responses: {routed or 'already loaded'}")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD})"))
        for email, _name, role in DEMO_USERS:
            label = role.label if role else "citizen"
            self.stdout.write(f"  {label:<20} {email}")
