"""GET petitions/{id}/signatures.json: listed, confirmed signers only, and no postcode."""

import pytest

from petitions.models import Petition, Signature
from tests.api_wtp.conftest import BASE, make_petition, make_signature

pytestmark = pytest.mark.django_db

SIGNATURE_KEYS = {"id", "type", "petitionId", "name", "city", "state", "zip", "created"}


def get(client, petition, **query):
    return client.get(BASE + f"petitions/{petition.pk}/signatures.json", query)


def test_a_listed_signature_has_the_wtp_fields_with_initials_and_region_only(
    client, petition, paris
):
    signature = make_signature(
        petition, "camille@example.org", name="Camille  de Vries", listed_publicly=True,
        region=paris, postcode="75011",
    )  # fmt: skip
    body = get(client, petition).json()
    assert body["metadata"]["resultset"] == {"count": 1, "limit": 10, "offset": 0}
    (row,) = body["results"]
    assert set(row) == SIGNATURE_KEYS
    assert row == {
        "id": str(signature.pk),
        "type": "signature",
        "petitionId": str(petition.pk),
        "name": "C. D. V.",
        "city": "",
        "state": "Paris",
        "zip": "",
        "created": int(signature.created_at.timestamp()),
    }
    text = get(client, petition).content.decode()
    for secret in ("camille", "Camille", "75011", "Vries"):
        assert secret not in text


def test_only_confirmed_signers_who_chose_to_be_listed_appear(client, petition):
    listed = make_signature(petition, "a@example.org", listed_publicly=True)
    make_signature(petition, "b@example.org", listed_publicly=False)
    make_signature(
        petition, "c@example.org", listed_publicly=True, state=Signature.State.PENDING,
        confirmed_at=None,
    )  # fmt: skip
    make_signature(petition, "d@example.org", listed_publicly=True, state="withdrawn")
    make_signature(petition, "e@example.org", listed_publicly=True, state="invalidated")
    rows = get(client, petition).json()["results"]
    assert [row["id"] for row in rows] == [str(listed.pk)]


def test_signatures_page_with_limit_and_offset(client, petition):
    made = [make_signature(petition, f"s{n}@example.org", listed_publicly=True) for n in range(5)]
    body = get(client, petition, limit=2, offset=1).json()
    assert body["metadata"]["resultset"] == {"count": 5, "limit": 2, "offset": 1}
    assert [row["id"] for row in body["results"]] == [str(made[3].pk), str(made[2].pk)]


def test_a_signature_without_a_region_has_an_empty_state(client, petition):
    make_signature(petition, "a@example.org", listed_publicly=True)
    assert get(client, petition).json()["results"][0]["state"] == ""


def test_signatures_of_an_unknown_or_hidden_petition_are_error_84(client):
    hidden = make_petition(state=Petition.State.HIDDEN)
    make_signature(hidden, "a@example.org", listed_publicly=True)
    for path in (f"petitions/{hidden.pk}/signatures.json", "petitions/9999/signatures.json"):
        response = client.get(BASE + path)
        assert response.status_code == 404
        assert response.json()["metadata"]["responseInfo"]["errorCode"] == "84"


def test_a_bad_limit_on_signatures_is_a_400(client, petition):
    response = get(client, petition, limit="all")
    assert response.status_code == 400
    assert "limit" in response.json()["metadata"]["responseInfo"]["developerMessage"]
