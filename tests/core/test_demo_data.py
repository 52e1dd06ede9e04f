import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.roles import Role, roles_of
from core.management.commands.load_demo_data import DEMO_PASSWORD
from core.models import Page

pytestmark = pytest.mark.django_db


def test_demo_data_has_a_user_per_role_and_the_legal_pages_and_can_load_twice(capsys):
    call_command("load_demo_data")
    Page.objects.filter(slug="terms").update(title_en="Edited by an administrator")
    call_command("load_demo_data")
    output = capsys.readouterr().out

    assert User.objects.count() == 6
    held = {role for user in User.objects.all() for role in roles_of(user)}
    assert held == set(Role)
    assert Page.objects.count() == 3
    assert Page.objects.get(slug="terms").title_en == "Edited by an administrator"
    assert "moderator@agora.example" in output
    assert DEMO_PASSWORD in output
    assert User.objects.get(email="admin@agora.example").check_password(DEMO_PASSWORD)
