"""GET validations.json?api_key=: the confirmed signatures this key submitted."""

import pytest
from django.core import mail

from accounts.models import PartnerSignature, PartnerUsage
from petitions.models import Signature
from petitions.services.signing import confirm_signature
from tests.api_wtp.conftest import BASE, issue, make_petition, make_signature

pytestmark = pytest.mark.django_db


def submitted(key, petition, email):
    """A signature this key created (as the signing endpoint leaves it), then confirmed."""
    signature = make_signature(
        petition, email, source=Signature.Source.API, state=Signature.State.PENDING,
        confirmed_at=None,
    )  # fmt: skip
    PartnerSignature.objects.create(key=key.key, signature=signature)
    return signature


def get(client, key, **query):
    return client.get(BASE + "validations.json", {"api_key": key.secret, **query})


def test_a_confirmed_signature_appears_with_the_wtp_fields(client, petition, sign_key):
    signature = submitted(sign_key, petition, "sam@example.org")
    assert get(client, sign_key).json()["results"] == []  # pending: not validated yet
    confirm_signature(signature.token)
    body = get(client, sign_key).json()
    link = PartnerSignature.objects.get()
    assert body["metadata"]["resultset"] == {"count": 1, "limit": 10, "offset": 0}
    assert body["results"] == [
        {
            "vid": str(link.pk),
            "email": "sam@example.org",
            "signature_id": str(signature.pk),
            "petition_id": str(petition.pk),
        }
    ]


def test_the_signature_submitted_through_the_api_is_validated_after_confirmation(
    client, petition, sign_key, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            BASE + f"signatures.json?api_key={sign_key.secret}",
            {
                "petition_id": petition.pk,
                "email": "x@example.org",
                "first_name": "X",
                "last_name": "Y",
            },
            content_type="application/json",
        )
    confirm_signature(Signature.objects.get().token)
    assert [row["email"] for row in get(client, sign_key).json()["results"]] == ["x@example.org"]
    assert len(mail.outbox) == 1


def test_another_keys_and_the_websites_signatures_are_not_shown(client, petition, sign_key):
    other = issue(name="Other partner")
    for key, email in ((sign_key, "mine@example.org"), (other, "theirs@example.org")):
        confirm_signature(submitted(key, petition, email).token)
    make_signature(petition, "web@example.org")
    emails = [row["email"] for row in get(client, sign_key).json()["results"]]
    assert emails == ["mine@example.org"]


def test_petition_id_filters_and_limit_offset_page(client, petition, sign_key):
    other = make_petition()
    for n in range(3):
        confirm_signature(submitted(sign_key, petition, f"s{n}@example.org").token)
    confirm_signature(submitted(sign_key, other, "o@example.org").token)
    rows = get(client, sign_key, petition_id=other.pk).json()["results"]
    assert [row["email"] for row in rows] == ["o@example.org"]
    body = get(client, sign_key, petition_id=petition.pk, limit=2, offset=1).json()
    assert body["metadata"]["resultset"] == {"count": 3, "limit": 2, "offset": 1}
    assert [row["email"] for row in body["results"]] == ["s1@example.org", "s0@example.org"]


def test_a_bad_petition_id_is_a_400_naming_it(client, sign_key):
    response = get(client, sign_key, petition_id="one")
    assert response.status_code == 400
    assert "petition_id" in response.json()["metadata"]["responseInfo"]["developerMessage"]


@pytest.mark.parametrize("key", [None, "", "agora_unknown_key"])
def test_a_missing_or_unknown_key_is_error_85(client, key):
    query = {} if key is None else {"api_key": key}
    response = client.get(BASE + "validations.json", query)
    assert response.status_code == 403
    assert response.json()["metadata"]["responseInfo"]["errorCode"] == "85"


def test_a_read_key_may_list_its_own_validations(client, read_key):
    assert get(client, read_key).status_code == 200


def test_validations_are_never_cached_by_shared_caches(client, sign_key):
    assert "no-store" in get(client, sign_key)["Cache-Control"]
    assert "private" in get(client, sign_key)["Cache-Control"]


def test_reads_with_a_valid_key_are_counted_and_a_bad_key_on_public_data_is_ignored(
    client, petition, read_key
):
    client.get(BASE + "petitions.json", {"api_key": read_key.secret})
    get(client, read_key)
    assert PartnerUsage.objects.get(key=read_key.key).reads == 2
    response = client.get(BASE + "petitions.json", {"api_key": "an-old-wtp-key"})
    assert response.status_code == 200


def test_a_valid_key_over_its_rate_limit_is_limited_on_reads_too(client, petition):
    key = issue(rate_limit_per_minute=1)
    assert client.get(BASE + "petitions.json", {"api_key": key.secret}).status_code == 200
    response = client.get(BASE + "petitions.json", {"api_key": key.secret})
    assert response.status_code == 429
    assert response["Retry-After"]
