"""The public figures, checked against a data set worked out by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from petitions.models import Petition
from responses import public_selectors as selectors
from responses.models import Assignment, Debate, Department, Track
from responses.services import publication
from tests.petitions.conftest import make_petition
from tests.responses.conftest import routed_petition
from tests.responses.test_public_views import publish

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAY = timedelta(days=1)

# Days from the threshold to the response, and whether it came by the due date.
# Sorted: 3, 7.5, 12, 31, 45, 94 (n = 6).
#   median: rank (6 - 1) * 0.5 = 2.5 -> 12 + 0.5 * (31 - 12) = 21.5
#   p90:    rank (6 - 1) * 0.9 = 4.5 -> 45 + 0.5 * (94 - 45) = 69.5
#   by the due date: 4 of 6 = 66.7 %
RESPONDED = [(12, True), (3, True), (94, False), (31, True), (7.5, True), (45, False)]


def responded(department: Department, days: float, on_time: bool, **fields) -> Petition:
    reached = NOW - timedelta(days=200)
    answered = reached + timedelta(days=days)
    due = answered + DAY if on_time else answered - DAY
    petition = make_petition(
        state=Petition.State.CLOSED,
        response_state=Petition.ResponseState.RESPONDED,
        response_threshold_reached_at=reached,
        responded_at=answered,
        response_due_at=due,
        **fields,
    )
    lead(petition, department, due)
    return petition


def lead(petition: Petition, department: Department, due, **fields) -> Assignment:
    return Assignment.objects.create(
        petition=petition,
        department=department,
        role=Assignment.Role.LEAD,
        track=Track.RESPONSE,
        due_at=due,
        **fields,
    )


def awaiting(department: Department, due, **fields) -> Petition:
    petition = make_petition(
        response_state=Petition.ResponseState.AWAITING,
        response_threshold_reached_at=NOW - timedelta(days=40),
        response_due_at=due,
        **fields,
    )
    lead(petition, department, due)
    return petition


@pytest.fixture
def data_set(department, other_department):
    for days, on_time in RESPONDED:
        responded(department, days, on_time, signature_count=100)
    # Ecology: two overdue (by 3 days and by 10 days), one not due yet.
    awaiting(department, NOW - 3 * DAY, signature_count=50)
    awaiting(department, NOW - 10 * DAY - timedelta(hours=5), signature_count=50)
    awaiting(department, NOW + 5 * DAY, signature_count=50)
    # Transport: one overdue by two hours (counts as one day).
    awaiting(other_department, NOW - timedelta(hours=2), signature_count=20)
    # Re-routed away from Transport: its ended assignment no longer counts there.
    moved = awaiting(department, NOW + 20 * DAY)
    lead(moved, other_department, NOW - 30 * DAY, ended_at=NOW - 15 * DAY)
    # Not on the response track yet.
    make_petition(signature_count=7)
    make_petition(state=Petition.State.DRAFT)
    make_petition(state=Petition.State.REJECTED, rejection_reason="duplicate")
    # Total signatures: 6 * 100 + 3 * 50 + 20 + 7 = 777.


def test_percentile_interpolates_like_percentile_cont():
    assert selectors.percentile([], 0.5) is None
    assert selectors.percentile([4.0], 0.9) == 4.0
    assert selectors.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert selectors.percentile([10.0, 0.0, 20.0], 0.9) == pytest.approx(18.0)


def test_site_statistics_on_a_known_data_set(data_set, department, other_department):
    stats = selectors.site_statistics(NOW)
    by_state = {t.key: t.count for t in stats.by_state}
    assert by_state == {
        "draft": 1,
        "collecting_supporters": 0,
        "awaiting_moderation": 0,
        "open": 6,
        "closed": 6,
        "rejected": 1,
        "hidden": 0,
        "removed": 0,
    }
    assert {t.key: t.count for t in stats.by_response_state} == {
        "none": 3,
        "awaiting_response": 5,
        "responded": 6,
    }
    assert stats.petitions == 14
    assert stats.signatures == 777
    assert stats.times.responded == 6
    assert stats.times.median_days == 21.5
    assert stats.times.p90_days == 69.5
    assert stats.times.within_target == 4
    assert stats.times.with_target == 6
    assert stats.times.share_within_target == 66.7
    # Up to 7 days: 3; 8 to 30: 7.5, 12; 31 to 60: 31, 45; 61 to 90: none; over 90: 94.
    assert [t.count for t in stats.time_buckets] == [1, 2, 2, 0, 1]
    assert [(row.department, row.count, row.most_days) for row in stats.overdue] == [
        (department, 2, 10),
        (other_department, 1, 1),
    ]
    assert stats.overdue_total == 3


def test_site_statistics_with_no_data(db):
    stats = selectors.site_statistics()
    assert stats.petitions == 0
    assert stats.signatures == 0
    assert stats.times.median_days is None
    assert stats.times.p90_days is None
    assert stats.times.share_within_target is None
    assert stats.overdue == []


def test_department_records_on_a_known_data_set(data_set, department, other_department):
    ecology, transport = selectors.department_records([department, other_department], NOW)
    assert (ecology.routed, ecology.responded, ecology.awaiting, ecology.overdue) == (10, 6, 4, 2)
    assert ecology.times.median_days == 21.5
    assert ecology.times.share_within_target == 66.7
    assert (transport.routed, transport.responded, transport.awaiting, transport.overdue) == (
        1,
        0,
        1,
        1,
    )
    assert transport.times.median_days is None


def test_department_records_run_two_queries_however_many_departments(data_set, db):
    for n in range(5):
        Department.objects.create(name_en=f"D{n}", name_fr=f"D{n}", slug=f"d{n}")
    departments = list(Department.objects.all())
    with CaptureQueriesContext(connection) as queries:
        records = selectors.department_records(departments, NOW)
    assert len(queries) == 2
    assert len(records) == 7


def test_the_department_page_lists_awaiting_petitions_earliest_due_first(data_set, department):
    page = selectors.department_page(department, NOW)
    assert [row.days_overdue for row in page.awaiting] == [10, 3, 0, 0]
    assert page.record.overdue == 2


def test_a_response_day_count_starts_at_the_threshold_and_never_goes_negative():
    reached = NOW
    times = selectors.response_times(
        [(reached, reached + timedelta(hours=36), None), (reached, reached - DAY, reached)]
    )
    assert times.measured == [1.5, 0]
    assert times.responded == 2
    assert times.with_target == 1
    assert times.within_target == 1


def test_days_overdue_counts_any_part_of_a_day_as_one():
    assert selectors.days_overdue(None, NOW) == 0
    assert selectors.days_overdue(NOW + DAY, NOW) == 0
    assert selectors.days_overdue(NOW - timedelta(minutes=1), NOW) == 1
    assert selectors.days_overdue(NOW - timedelta(days=2, hours=23), NOW) == 2


def test_the_petition_section_holds_the_response_its_corrections_and_the_debate(
    petition, officer, reviewer, publisher, committee
):
    response = publish([petition], officer=officer, reviewer=reviewer, publisher=publisher)
    publication.correct_response(response, actor=publisher, title="T", body="B", note="Fixed")
    Debate.objects.create(petition=petition, committee=committee)
    petition.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        section = selectors.petition_response_section(petition)
    assert len(queries) == 3  # responses, their corrections, the debate
    assert [item.response for item in section.responses] == [response]
    assert [version.note for version in section.responses[0].corrections] == ["Fixed"]
    assert section.awaiting is None
    assert section.debate is not None
    assert section.debate.committee == committee
    assert bool(section)


def test_the_petition_section_of_an_awaiting_petition(topic, department):
    petition = routed_petition(topic)
    section = selectors.petition_response_section(petition, now=petition.response_due_at + DAY)
    assert section.awaiting is not None
    assert section.awaiting.department == department
    assert section.awaiting.due_at == petition.response_due_at
    assert section.days_overdue == 1
    assert section.responses == []


def test_a_petition_off_the_response_track_has_an_empty_section(db):
    assert not selectors.petition_response_section(make_petition())


def test_the_unsubscribe_target_reads_without_changing(petition):
    from django.core import signing

    from responses.services.outbox import UNSUBSCRIBE_SALT
    from tests.petitions.conftest import make_signature

    signature = make_signature(petition, "reader@example.org", wants_updates=True)
    token = signing.dumps(signature.pk, salt=UNSUBSCRIBE_SALT)
    assert selectors.unsubscribe_target(token) == signature
    signature.refresh_from_db()
    assert signature.wants_updates
    assert selectors.unsubscribe_target(token[:-2]) is None
    assert selectors.unsubscribe_target(signing.dumps("x", salt=UNSUBSCRIBE_SALT)) is None
