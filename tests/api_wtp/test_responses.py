"""GET responses.json and responses/{id}.json: published responses only, sanitised HTML."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from petitions.models import Petition
from responses.models import Response
from tests.api_wtp.conftest import BASE, make_petition, publish_response

pytestmark = pytest.mark.django_db

RESPONSE_KEYS = {
    "id", "title", "body", "body_plain", "petitions", "url", "created", "agency", "issues"
}  # fmt: skip
ANSWERED_KEYS = {"id", "url", "short_url", "title", "signature_count", "timestamp_reached_ready"}


@override_settings(SITE_URL="https://petitions.example.org")
def test_a_response_has_every_wtp_field(client, petition, topic):
    response = publish_response(petition)
    petition.refresh_from_db()
    body = client.get(BASE + "responses.json").json()
    assert body["metadata"]["resultset"] == {"count": 1, "limit": 10, "offset": 0}
    (row,) = body["results"]
    assert set(row) == RESPONSE_KEYS
    assert row["id"] == str(response.pk)
    assert row["title"] == "Our answer on trees"
    assert "<strong>plant</strong>" in row["body"]
    assert "<script>" not in row["body"]
    assert row["body_plain"].startswith("We will plant trees.")
    assert "<" not in row["body_plain"].replace("&lt;", "")
    assert row["url"] == f"https://petitions.example.org/responses/{response.pk}/"
    assert row["created"] == int(response.published_at.timestamp())
    assert row["agency"] == "Ministry of the Environment"
    assert row["issues"] == [{"id": topic.pk, "name": "Environment"}]
    (answered,) = row["petitions"]
    assert set(answered) == ANSWERED_KEYS
    assert answered == {
        "id": str(petition.pk),
        "url": f"https://petitions.example.org/petitions/{petition.pk}/",
        "short_url": f"https://petitions.example.org/petitions/{petition.pk}/",
        "title": petition.title,
        "signature_count": 4,
        "timestamp_reached_ready": int(petition.response_threshold_reached_at.timestamp()),
    }


def test_only_published_responses_are_shown(client, petition):
    publish_response(petition, state=Response.State.APPROVED, published_at=None)
    assert client.get(BASE + "responses.json").json()["results"] == []


def test_a_response_lists_only_the_public_petitions_it_answers(client, petition, topic):
    response = publish_response(petition)
    hidden = make_petition(state=Petition.State.HIDDEN)
    response.petitions.add(hidden)
    (row,) = client.get(BASE + f"responses/{response.pk}.json").json()["results"]
    assert [item["id"] for item in row["petitions"]] == [str(petition.pk)]


def test_responses_are_newest_first_and_paged(client, petition):
    older = publish_response(petition, published_at=timezone.now() - timedelta(days=2))
    newer = publish_response(petition)
    body = client.get(BASE + "responses.json", {"limit": 1, "offset": 1}).json()
    assert body["metadata"]["resultset"] == {"count": 2, "limit": 1, "offset": 1}
    assert [row["id"] for row in body["results"]] == [str(older.pk)]
    first = client.get(BASE + "responses.json", {"limit": 1}).json()["results"]
    assert [row["id"] for row in first] == [str(newer.pk)]


@pytest.mark.parametrize("suffix", ["999999", "abc"])
def test_an_unknown_response_is_error_84(client, suffix):
    response = client.get(BASE + f"responses/{suffix}.json")
    assert response.status_code == 404
    assert response.json()["metadata"]["responseInfo"]["errorCode"] == "84"


def test_a_draft_response_is_not_found_by_id(client, petition):
    draft = publish_response(petition, state=Response.State.DRAFT, published_at=None)
    assert client.get(BASE + f"responses/{draft.pk}.json").status_code == 404


def test_the_response_list_takes_a_fixed_number_of_queries(
    client, topic, django_assert_max_num_queries
):
    for n in range(4):
        item = make_petition(title=f"P{n}")
        item.topics.add(topic)
        publish_response(item)
    with django_assert_max_num_queries(5):
        assert len(client.get(BASE + "responses.json").json()["results"]) == 4
