import pytest
from django.db import IntegrityError

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_create_user_normalises_the_domain_and_hashes_the_password():
    user = User.objects.create_user("Someone@EXAMPLE.org", "a-long-password", display_name="S")
    assert user.email == "Someone@example.org"
    assert user.check_password("a-long-password")
    assert user.password != "a-long-password"
    assert not user.is_staff
    assert user.preferred_language == "en"


def test_create_superuser_is_staff_and_superuser():
    user = User.objects.create_superuser("root@example.org", "a-long-password", display_name="R")
    assert user.is_staff
    assert user.is_superuser


def test_two_accounts_cannot_share_an_email_whatever_its_case():
    User.objects.create_user("same@example.org", "pw-123456789", display_name="A")
    with pytest.raises(IntegrityError):
        User.objects.create_user("SAME@example.org", "pw-123456789", display_name="B")


def test_an_email_is_required():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user("", "pw")
