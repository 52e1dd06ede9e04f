"""factory_boy factories shared by the tests."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import Role, group_name

PASSWORD = "correct-horse-battery-77"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        """A verified primary address, as allauth leaves it after confirmation."""
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
        if create:
            self.save()


def staff_user(*roles: Role, **kwargs: Any) -> User:
    """A staff member holding ``roles`` (role groups exist after migrate)."""
    user: User = UserFactory(is_staff=True, **kwargs)
    for role in roles:
        user.groups.add(Group.objects.get(name=group_name(role)))
    return User.objects.get(pk=user.pk)  # fresh instance: no stale permission cache
