import pytest
from django.contrib.auth.models import AnonymousUser

from core.audit import events_for, record_event
from core.models import AuditEvent, Page
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_record_event_stores_actor_action_target_and_data():
    user = UserFactory()
    event = record_event("account.preferences_changed", actor=user, target=user, data={"a": 1})
    event.refresh_from_db()
    assert event.actor == user
    assert event.action == "account.preferences_changed"
    assert event.target == user
    assert event.data == {"a": 1}


def test_anonymous_actor_is_recorded_as_the_system():
    event = record_event("something.happened", actor=AnonymousUser())
    assert event.actor is None
    assert event.target_id == ""


def test_events_for_lists_only_the_objects_history_newest_first():
    page = Page.objects.create(slug="terms", title_en="T", title_fr="T", body_en="b", body_fr="b")
    other = UserFactory()
    first = record_event("page.created", target=page)
    second = record_event("page.edited", target=page)
    record_event("user.created", target=other)
    assert list(events_for(page)) == [second, first]
    assert AuditEvent.objects.count() == 3
