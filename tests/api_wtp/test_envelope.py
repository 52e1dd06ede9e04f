"""The envelope every answer shares, errors included."""

import pytest

from tests.api_wtp.conftest import BASE

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = {"metadata", "results"}
METADATA_KEYS = {"responseInfo", "requestInfo", "resultset"}
RESPONSE_INFO_KEYS = {"status", "developerMessage", "userMessage", "errorCode", "moreInfo"}


def assert_envelope(body, status):
    assert set(body) == ENVELOPE_KEYS
    assert set(body["metadata"]) == METADATA_KEYS
    info = body["metadata"]["responseInfo"]
    assert set(info) == RESPONSE_INFO_KEYS
    assert info["status"] == status
    assert isinstance(info["errorCode"], str)
    assert set(body["metadata"]["resultset"]) == {"count", "limit", "offset"}
    assert all(isinstance(v, int) for v in body["metadata"]["resultset"].values())
    assert isinstance(body["results"], list)


def test_a_success_has_the_exact_envelope_with_status_ok(client, petition):
    response = client.get(BASE + "petitions.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert_envelope(body, 200)
    info = body["metadata"]["responseInfo"]
    assert info == {
        "status": 200,
        "developerMessage": "OK",
        "userMessage": "",
        "errorCode": "",
        "moreInfo": "",
    }
    assert body["metadata"]["resultset"] == {"count": 1, "limit": 10, "offset": 0}


def test_request_info_echoes_the_query_but_never_the_key(client, petition, read_key):
    body = client.get(
        BASE + "petitions.json", {"title": "trees", "limit": "5", "api_key": read_key.secret}
    ).json()
    request_info = body["metadata"]["requestInfo"]
    assert request_info["apiVersion"] == 1
    assert request_info["resource"] == "petitions"
    assert request_info["query"] == {"limit": "5", "title": "trees"}
    assert read_key.secret not in str(body)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("petitions/999999.json", 404, "84"),
        ("petitions/abc.json", 404, "84"),
        ("nothing-here.json", 404, "84"),
        ("petitions.json?limit=ten", 400, ""),
    ],
)
def test_errors_keep_the_envelope_and_the_http_status_matches(client, path, status, code):
    response = client.get(BASE + path)
    assert response.status_code == status
    body = response.json()
    assert_envelope(body, status)
    assert body["metadata"]["responseInfo"]["errorCode"] == code
    assert body["metadata"]["responseInfo"]["developerMessage"]
    assert body["results"] == []


def test_a_wrong_method_is_an_enveloped_405(client):
    response = client.post(BASE + "petitions.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert_envelope(response.json(), 405)


def test_cors_is_open_on_the_wtp_api(client, petition):
    response = client.get(BASE + "petitions.json", HTTP_ORIGIN="https://partner.example")
    assert response["Access-Control-Allow-Origin"] == "*"
