"""Whole answers kept in the cache while fresh (core.api.answers): what a reuser sees is the
same answer, served without a query, and never an answer a moderator has made wrong."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.test import override_settings

from core.api import answers
from core.audit import record_event
from petitions.models import Petition
from petitions.services.moderation import hide_petition
from tests.api.data import OpenData

LIST = "/api/v1/petitions/"

pytestmark = pytest.mark.usefixtures("answer_cache")


@pytest.fixture
def answer_cache():
    with override_settings(AGORA_API_ANSWER_CACHE=True):
        yield


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_a_second_request_is_the_same_answer_without_any_query(
    api, data: OpenData, django_assert_num_queries
):
    first = api.get(f"{LIST}?page_size=1")
    with django_assert_num_queries(0):
        second = api.get(f"{LIST}?page_size=1")
    assert second.status_code == 200
    assert second.content == first.content
    for header in ("ETag", "Last-Modified", "Link", "Content-Type", "Cache-Control"):
        assert second[header] == first[header]


def test_a_kept_answer_still_gets_its_304(api, data: OpenData, django_assert_num_queries):
    etag = api.get(LIST)["ETag"]
    with django_assert_num_queries(0):
        response = api.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""


def test_each_address_has_its_own_answer(api, data: OpenData):
    everything = api.get(LIST)
    closed = api.get(f"{LIST}?state=closed")
    assert ids(closed) == [data.closed_petition.pk]
    assert ids(everything) != ids(closed)
    detail = api.get(f"{LIST}{data.open_petition.pk}/")
    assert detail.json()["id"] == data.open_petition.pk


def test_counts_moved_without_an_audit_event_wait_for_the_answer_to_expire(api, data: OpenData):
    before = api.get(f"{LIST}{data.open_petition.pk}/").json()["signature_count"]
    Petition.objects.filter(pk=data.open_petition.pk).update(signature_count=before + 7)
    assert api.get(f"{LIST}{data.open_petition.pk}/").json()["signature_count"] == before
    answers.invalidate()  # what the answer's expiry (the counting interval) amounts to
    assert api.get(f"{LIST}{data.open_petition.pk}/").json()["signature_count"] == before + 7


def test_a_hidden_petition_leaves_every_kept_answer_at_once(
    api, data: OpenData, moderator, django_capture_on_commit_callbacks
):
    pk = data.open_petition.pk
    assert pk in ids(api.get(LIST))
    assert api.get(f"{LIST}{pk}/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        hide_petition(data.open_petition, actor=moderator, details="Reported, under review")
    assert pk not in ids(api.get(LIST))
    assert api.get(f"{LIST}{pk}/").status_code == 404


def test_account_events_leave_the_kept_answers_alone(
    api, data: OpenData, django_capture_on_commit_callbacks, django_assert_num_queries
):
    api.get(LIST)
    with django_capture_on_commit_callbacks(execute=True):
        record_event("account.preferences_changed", data={"language": "fr"})
    with django_assert_num_queries(0):
        assert api.get(LIST).status_code == 200


def test_errors_are_never_kept(api, data: OpenData):
    assert api.get(f"{LIST}?state=nonsense").status_code == 400
    assert api.get(f"{LIST}999999/").status_code == 404
    assert api.get(f"{LIST}?state=nonsense").status_code == 400  # computed again, same answer


def test_the_rate_limit_still_applies_to_kept_answers(api, data: OpenData):
    with override_settings(AGORA_API_RATE="2/min"):
        assert api.get(LIST).status_code == 200
        assert api.get(LIST).status_code == 200
        response = api.get(LIST)
    assert response.status_code == 429
    assert "Retry-After" in response


def test_a_server_copy_is_kept_at_most_a_minute(api, data: OpenData, monkeypatch):
    kept: list[int] = []
    real_set = cache.set

    def set_(key: str, value: object, timeout: int) -> None:
        if key.startswith("agora:api:answer:"):
            kept.append(timeout)
        real_set(key, value, timeout)

    monkeypatch.setattr(cache, "set", set_)
    api.get("/api/v1/topics/")  # max-age one hour
    api.get(LIST)  # max-age the counting interval
    assert max(kept) == answers.SERVER_SECONDS
    assert min(kept) == 2


def test_every_page_of_a_list_shares_its_kept_total(api, data: OpenData, django_assert_num_queries):
    first = api.get(f"{LIST}?page_size=1")
    total = first.json()["count"]
    assert total == len(data.public)
    with django_assert_num_queries(3):  # the page, its topics, its responses: no COUNT
        second = api.get(f"{LIST}?page_size=1&page=2&ordering=id")
    assert second.json()["count"] == total


def test_a_kept_total_follows_audited_changes(
    api, data: OpenData, moderator, django_capture_on_commit_callbacks
):
    assert api.get(f"{LIST}?page_size=1").json()["count"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        hide_petition(data.open_petition, actor=moderator, details="Reported, under review")
    assert api.get(f"{LIST}?page_size=1&page=2").json()["count"] == 2


def test_a_closed_petition_is_a_record_an_open_one_moves_with_the_count(api, data: OpenData):
    closed = api.get(f"{LIST}{data.closed_petition.pk}/")
    assert "max-age=300" in closed["Cache-Control"]
    opened = api.get(f"{LIST}{data.open_petition.pk}/")
    assert "max-age=2" in opened["Cache-Control"]
    kept = api.get(f"{LIST}{data.closed_petition.pk}/")  # served from the kept answer
    assert kept["Cache-Control"] == closed["Cache-Control"]


def count_lock_of(queryset) -> str:
    import hashlib

    sql, params = queryset.order_by().query.sql_with_params()
    digest = hashlib.sha256(f"{sql}|{params!r}".encode()).hexdigest()
    return answers.COUNT_LOCK_KEY.format(digest=digest)


def test_while_another_request_recounts_the_stale_total_answers(
    data: OpenData, moderator, django_capture_on_commit_callbacks
):
    from petitions.api.views import PetitionList

    queryset = PetitionList().get_queryset()
    assert answers.count(queryset) == 3
    with django_capture_on_commit_callbacks(execute=True):
        hide_petition(data.open_petition, actor=moderator, details="Reported, under review")
    cache.add(count_lock_of(queryset), 1, 10)  # another request is counting
    assert answers.count(PetitionList().get_queryset()) == 3  # the stale total, no query
    cache.delete(count_lock_of(queryset))
    assert answers.count(PetitionList().get_queryset()) == 2  # counted again


def test_with_no_total_yet_a_request_waits_for_the_one_counting(data: OpenData, monkeypatch):
    from petitions.api.views import PetitionList

    queryset = PetitionList().get_queryset()
    cache.add(count_lock_of(queryset), 1, 10)  # another request is counting
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the other request stores its total meanwhile
        slept.append(seconds)
        cache.set(
            answers.COUNT_KEY.format(digest=count_lock_of(queryset).rsplit(":", 1)[1]),
            answers.Total(0, 41, time.time()),
            60,
        )

    monkeypatch.setattr(time, "sleep", sleep)
    assert answers.count(queryset) == 41  # its total, not a count of our own
    assert slept
