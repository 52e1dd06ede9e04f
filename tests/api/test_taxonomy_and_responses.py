"""Topics, regions, responses, departments and statistics in /api/v1/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from petitions.models import Region, Topic
from responses.models import Department, Response
from tests.api.data import OpenData
from tests.petitions.conftest import make_petition


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- Topics -------------------------------------------------------------------------------


def test_topics_list_their_public_petitions_count_and_lead(api, data: OpenData):
    rows = {row["slug"]: row for row in results(api.get("/api/v1/topics/"))}
    assert rows["environment"] == {
        "slug": "environment",
        "url": "http://127.0.0.1:8000/api/v1/topics/environment/",
        "name_en": "Environment",
        "name_fr": "Environnement",
        "lead_department": "ecology",
        "petition_count": 1,
    }
    assert rows["transport"]["lead_department"] is None


def test_topic_counts_leave_out_petitions_that_are_not_public(api, data: OpenData):
    for petition in data.private:
        petition.topics.add(data.topic)
    assert api.get("/api/v1/topics/environment/").json()["petition_count"] == 1


def test_an_unknown_topic_is_a_json_404(api, data):
    response = api.get("/api/v1/topics/nothing/")
    assert response.status_code == 404
    assert response.json()["detail"] == "No topic has this slug."


def test_the_topic_list_runs_a_fixed_number_of_queries(api, data):
    with CaptureQueriesContext(connection) as before:
        api.get("/api/v1/topics/")
    for n in range(5):
        Topic.objects.create(
            slug=f"t{n}", name_en="T", name_fr="T", lead_department=Department.objects.first()
        )
    with CaptureQueriesContext(connection) as after:
        api.get("/api/v1/topics/")
    assert len(after) == len(before)


def test_topics_reject_a_bad_page(api, data):
    assert api.get("/api/v1/topics/?page=x").json()["errors"] == {"page": ["Enter a whole number."]}


# --- Regions ------------------------------------------------------------------------------


def test_regions_come_with_their_population_and_parent(api, data: OpenData):
    rows = results(api.get("/api/v1/regions/?kind=fr-departement"))
    assert rows == [
        {
            "id": data.paris.pk,
            "url": f"http://127.0.0.1:8000/api/v1/regions/{data.paris.pk}/",
            "kind": "fr-departement",
            "code": "75",
            "name": "Paris",
            "country": "FR",
            "parent": data.ile_de_france.pk,
            "population": 2_000_000,
        }
    ]


def test_regions_filter_by_country(api, data: OpenData):
    assert len(results(api.get("/api/v1/regions/?country=FR"))) == 2
    assert results(api.get("/api/v1/regions/?country=US")) == []


def test_one_region_and_an_unknown_one(api, data: OpenData):
    assert api.get(f"/api/v1/regions/{data.paris.pk}/").json()["name"] == "Paris"
    response = api.get("/api/v1/regions/999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_region_list_runs_a_fixed_number_of_queries(api, data: OpenData):
    with CaptureQueriesContext(connection) as before:
        api.get("/api/v1/regions/")
    for n in range(5):
        Region.objects.create(
            kind="fr-departement", code=f"9{n}", name="R", country_id="FR", parent=data.paris
        )
    with CaptureQueriesContext(connection) as after:
        api.get("/api/v1/regions/")
    assert len(after) == len(before)


# --- Responses ----------------------------------------------------------------------------


def test_responses_list_published_ones_with_their_public_petitions(api, data: OpenData):
    rows = results(api.get("/api/v1/responses/"))
    assert [row["id"] for row in rows] == [data.response.pk]
    row = rows[0]
    assert row["department"]["slug"] == "ecology"
    # The response also answers a hidden petition: it is not listed.
    assert [p["id"] for p in row["petitions"]] == [data.open_petition.pk]
    assert "drafter" not in row
    assert "body_html" not in row


def test_one_response_has_its_html(api, data: OpenData):
    body = api.get(f"/api/v1/responses/{data.response.pk}/").json()
    assert body["body_html"] == "<p>We <strong>will</strong> plant trees.</p>"


def test_a_draft_response_is_a_json_404(api, data: OpenData):
    response = api.get(f"/api/v1/responses/{data.draft_response.pk}/")
    assert response.status_code == 404
    assert response.json()["detail"] == "No published response has this id."


def _another_response(data: OpenData, days_ago: int) -> Response:
    response = Response.objects.create(
        department=data.other_department,
        title="Transport answer",
        body="Lanes.",
        state=Response.State.PUBLISHED,
        published_at=timezone.now() - timedelta(days=days_ago),
    )
    response.petitions.set([data.closed_petition])
    return response


def test_responses_filter_by_department_petition_and_date(api, data: OpenData):
    other = _another_response(data, days_ago=10)
    ids = lambda query: [row["id"] for row in results(api.get(f"/api/v1/responses/?{query}"))]  # noqa: E731
    assert ids("department=transport") == [other.pk]
    assert ids(f"petition={data.open_petition.pk}") == [data.response.pk]
    assert ids(f"published_before={timezone.localdate() - timedelta(days=5)}") == [other.pk]
    assert ids(f"published_after={timezone.localdate()}") == [data.response.pk]
    assert ids("ordering=published_at") == [other.pk, data.response.pk]
    assert ids("") == [data.response.pk, other.pk]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("department=nowhere", "department"),
        ("petition=abc", "petition"),
        ("petition=0", "petition"),
        ("published_after=2026-99-01", "published_after"),
        ("ordering=title", "ordering"),
        ("page_size=1000", "page_size"),
    ],
)
def test_responses_refuse_bad_parameters(api, data, query, parameter):
    response = api.get(f"/api/v1/responses/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [parameter]


def test_the_response_list_runs_a_fixed_number_of_queries(api, data: OpenData):
    with CaptureQueriesContext(connection) as before:
        api.get("/api/v1/responses/")
    for days in range(5):
        response = _another_response(data, days_ago=days)
        response.petitions.add(make_petition(title="More"))
    with CaptureQueriesContext(connection) as after:
        api.get("/api/v1/responses/")
    assert len(after) == len(before)


# --- Departments --------------------------------------------------------------------------


def test_departments_come_with_their_response_record(api, data: OpenData):
    rows = {row["slug"]: row for row in results(api.get("/api/v1/departments/"))}
    assert rows["ecology"]["record"] == {
        "routed": 1,
        "responded": 1,
        "awaiting": 0,
        "overdue": 0,
        "median_days": 10.0,
        "p90_days": 10.0,
        "share_within_target": None,
    }
    assert rows["transport"]["record"]["overdue"] == 1
    assert "contact_email" not in rows["ecology"]


def test_inactive_departments_are_not_listed_but_have_a_detail(api, data: OpenData):
    Department.objects.filter(pk=data.other_department.pk).update(is_active=False)
    assert [row["slug"] for row in results(api.get("/api/v1/departments/"))] == ["ecology"]
    assert api.get("/api/v1/departments/transport/").json()["is_active"] is False


def test_an_unknown_department_is_a_json_404(api, data):
    response = api.get("/api/v1/departments/nowhere/")
    assert response.status_code == 404
    assert response.json()["detail"] == "No department has this slug."


def test_the_department_list_runs_a_fixed_number_of_queries(api, data):
    with CaptureQueriesContext(connection) as before:
        api.get("/api/v1/departments/")
    for n in range(5):
        Department.objects.create(name_en=f"D{n}", name_fr=f"D{n}", slug=f"d{n}")
    with CaptureQueriesContext(connection) as after:
        api.get("/api/v1/departments/")
    assert len(after) == len(before)


# --- Statistics ---------------------------------------------------------------------------


def test_statistics_give_the_site_wide_figures(api, data: OpenData):
    body = api.get("/api/v1/statistics/").json()
    assert body["petitions"] == 8
    assert body["signatures"] == 190
    by_state = {row["key"]: row["count"] for row in body["by_state"]}
    assert (by_state["open"], by_state["closed"], by_state["rejected"]) == (1, 1, 2)
    assert {row["key"]: row["count"] for row in body["by_response_state"]}["responded"] == 1
    assert body["median_days_to_respond"] == 10.0
    assert body["overdue"][0]["department"]["slug"] == "transport"
    assert body["overdue"][0]["count"] == 1


def test_statistics_take_no_parameters_to_fail_on(api, data):
    assert api.get("/api/v1/statistics/?page=x").status_code == 200


def test_a_hidden_petition_finds_no_response(api, data: OpenData):
    hidden = data.private[1]
    assert data.response.petitions.filter(pk=hidden.pk).exists()
    assert results(api.get(f"/api/v1/responses/?petition={hidden.pk}")) == []
