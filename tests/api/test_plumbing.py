"""What every open-data answer shares: validators and 304s, Cache-Control, CORS, JSON
errors, the rate limit, the schema and the documentation page."""

from __future__ import annotations

import re
import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils.http import http_date

from core.api import throttling
from petitions.models import Petition
from tests.api.data import OpenData
from tests.conftest import redis_commands, require

LIST = "/api/v1/petitions/"


# --- Conditional GET ------------------------------------------------------------------------


def test_answers_carry_an_etag_and_a_last_modified(api, data):
    response = api.get(LIST)
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    assert response["Last-Modified"].endswith("GMT")


def test_if_none_match_with_the_current_etag_is_a_304_without_body(api, data):
    etag = api.get(LIST)["ETag"]
    response = api.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert "max-age" in response["Cache-Control"]


def test_a_change_in_the_data_changes_the_etag(api, data: OpenData):
    etag = api.get(LIST)["ETag"]
    Petition.objects.filter(pk=data.open_petition.pk).update(signature_count=151)
    response = api.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_if_modified_since_the_last_modified_is_a_304(api, data):
    last_modified = api.get(LIST)["Last-Modified"]
    assert api.get(LIST, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304


def test_if_modified_since_before_the_last_modified_is_a_200(api, data):
    api.get(LIST)
    long_ago = http_date(time.time() - 3600)
    assert api.get(LIST, HTTP_IF_MODIFIED_SINCE=long_ago).status_code == 200


def test_a_new_body_gets_a_later_last_modified_than_the_one_a_client_holds(api, data: OpenData):
    first = api.get(LIST)["Last-Modified"]
    Petition.objects.filter(pk=data.open_petition.pk).update(signature_count=151)
    # Even within the same second, the new body is newer than what the client holds.
    response = api.get(LIST, HTTP_IF_MODIFIED_SINCE=first)
    assert response.status_code == 200
    assert response["Last-Modified"] != first


def test_a_stale_etag_wins_over_a_matching_if_modified_since(api, data):
    last_modified = api.get(LIST)["Last-Modified"]
    response = api.get(LIST, HTTP_IF_NONE_MATCH='"stale"', HTTP_IF_MODIFIED_SINCE=last_modified)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "max_age"),
    [
        (LIST, 2),
        ("/api/v1/statistics/", 2),
        ("/api/v1/responses/", 300),
        ("/api/v1/departments/", 300),
        ("/api/v1/topics/", 3600),
        ("/api/v1/regions/", 3600),
    ],
)
def test_cache_control_fits_each_resource(api, data, path, max_age):
    assert api.get(path)["Cache-Control"] == f"public, max-age={max_age}"


@override_settings(AGORA_COUNT_INTERVAL_SECONDS=30.0)
def test_counts_are_cacheable_for_the_counting_interval(api, data):
    assert api.get(LIST)["Cache-Control"] == "public, max-age=30"


def test_errors_carry_no_validators(api, data):
    response = api.get(f"{LIST}?state=bad")
    assert not response.has_header("ETag")
    assert not response.has_header("Last-Modified")


# --- CORS ---------------------------------------------------------------------------------


