"""/api/v1/petitions/: only public petitions, every filter and sort, the detail's counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from petitions.models import Petition
from tests.api.data import OpenData
from tests.petitions.conftest import make_petition

LIST = "/api/v1/petitions/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_the_list_shows_public_petitions_only(api, data: OpenData):
    listed = ids(api.get(LIST))
    assert sorted(listed) == sorted(p.pk for p in data.public)
    for petition in data.private:
        assert petition.pk not in listed


def test_the_list_is_sorted_by_signatures_then_id_by_default(api, data: OpenData):
    twin = make_petition(title="Same count", signature_count=40)
    listed = ids(api.get(LIST))
    assert listed[0] == data.open_petition.pk
    # Two petitions with 40 signatures: the higher id first, every time.
    assert listed.index(twin.pk) < listed.index(data.closed_petition.pk)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=open", ["open_petition"]),
        ("state=closed", ["closed_petition"]),
        ("state=rejected", ["rejected_petition"]),
        ("response_state=responded", ["open_petition"]),
        ("response_state=awaiting_response", ["closed_petition"]),
        ("consideration_state=none", ["open_petition", "closed_petition", "rejected_petition"]),
        ("topic=environment", ["open_petition"]),
        ("topic=transport", ["closed_petition"]),
        ("department=ecology", ["open_petition"]),
        ("department=transport", ["closed_petition"]),
        ("region=fr-departement:75", ["open_petition"]),
        ("signatures_min=41", ["open_petition"]),
        ("signatures_max=40", ["closed_petition", "rejected_petition"]),
        ("signatures_min=40&signatures_max=40", ["closed_petition"]),
        ("q=trees", ["open_petition"]),
        ("q=cycle", ["closed_petition"]),
    ],
)
def test_each_filter_selects_its_petitions(api, data: OpenData, query, expected):
    listed = ids(api.get(f"{LIST}?{query}"))
    assert sorted(listed) == sorted(getattr(data, name).pk for name in expected)


def test_region_filter_takes_an_id_too(api, data: OpenData):
    assert ids(api.get(f"{LIST}?region={data.ile_de_france.pk}")) == [data.open_petition.pk]


def test_date_ranges_filter_on_their_own_dates(api, data: OpenData):
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    assert ids(api.get(f"{LIST}?closed_after={yesterday}&closed_before={yesterday}")) == [
        data.closed_petition.pk
    ]
    assert ids(api.get(f"{LIST}?closed_before={yesterday - timedelta(days=1)}")) == []
    assert data.open_petition.pk in ids(api.get(f"{LIST}?created_after={today}"))
    assert ids(api.get(f"{LIST}?opened_before={today - timedelta(days=100)}")) == [
        data.closed_petition.pk
    ]
    assert ids(api.get(f"{LIST}?responded_after={today}")) == [data.open_petition.pk]


@pytest.mark.parametrize(
    ("ordering", "first"),
    [
        ("signature_count", "rejected_petition"),
        ("-signature_count", "open_petition"),
        ("opened_at", "closed_petition"),
        ("-id", "rejected_petition"),
        ("id", "open_petition"),
        ("closed_at", "closed_petition"),
    ],
)
def test_ordering_sorts_the_list(api, data: OpenData, ordering, first):
    assert ids(api.get(f"{LIST}?ordering={ordering}"))[0] == getattr(data, first).pk


def test_nulls_sort_last_whichever_the_direction(api, data: OpenData):
    assert ids(api.get(f"{LIST}?ordering=-closed_at"))[0] == data.closed_petition.pk
    assert ids(api.get(f"{LIST}?ordering=opened_at"))[-1] == data.rejected_petition.pk


def test_relevance_orders_search_matches(api, data: OpenData):
    assert ids(api.get(f"{LIST}?q=trees&ordering=relevance")) == [data.open_petition.pk]
    # Without q, relevance falls back to the default order rather than failing.
    assert ids(api.get(f"{LIST}?ordering=relevance"))[0] == data.open_petition.pk


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("state=draft", "state"),
        ("state=hidden", "state"),
        ("response_state=maybe", "response_state"),
        ("consideration_state=x", "consideration_state"),
        ("topic=no-such-topic", "topic"),
        ("department=no-such-department", "department"),
        ("region=nowhere:99", "region"),
        ("region=999999", "region"),
        ("signatures_min=ten", "signatures_min"),
        ("signatures_min=1.5", "signatures_min"),
        ("signatures_min=10.0", "signatures_min"),
        ("signatures_max=1_000", "signatures_max"),
        ("signatures_max=-1", "signatures_max"),
        ("created_after=2026-13-01", "created_after"),
        ("created_before=yesterday", "created_before"),
        ("opened_after=2026-02-30", "opened_after"),
        ("closed_before=x", "closed_before"),
        ("responded_after=1", "responded_after"),
        ("ordering=title", "ordering"),
        ("ordering=email", "ordering"),
        ("page=0", "page"),
        ("page=two", "page"),
        ("page=1.0", "page"),
        ("page=+1", "page"),
        ("page_size=1_0", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=lots", "page_size"),
        (f"q={'x' * 201}", "q"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(api, data, query, parameter):
    response = api.get(f"{LIST}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == 400
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [parameter]
    assert parameter in body["detail"]


def test_several_bad_parameters_are_all_named(api, data):
    body = api.get(f"{LIST}?state=x&ordering=y&signatures_min=z").json()
    assert set(body["errors"]) == {"state", "ordering", "signatures_min"}


def test_unknown_parameters_are_ignored(api, data: OpenData):
    assert len(ids(api.get(f"{LIST}?colour=blue"))) == len(data.public)


def test_pages_are_stable_and_bounded(api, data: OpenData):
    for n in range(5):
        make_petition(title=f"Equal {n}", signature_count=7)
    seen: list[int] = []
    page = 1
    while True:
        response = api.get(f"{LIST}?page_size=2&page={page}")
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        assert len(body["results"]) <= 2
        if body["next"] is None:
            break
        page += 1
    assert body["count"] == len(data.public) + 5
    assert len(seen) == len(set(seen)) == body["count"]


def test_a_page_past_the_last_is_a_json_404(api, data):
    response = api.get(f"{LIST}?page=50")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_list_runs_a_fixed_number_of_queries(api, data: OpenData):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"{LIST}?page_size=100").status_code == 200
        return len(queries)

    few = count_queries()
    for n in range(8):
        petition = make_petition(title=f"More {n}")
        petition.topics.set([data.topic, data.other_topic])
        data.response.petitions.add(petition)
    assert count_queries() == few


def test_the_list_with_every_filter_still_runs_a_fixed_number_of_queries(api, data: OpenData):
    query = f"{LIST}?topic=environment&department=ecology&region=fr-departement:75&q=trees"
    with CaptureQueriesContext(connection) as before:
        api.get(query)
    for n in range(5):
        petition = make_petition(title=f"Trees again {n}")
        petition.topics.set([data.topic])
    with CaptureQueriesContext(connection) as after:
        api.get(query)
    assert len(after) == len(before)


def test_the_detail_gives_counts_by_region_country_and_day(api, data: OpenData):
    response = api.get(f"{LIST}{data.open_petition.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == data.open_petition.title
    assert body["topics"] == ["environment"]
    assert body["responses"] == [data.response.pk]
    assert body["signatures_by_region"][0] == {
        "region": data.ile_de_france.pk,
        "kind": "fr-region",
        "code": "11",
        "name": "Île-de-France",
        "count": 120,
        "per_100k": 1.0,
    }
    paris = body["signatures_by_region"][1]
    assert (paris["code"], paris["count"], paris["per_100k"]) == ("75", 100, 5.0)
    assert body["signatures_by_country"] == [
        {"country": "FR", "name_en": "France", "name_fr": "France", "count": 140},
        {"country": "US", "name_en": "United States", "name_fr": "États-Unis", "count": 10},
    ]
    assert [day["total"] for day in body["signatures_per_day"]][-1] == 150
    assert sum(day["count"] for day in body["signatures_per_day"]) == 150
    assert body["assignments"][0]["department"] == "ecology"
    assert body["assignments"][0]["role"] == "lead"


def test_a_rejected_petition_with_its_text_shown_has_a_detail(api, data: OpenData):
    body = api.get(f"{LIST}{data.rejected_petition.pk}/").json()
    assert body["state"] == "rejected"
    assert body["rejection_reason"] == "unclear"


@pytest.mark.parametrize("index", range(5))
def test_a_petition_that_is_not_public_is_a_json_404(api, data: OpenData, index):
    response = api.get(f"{LIST}{data.private[index].pk}/")
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "code": "not_found",
        "detail": "No public petition has this id.",
    }


def test_an_unknown_petition_is_a_json_404(api, data):
    assert api.get(f"{LIST}999999/").json()["code"] == "not_found"
    assert api.get(f"{LIST}abc/").status_code == 404
    assert api.get(f"{LIST}abc/").json()["code"] == "not_found"


def test_the_detail_runs_a_fixed_number_of_queries(api, data: OpenData):
    url = f"{LIST}{data.open_petition.pk}/"
    api.get(url)  # the process's memo of country names is filled once
    with CaptureQueriesContext(connection) as before:
        api.get(url)
    other = make_petition(title="Another")
    data.response.petitions.add(other)
    data.open_petition.topics.add(data.other_topic)
    with CaptureQueriesContext(connection) as after:
        api.get(url)
    assert len(after) == len(before)


def test_a_petition_leaves_the_api_when_hidden(api, data: OpenData):
    url = f"{LIST}{data.open_petition.pk}/"
    assert api.get(url).status_code == 200
    Petition.objects.filter(pk=data.open_petition.pk).update(state=Petition.State.HIDDEN)
    assert api.get(url).status_code == 404
    assert data.open_petition.pk not in ids(api.get(LIST))


def test_a_bare_number_is_a_region_id_never_a_code(api, data: OpenData):
    # "75" is Paris's code, not an id: it names no region.
    assert data.paris.pk != 75
    response = api.get(f"{LIST}?region=75")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["region"]


def test_pages_link_to_their_neighbours_in_a_link_header(api, data: OpenData):
    response = api.get(f"{LIST}?page_size=1&page=2")
    body = response.json()
    assert response["Link"] == f'<{body["next"]}>; rel="next", <{body["previous"]}>; rel="prev"'
    assert not api.get(f"{LIST}?page_size=100").has_header("Link")
