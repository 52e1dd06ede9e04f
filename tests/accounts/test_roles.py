import pytest
from django.contrib.auth.models import Group

from accounts.roles import ROLE_PERMISSIONS, Role, group_name, is_staff_member, roles_of, sync_roles
from tests.factories import UserFactory, staff_user

pytestmark = pytest.mark.django_db


def test_every_role_is_a_group_with_exactly_its_permissions():
    for role, dotted in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=group_name(role))
        names = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert names == set(dotted)


def test_sync_roles_is_idempotent_and_repairs_drift():
    group = Group.objects.get(name=group_name(Role.MODERATOR))
    group.permissions.clear()
    sync_roles()
    sync_roles()
    assert Group.objects.filter(name__in=[group_name(r) for r in Role]).count() == len(Role)
    assert group.permissions.count() == len(ROLE_PERMISSIONS[Role.MODERATOR])


def test_a_moderator_is_staff_and_may_moderate_but_not_publish():
    moderator = staff_user(Role.MODERATOR)
    assert is_staff_member(moderator)
    assert moderator.has_perm("accounts.moderate_petitions")
    assert not moderator.has_perm("accounts.publish_responses")
    assert roles_of(moderator) == [Role.MODERATOR]


def test_a_user_can_hold_several_roles():
    user = staff_user(Role.OFFICER, Role.REVIEWER)
    assert roles_of(user) == [Role.OFFICER, Role.REVIEWER]


def test_a_citizen_or_a_staff_flag_without_a_role_is_not_staff():
    assert not is_staff_member(UserFactory())
    assert not is_staff_member(UserFactory(is_staff=True))
    assert not is_staff_member(staff_user(Role.MODERATOR, is_active=False))
