import json

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from tests.factories import PASSWORD, UserFactory, staff_user

pytestmark = pytest.mark.django_db


# --- The account page ---------------------------------------------------------------------


def test_the_account_page_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(reverse("accounts:account"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_saving_preferences_switches_the_interface_language(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:account"),
        {"display_name": "Camille", "preferred_language": "fr", "notify_petition_updates": "on"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.preferred_language == "fr"
    assert user.display_name == "Camille"
    assert not user.notify_signed_petition_responses
    assert response.cookies["django_language"].value == "fr"
    page = client.get(reverse("accounts:account"))
    assert '<html lang="fr"' in page.text


def test_bad_preferences_are_refused_with_a_translated_message_and_nothing_saved(client):
    user = UserFactory(display_name="Before")
    client.force_login(user)
    response = client.post(
        reverse("accounts:account"),
        {"display_name": "   ", "preferred_language": "xx"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.text
    user.refresh_from_db()
    assert user.display_name == "Before"


def test_account_page_refuses_other_methods(client):
    client.force_login(UserFactory())
    assert client.delete(reverse("accounts:account")).status_code == 405


# --- Download my data ---------------------------------------------------------------------


def test_download_my_data_is_a_json_attachment_of_my_data(client):
    user = UserFactory(email="mine@example.org")
    client.force_login(user)
    response = client.post(reverse("accounts:export"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content)["account"]["email"] == "mine@example.org"


def test_download_my_data_needs_a_post_and_a_login(client):
    assert client.post(reverse("accounts:export")).status_code == 302
    client.force_login(UserFactory())
    assert client.get(reverse("accounts:export")).status_code == 405


# --- Delete my account --------------------------------------------------------------------


def test_deleting_with_a_wrong_password_deletes_nothing(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:delete"),
        {"password": "wrong", "confirm": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "This password is not correct." in response.text
    assert User.objects.filter(pk=user.pk).exists()


def test_deleting_without_confirming_deletes_nothing(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD})
    assert response.status_code == 200
    assert User.objects.filter(pk=user.pk).exists()


def test_deleting_my_account_removes_it_and_logs_me_out(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("accounts:delete"), {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert not EmailAddress.objects.filter(email=user.email).exists()
    assert client.get(reverse("accounts:account")).status_code == 302


# --- The staff area -----------------------------------------------------------------------


def test_the_staff_area_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(reverse("staff:home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_staff_area_refuses_citizens_with_a_friendly_403(client):
    client.force_login(UserFactory())
    response = client.get(reverse("staff:home"))
    assert response.status_code == 403
    assert "<main" in response.text


@pytest.mark.parametrize("role", list(Role))
def test_every_staff_role_reaches_the_staff_area(client, role):
    client.force_login(staff_user(role))
    response = client.get(reverse("staff:home"))
    assert response.status_code == 200
    assert str(role.label) in response.text


def test_only_administrators_reach_the_user_administration(client):
    client.force_login(staff_user(Role.MODERATOR))
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    client.force_login(staff_user(Role.ADMINISTRATOR))
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200


# --- Sign-up and login through allauth ----------------------------------------------------


def test_signup_with_bad_input_shows_translated_errors_and_creates_nothing(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "not-an-email", "display_name": "", "password1": "short", "password2": "other"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert response.status_code == 200
    assert "Saisissez une adresse e-mail valide." in response.text
    assert User.objects.count() == 0


def test_signup_needs_email_verification_before_login(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {
                "email": "new@example.org",
                "display_name": "New Person",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(email="new@example.org")
    assert user.display_name == "New Person"
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1  # sent by the eager `mail` queue after the commit
    assert "/accounts/confirm-email/" in mail.outbox[0].body


def test_login_with_a_wrong_password_says_so_without_a_crash(client):
    UserFactory(email="known@example.org")
    response = client.post(
        reverse("account_login"),
        {"login": "known@example.org", "password": "wrong"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "not correct" in response.text


def test_login_with_an_unverified_email_is_held_until_verification(client):
    UserFactory(email="unverified@example.org", verified=False)
    response = client.post(
        reverse("account_login"), {"login": "unverified@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
