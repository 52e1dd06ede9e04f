"""GET petitions.json and petitions/{id}.json: the WTP contract field by field, and every
parameter."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from petitions.models import Petition
from tests.api_wtp.conftest import BASE, make_petition, publish_response

pytestmark = pytest.mark.django_db

PETITION_KEYS = {
    "id", "type", "title", "body", "issues", "signatureThreshold", "signatureCount",
    "signaturesNeeded", "url", "deadline", "status", "response", "created", "isSignable",
    "isPublic", "reachedPublic",
}  # fmt: skip


def results(client, **query):
    response = client.get(BASE + "petitions.json", query)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def ids(client, **query):
    return [row["id"] for row in results(client, **query)]


def error(client, path, **query):
    response = client.get(BASE + path, query)
    info = response.json()["metadata"]["responseInfo"]
    assert info["status"] == response.status_code
    return response.status_code, info["errorCode"], info["developerMessage"]


@override_settings(SITE_URL="https://petitions.example.org")
def test_a_petition_has_every_wtp_field_with_its_type(client, petition, topic):
    (row,) = results(client)
    assert set(row) == PETITION_KEYS
    assert row["id"] == str(petition.pk)
    assert row["type"] == "petition"
    assert row["title"] == "Plant more trees in cities"
    assert row["body"] == "Shade, cooler streets and cleaner air.\n\nTrees cool streets."
    assert row["issues"] == [{"id": topic.pk, "name": "Environment"}]
    assert row["signatureThreshold"] == 10
    assert row["signatureCount"] == 4
    assert row["signaturesNeeded"] == 6
    assert row["url"] == f"https://petitions.example.org/petitions/{petition.pk}/"
    assert row["deadline"] == int(petition.deadline.timestamp())
    assert row["status"] == "open"
    assert row["response"] == []
    assert row["created"] == int(petition.created_at.timestamp())
    assert row["isSignable"] is True
    assert row["isPublic"] is True
    assert row["reachedPublic"] == int(petition.opened_at.timestamp())
    for name in ("deadline", "created", "reachedPublic", "signatureCount"):
        assert type(row[name]) is int


@override_settings(SITE_URL="https://petitions.example.org")
def test_a_responded_petition_links_its_published_response(client, petition):
    response = publish_response(petition)
    (row,) = results(client)
    assert row["status"] == "responded"
    assert row["response"] == {
        "id": str(response.pk),
        "url": f"https://petitions.example.org/responses/{response.pk}/",
        "associationTime": int(response.published_at.timestamp()),
    }


def test_a_draft_response_is_not_linked(client, petition):
    publish_response(petition, state="draft", published_at=None)
    (row,) = results(client)
    assert row["response"] == []


def test_only_published_petitions_are_listed(client, petition):
    for state in (
        Petition.State.DRAFT,
        Petition.State.AWAITING_MODERATION,
        Petition.State.HIDDEN,
        Petition.State.REMOVED,
        Petition.State.REJECTED,
    ):
        make_petition(state=state, title=f"In state {state}")
    closed = make_petition(state=Petition.State.CLOSED, closed_at=timezone.now())
    assert set(ids(client)) == {str(petition.pk), str(closed.pk)}


def test_limit_defaults_to_ten_is_capped_at_a_thousand_and_offset_pages(client):
    made = [make_petition(title=f"P{n}") for n in range(12)]
    body = client.get(BASE + "petitions.json").json()
    assert len(body["results"]) == 10
    assert body["metadata"]["resultset"] == {"count": 12, "limit": 10, "offset": 0}
    body = client.get(BASE + "petitions.json", {"limit": 5000, "offset": 10}).json()
    assert body["metadata"]["resultset"] == {"count": 12, "limit": 1000, "offset": 10}
    assert [row["id"] for row in body["results"]] == [str(made[1].pk), str(made[0].pk)]


def test_pages_never_repeat_or_skip_a_petition(client):
    made = {str(make_petition(title=f"P{n}").pk) for n in range(7)}
    seen = [*ids(client, limit=3), *ids(client, limit=3, offset=3), *ids(client, limit=3, offset=6)]
    assert sorted(seen) == sorted(made)


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "ten"}, {"limit": "-1"}, {"offset": "x"}, {"isSignable": "maybe"},
        {"signatureCountFloor": "lots"}, {"signatureThresholdCeiling": "1.5"},
        {"createdBefore": "yesterday"}, {"createdAfter": "-5"}, {"status": "pending"},
        {"sortBy": "title"}, {"sortOrder": "up"},
    ],
)  # fmt: skip
def test_a_bad_parameter_is_a_400_naming_it(client, query):
    status, code, message = error(client, "petitions.json", **query)
    assert status == 400
    assert code == ""
    assert next(iter(query)) in message


def test_title_and_body_filter_by_words_in_them(client, petition):
    other = make_petition(title="Free school meals", summary="Lunch for every child.")
    assert ids(client, title="TREES") == [str(petition.pk)]
    assert ids(client, body="every child") == [str(other.pk)]
    assert ids(client, body="cooler streets") == [str(petition.pk)]


def test_is_signable_separates_open_petitions_from_closed_ones(client, petition):
    closed = make_petition(state=Petition.State.CLOSED)
    late = make_petition(deadline=timezone.now() - timedelta(minutes=1))
    assert ids(client, isSignable="1") == [str(petition.pk)]
    assert set(ids(client, isSignable="false")) == {str(closed.pk), str(late.pk)}


def test_is_public_false_without_an_id_is_error_86(client, petition):
    status, code, _message = error(client, "petitions.json", isPublic="0")
    assert (status, code) == (400, "86")
    assert ids(client, isPublic="1") == [str(petition.pk)]


def test_a_rejected_petition_with_its_text_shown_is_readable_by_id_only(client):
    rejected = make_petition(
        state=Petition.State.REJECTED, rejection_reason=Petition.RejectionReason.DUPLICATE
    )
    assert ids(client) == []
    row = client.get(BASE + f"petitions/{rejected.pk}.json").json()["results"][0]
    assert row["isPublic"] is False
    assert row["isSignable"] is False
    assert row["reachedPublic"] == 0
    assert row["status"] == "closed"


def test_a_petition_whose_text_is_hidden_is_not_found(client):
    offensive = make_petition(
        state=Petition.State.REJECTED, rejection_reason=Petition.RejectionReason.OFFENSIVE
    )
    hidden = make_petition(state=Petition.State.HIDDEN)
    for item in (offensive, hidden):
        assert error(client, f"petitions/{item.pk}.json")[:2] == (404, "84")


def test_signature_count_and_threshold_ranges(client):
    small = make_petition(signature_count=5, response_threshold=100)
    large = make_petition(signature_count=500, response_threshold=100_000)
    assert ids(client, signatureCountFloor=100) == [str(large.pk)]
    assert ids(client, signatureCountCeiling=100) == [str(small.pk)]
    assert ids(client, signatureCountFloor=5, signatureCountCeiling=5) == [str(small.pk)]
    assert ids(client, signatureThresholdFloor=1000) == [str(large.pk)]
    assert ids(client, signatureThresholdCeiling=1000) == [str(small.pk)]


def test_status_maps_both_tracks(client, petition):
    pending = make_petition(response_state=Petition.ResponseState.AWAITING)
    closed = make_petition(state=Petition.State.CLOSED)
    responded = make_petition(state=Petition.State.CLOSED)
    responded.topics.add(petition.topics.get())
    publish_response(responded)
    assert ids(client, status="open") == [str(petition.pk)]
    assert ids(client, status="pending response") == [str(pending.pk)]
    assert ids(client, status="responded") == [str(responded.pk)]
    assert ids(client, status="closed") == [str(closed.pk)]
    statuses = {row["id"]: row["status"] for row in results(client)}
    assert statuses[str(pending.pk)] == "pending response"


@override_settings(SITE_URL="https://petitions.example.org")
def test_url_finds_the_petition_at_that_address(client, petition):
    make_petition()
    assert ids(client, url=f"https://petitions.example.org/petitions/{petition.pk}/") == [
        str(petition.pk)
    ]
    assert ids(client, url=f"/petitions/{petition.pk}/") == [str(petition.pk)]


@pytest.mark.parametrize(
    "url", ["https://elsewhere.example/petitions/1/", "https://petitions.example.org/about/", "::"]
)
@override_settings(SITE_URL="https://petitions.example.org")
def test_a_url_that_is_not_a_petition_here_is_error_88(client, url):
    assert error(client, "petitions.json", url=url)[:2] == (400, "88")


def test_response_id_finds_the_petitions_it_answers(client, petition):
    response = publish_response(petition)
    make_petition()
    assert ids(client, responseID=response.pk) == [str(petition.pk)]
    assert ids(client, responseID=response.pk + 1) == []


@pytest.mark.parametrize("value", ["abc", "0", "-3", ""])
def test_a_bad_response_id_is_error_87(client, value):
    assert error(client, "petitions.json", responseID=value)[:2] == (400, "87")


def test_created_before_and_after_take_unix_seconds(client):
    old = make_petition()
    Petition.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = make_petition()
    cut = int((timezone.now() - timedelta(days=5)).timestamp())
    assert ids(client, createdBefore=cut) == [str(old.pk)]
    assert ids(client, createdAfter=cut) == [str(new.pk)]


def test_sort_by_signature_count_and_date_reached_public(client):
    now = timezone.now()
    a = make_petition(signature_count=30, opened_at=now - timedelta(days=3))
    b = make_petition(signature_count=10, opened_at=now - timedelta(days=1))
    c = make_petition(signature_count=20, opened_at=now - timedelta(days=2))
    assert ids(client, sortBy="signature_count") == [str(a.pk), str(c.pk), str(b.pk)]
    assert ids(client, sortBy="signature_count", sortOrder="asc") == [
        str(b.pk), str(c.pk), str(a.pk)
    ]  # fmt: skip
    assert ids(client, sortBy="date_reached_public", sortOrder="asc") == [
        str(a.pk), str(c.pk), str(b.pk)
    ]  # fmt: skip


def test_one_petition_by_id(client, petition):
    body = client.get(BASE + f"petitions/{petition.pk}.json").json()
    assert body["metadata"]["resultset"] == {"count": 1, "limit": 1, "offset": 0}
    (row,) = body["results"]
    assert set(row) == PETITION_KEYS
    assert row["id"] == str(petition.pk)


def test_an_unknown_petition_is_error_84(client):
    assert error(client, "petitions/424242.json")[:2] == (404, "84")


def test_the_list_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries, topic):
    for n in range(5):
        item = make_petition(title=f"P{n}")
        item.topics.add(topic)
        publish_response(item)
    with django_assert_max_num_queries(6):
        assert len(results(client)) == 5


def test_answers_are_cacheable_public_data(client, petition):
    response = client.get(BASE + "petitions.json")
    assert "public" in response["Cache-Control"]
    assert "max-age=60" in response["Cache-Control"]
