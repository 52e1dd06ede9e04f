import pytest

from accounts import services
from accounts.models import User
from core.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_update_preferences_saves_changes_and_records_one_event():
    user = UserFactory(preferred_language="en")
    changed = services.update_preferences(
        user, actor=user, preferred_language="fr", notify_petition_updates=False
    )
    assert sorted(changed) == ["notify_petition_updates", "preferred_language"]
    user.refresh_from_db()
    assert user.preferred_language == "fr"
    assert not user.notify_petition_updates
    event = AuditEvent.objects.get(action="account.preferences_changed")
    assert event.actor == user
    assert sorted(event.data["fields"]) == ["notify_petition_updates", "preferred_language"]


def test_update_preferences_twice_with_the_same_values_records_nothing_more():
    user = UserFactory()
    services.update_preferences(user, actor=user, preferred_language="fr")
    assert services.update_preferences(user, actor=user, preferred_language="fr") == []
    assert AuditEvent.objects.filter(action="account.preferences_changed").count() == 1


def test_update_preferences_ignores_fields_that_are_not_preferences():
    user = UserFactory()
    assert services.update_preferences(user, actor=user, is_staff=True) == []
    user.refresh_from_db()
    assert not user.is_staff


def test_export_contains_the_persons_data_and_nobody_elses():
    user = UserFactory(email="me@example.org", display_name="Me")
    other = UserFactory(email="other@example.org")
    services.update_preferences(user, actor=user, preferred_language="fr")
    services.update_preferences(other, actor=other, preferred_language="fr")
    data = services.export_personal_data(user)
    assert data["account"]["email"] == "me@example.org"
    assert data["account"]["display_name"] == "Me"
    assert data["email_addresses"] == [
        {"email": "me@example.org", "verified": True, "primary": True}
    ]
    assert [a["action"] for a in data["activity"]] == ["account.preferences_changed"]
    assert "other@example.org" not in str(data)


def test_delete_account_removes_the_person_and_keeps_an_anonymous_trace():
    user = UserFactory()
    user_id = user.pk
    services.update_preferences(user, actor=user, preferred_language="fr")
    services.delete_account(user, actor=user)
    assert not User.objects.filter(pk=user_id).exists()
    deleted = AuditEvent.objects.get(action="account.deleted")
    assert deleted.actor is None
    assert deleted.data == {"user_id": user_id, "by_self": True}
    # Earlier events stay, no longer linked to the person.
    assert AuditEvent.objects.get(action="account.preferences_changed").actor is None


def test_export_includes_my_petitions_and_signatures():
    from tests.petitions.conftest import make_petition, make_signature

    user = UserFactory(email="me@example.org")
    mine = make_petition(creator=user, title="Mine")
    signed = make_petition(title="Signed")
    make_signature(signed, "ME@example.org", postcode="69001")
    make_signature(signed, "other@example.org")
    data = services.export_personal_data(user)
    assert [p["title"] for p in data["petitions_created"]] == [mine.title]
    assert [(s["petition_title"], s["postcode"]) for s in data["signatures"]] == [
        ("Signed", "69001")
    ]


def test_deleting_an_account_anonymises_its_signatures_but_keeps_them_counted():
    from petitions.models import Signature
    from tests.petitions.conftest import make_petition, make_signature

    user = UserFactory(email="me@example.org")
    petition = make_petition()
    mine = make_signature(petition, "me@example.org", user=user, ip_address="192.0.2.1")
    other = make_signature(petition, "other@example.org")
    services.delete_account(user, actor=user)
    mine.refresh_from_db()
    assert (mine.name, mine.email, mine.postcode, mine.ip_address) == ("", "", "", None)
    assert mine.email_normalised == f"deleted-{mine.pk}"
    assert mine.state == Signature.State.CONFIRMED
    other.refresh_from_db()
    assert other.email == "other@example.org"