def test_api_answers_are_open_to_every_origin(api, data):
    response = api.get(LIST, HTTP_ORIGIN="https://reuser.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    assert "Retry-After" in response["Access-Control-Expose-Headers"]


def test_errors_are_open_to_every_origin_too(api, data):
    response = api.get(f"{LIST}?state=bad", HTTP_ORIGIN="https://reuser.example")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_site_pages_are_not_open_to_other_origins(client, data):
    response = client.get("/petitions/", HTTP_ORIGIN="https://reuser.example")
    assert response.status_code == 200
    assert not response.has_header("Access-Control-Allow-Origin")


# --- Errors -------------------------------------------------------------------------------


def test_an_unknown_address_under_v1_is_a_json_404(api, data):
    for method in (api.get, api.post, api.delete):
        response = method("/api/v1/signers/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writing_is_a_json_405(api, data, method):
    response = getattr(api, method)(LIST, {})
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_head_answers_like_get_without_a_body(api, data):
    response = api.head(LIST)
    assert response.status_code == 200
    assert response.has_header("ETag")


def test_error_messages_follow_the_requested_language(api, data):
    response = api.get(f"{LIST}?signatures_min=x", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.json()["errors"]["signatures_min"] == ["Saisissez un nombre entier."]


def test_an_unexpected_failure_is_a_json_500(api, data, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("petitions.api.views.PetitionList.get_queryset", explode)
    response = api.get(LIST)
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "boom" not in response.content.decode()


# --- Rate limit -----------------------------------------------------------------------------


@override_settings(AGORA_API_RATE="3/min")
def test_past_the_rate_limit_the_answer_is_a_429_with_retry_after(api, data):
    for _ in range(3):
        assert api.get(LIST).status_code == 200
    response = api.get("/api/v1/topics/")
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60
    body = response.json()
    assert body["code"] == "throttled"
    assert body["retry_after"] == retry_after


@override_settings(AGORA_API_RATE="2/min")
def test_the_rate_limit_counts_each_address_apart(api, data):
    for _ in range(2):
        api.get(LIST, REMOTE_ADDR="192.0.2.1")
    assert api.get(LIST, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert api.get(LIST, REMOTE_ADDR="192.0.2.2").status_code == 200


@override_settings(AGORA_API_RATE="2/min")
def test_the_limit_starts_again_with_the_next_window(api, data, monkeypatch):
    now = [1_000_040.0]  # 20 seconds into a minute
    monkeypatch.setattr(throttling, "clock", lambda: now[0])
    for _ in range(2):
        assert api.get(LIST).status_code == 200
    refused = api.get(LIST)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "40"
    now[0] += 39.5
    assert api.get(LIST).status_code == 429
    now[0] += 0.5
    assert api.get(LIST).status_code == 200


def test_the_limit_costs_one_redis_round_trip(api, data):
    require(bool(settings.REDIS_URL), "needs Redis (REDIS_URL=redis://...)")
    api.get("/api/v1/topics/")
    sent = {}
    for rate in ("", "300/min"):
        with override_settings(AGORA_API_RATE=rate), redis_commands() as commands:
            assert api.get("/api/v1/topics/").status_code == 200
        sent[rate] = commands
    # The counter, created and counted by one script (DRF's throttle read and wrote back
    # its list of request times: GET and SET).
    assert sorted(sent["300/min"]) == sorted([*sent[""], "EVALSHA"])


@override_settings(AGORA_API_RATE="")
def test_an_empty_rate_means_no_limit(api, data):
    for _ in range(5):
        assert api.get("/api/v1/topics/").status_code == 200


# --- Schema and documentation -------------------------------------------------------------


def test_the_schema_describes_every_v1_endpoint_and_nothing_else(api, data):
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/petitions/",
        "/api/v1/petitions/{id}/",
        "/api/v1/topics/",
        "/api/v1/topics/{slug}/",
        "/api/v1/regions/",
        "/api/v1/regions/{id}/",
        "/api/v1/responses/",
        "/api/v1/responses/{id}/",
        "/api/v1/departments/",
        "/api/v1/departments/{slug}/",
        "/api/v1/statistics/",
    }


def test_the_schema_documents_filters_pagination_and_errors(api, data):
    schema = api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/petitions/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    for name in [
        "q", "state", "response_state", "topic", "department", "region", "created_after",
        "created_before", "opened_after", "closed_before", "signatures_min", "signatures_max",
        "ordering", "page", "page_size", "If-None-Match", "If-Modified-Since",
    ]:  # fmt: skip
        assert name in parameters, name
    assert parameters["page_size"]["schema"]["maximum"] == 100
    assert "-signature_count" in parameters["ordering"]["schema"]["enum"]
    assert set(operation["responses"]) == {"200", "304", "400", "404", "429"}
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "ETag" in operation["responses"]["200"]["headers"]


def test_the_schema_validates_without_warnings():
    out = StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "/api/v1/petitions/" in out.getvalue()


def test_the_documentation_page_loads_everything_from_our_static_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(source.endswith("swagger-ui-bundle.js") for source in sources)
    assert any(source.endswith("swagger-ui.css") for source in sources)
    for source in sources:
        assert source.startswith("/static/"), source
    assert "cdn" not in html.lower()
    assert "/api/schema/" in html


def test_not_found_messages_are_translated(api, data):
    response = api.get("/api/v1/petitions/999999/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.json()["detail"] == "Aucune pétition publique ne porte cet identifiant."
    response = api.get("/api/v1/petitions/?page_size=500", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.json()["detail"] == "Paramètres invalides : page_size."


BIG = 10**25


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/petitions/?signatures_min={BIG}",
        f"/api/v1/petitions/?signatures_max={BIG}",
        f"/api/v1/petitions/{BIG}/",
        f"/api/v1/petitions/?region={BIG}",
        f"/api/v1/petitions/?page={BIG}",
        f"/api/v1/responses/?petition={BIG}",
        f"/api/v1/regions/{BIG}/",
        "/api/v1/petitions/?q=%00",
        "/api/v1/regions/?kind=%00",
    ],
)
def test_out_of_range_or_null_values_are_never_a_server_error(api, data, url):
    response = api.get(url)
    assert response.status_code in (200, 400, 404), response.content
    assert response["Content-Type"] == "application/json"


def test_the_schema_documents_the_link_header_of_lists_only(api):
    paths = api.get("/api/schema/?format=json").json()["paths"]
    assert "Link" in paths["/api/v1/topics/"]["get"]["responses"]["200"]["headers"]
    assert "Link" not in paths["/api/v1/topics/{slug}/"]["get"]["responses"]["200"]["headers"]


@pytest.mark.parametrize(
    "url",
    [
        f"{LIST}?closed_after=0001-01-01&closed_before=0001-01-17",
        f"{LIST}?created_before=9999-12-31&opened_after=9999-12-31",
        "/api/v1/responses/?published_after=0001-01-01&published_before=9999-12-31",
    ],
)
def test_the_first_and_last_days_of_the_calendar_are_valid_dates(api, data, url):
    assert api.get(url).status_code == 200


def test_the_schema_says_free_text_refuses_null_characters(api):
    operation = api.get("/api/schema/?format=json").json()["paths"]["/api/v1/regions/"]["get"]
    kind = next(p for p in operation["parameters"] if p["name"] == "kind")
    assert kind["schema"]["pattern"] == "^[^\\u0000]*$"
    assert api.get("/api/v1/regions/?kind=a%00b").status_code == 400
