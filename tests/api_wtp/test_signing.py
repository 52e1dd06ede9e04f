"""POST signatures.json?api_key=: the website's signing rules, through a partner's key."""

import json

import pytest
from django.core import mail
from django.test import Client, override_settings

from accounts import partners
from accounts.models import PartnerKey, PartnerSignature, PartnerUsage
from core.models import AuditEvent
from petitions.models import Petition, Signature, SigningPause
from tests.api_wtp.conftest import BASE, issue, make_petition, make_signature

pytestmark = pytest.mark.django_db


def payload(petition, **overrides):
    values = {
        "petition_id": str(petition.pk),
        "email": "sam@example.org",
        "first_name": "Sam",
        "last_name": "Signer",
        "zip": "75011",
        "signup": True,
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST as a WTP client does, running the after-commit email as the request would."""

    def send(key, body, *, raw=None, content_type="application/json", using=None):
        url = BASE + "signatures.json" + (f"?api_key={key}" if key is not None else "")
        data = raw if raw is not None else json.dumps(body)
        with django_capture_on_commit_callbacks(execute=True):
            return (using or client).post(url, data, content_type=content_type)

    return send


def info(response):
    body = response.json()
    assert body["metadata"]["responseInfo"]["status"] == response.status_code
    return body["metadata"]["responseInfo"]


def test_a_signature_is_accepted_pending_with_source_api_and_a_confirmation_email(
    post, petition, sign_key
):
    response = post(sign_key.secret, payload(petition))
    assert response.status_code == 200
    assert info(response)["errorCode"] == ""
    assert info(response)["developerMessage"] == "OK"
    assert response.json()["results"] == []
    signature = Signature.objects.get()
    assert signature.state == Signature.State.PENDING
    assert signature.source == Signature.Source.API
    assert signature.name == "Sam Signer"
    assert signature.email == "sam@example.org"
    assert signature.postcode == "75011"
    assert signature.country == "FR"
    assert signature.wants_updates is True
    assert signature.listed_publicly is False
    assert [message.to for message in mail.outbox] == [["sam@example.org"]]
    assert signature.token in mail.outbox[0].body
    assert PartnerSignature.objects.get().key == sign_key.key
    assert response["Cache-Control"] == "no-store"


def test_the_partner_country_is_given_to_signatures(post, petition):
    key = issue(country="US")
    post(key.secret, payload(petition, zip="10001", signup=None))
    signature = Signature.objects.get()
    assert (signature.country, signature.postcode, signature.wants_updates) == (
        "US",
        "10001",
        False,
    )


def test_signing_twice_is_answered_the_same_and_counts_once(post, petition, sign_key):
    first = post(sign_key.secret, payload(petition))
    second = post(sign_key.secret, payload(petition, email="SAM@example.org"))
    assert first.status_code == second.status_code == 200
    assert first.json()["results"] == second.json()["results"]
    assert info(first) == info(second)
    assert Signature.objects.count() == 1
    assert len(mail.outbox) == 2  # the confirmation link again, as the website does
    assert PartnerSignature.objects.count() == 1


def test_an_address_that_signed_on_the_website_is_answered_the_same_but_not_linked(
    post, petition, sign_key
):
    make_signature(petition, "sam@example.org", source=Signature.Source.WEB)
    response = post(sign_key.secret, payload(petition))
    assert response.status_code == 200
    assert info(response)["errorCode"] == ""
    assert PartnerSignature.objects.count() == 0
    assert len(mail.outbox) == 1  # the "already signed" notice goes to the address itself


def test_a_form_encoded_body_is_accepted_too(post, petition, sign_key):
    body = "&".join(f"{k}={v}" for k, v in payload(petition, signup="1").items())
    response = post(
        sign_key.secret, None, raw=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert Signature.objects.get().wants_updates is True


def test_no_csrf_token_is_needed(post, petition, sign_key):
    response = post(sign_key.secret, payload(petition), using=Client(enforce_csrf_checks=True))
    assert response.status_code == 200


@pytest.mark.parametrize("missing", ["petition_id", "email", "first_name", "last_name"])
def test_a_missing_required_field_is_error_75_naming_it(post, petition, sign_key, missing):
    response = post(sign_key.secret, payload(petition, **{missing: None}))
    assert response.status_code == 400
    assert info(response)["errorCode"] == "75"
    assert missing in info(response)["developerMessage"]
    assert Signature.objects.count() == 0


@pytest.mark.parametrize("email", ["not-an-email", "sam@", "@example.org", "a b@example.org"])
def test_a_bad_email_is_error_75(post, petition, sign_key, email):
    response = post(sign_key.secret, payload(petition, email=email))
    assert (response.status_code, info(response)["errorCode"]) == (400, "75")


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"'])
def test_a_body_that_is_not_a_json_object_is_error_75(post, petition, sign_key, raw):
    response = post(sign_key.secret, None, raw=raw)
    assert (response.status_code, info(response)["errorCode"]) == (400, "75")


def test_a_too_long_name_is_error_75(post, petition, sign_key):
    response = post(sign_key.secret, payload(petition, last_name="x" * 120))
    assert (response.status_code, info(response)["errorCode"]) == (400, "75")


@override_settings(AGORA_SIGNING_BLOCKED_DOMAINS=["blocked.example"])
@pytest.mark.parametrize("email", ["a@blocked.example", "a@mail.blocked.example"])
def test_a_blocked_email_domain_is_error_77(post, petition, sign_key, email):
    response = post(sign_key.secret, payload(petition, email=email))
    assert (response.status_code, info(response)["errorCode"]) == (403, "77")
    assert Signature.objects.count() == 0


@override_settings(AGORA_SIGNING_BLOCKED_DOMAINS=["blocked.example"])
def test_a_domain_that_only_ends_like_a_blocked_one_is_accepted(post, petition, sign_key):
    response = post(sign_key.secret, payload(petition, email="a@notblocked.example"))
    assert response.status_code == 200


@pytest.mark.parametrize("petition_id", ["999999", "abc", "-1"])
def test_no_such_petition_is_error_76(post, sign_key, petition_id):
    response = post(sign_key.secret, payload(make_petition(), petition_id=petition_id))
    assert (response.status_code, info(response)["errorCode"]) == (404, "76")


def test_an_unpublished_petition_is_error_76(post, sign_key):
    draft = make_petition(state=Petition.State.AWAITING_MODERATION)
    response = post(sign_key.secret, payload(draft))
    assert (response.status_code, info(response)["errorCode"]) == (404, "76")


def test_a_closed_petition_is_error_74(post, sign_key):
    closed = make_petition(state=Petition.State.CLOSED)
    response = post(sign_key.secret, payload(closed))
    assert (response.status_code, info(response)["errorCode"]) == (409, "74")
    assert info(response)["developerMessage"]


def test_signing_while_paused_is_error_74(post, petition, sign_key):
    SigningPause.objects.create(reason="Maintenance")
    response = post(sign_key.secret, payload(petition))
    assert (response.status_code, info(response)["errorCode"]) == (409, "74")


@pytest.mark.parametrize("key", [None, "", "agora_nothing_here", "wtp-old-key-1234"])
def test_a_missing_or_unknown_key_is_error_85(post, petition, key):
    response = post(key, payload(petition))
    assert (response.status_code, info(response)["errorCode"]) == (403, "85")
    assert Signature.objects.count() == 0


def test_a_read_only_key_cannot_sign(post, petition, read_key):
    response = post(read_key.secret, payload(petition))
    assert (response.status_code, info(response)["errorCode"]) == (403, "85")


def test_a_revoked_key_cannot_sign(post, petition, sign_key):
    partners.revoke_key(sign_key.key, actor=None)
    response = post(sign_key.secret, payload(petition))
    assert (response.status_code, info(response)["errorCode"]) == (403, "85")


def test_rotating_invalidates_the_old_key_and_the_new_one_works(post, petition, sign_key):
    rotated = partners.rotate_key(sign_key.key, actor=None)
    assert info(post(sign_key.secret, payload(petition)))["errorCode"] == "85"
    assert post(rotated.secret, payload(petition)).status_code == 200


def test_over_the_monthly_quota_is_a_429_with_retry_after(post, petition):
    key = issue(monthly_write_quota=2)
    for n in range(2):
        assert post(key.secret, payload(petition, email=f"s{n}@example.org")).status_code == 200
    for n in range(2, 4):
        response = post(key.secret, payload(petition, email=f"s{n}@example.org"))
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert info(response)["developerMessage"]
    usage = PartnerUsage.objects.get(key=key.key)
    assert (usage.writes, usage.refused) == (2, 2)
    assert Signature.objects.count() == 2
    assert AuditEvent.objects.filter(action="partner_key.quota_reached").count() == 1


def test_over_the_keys_rate_limit_is_a_429_with_retry_after(post, petition):
    key = issue(rate_limit_per_minute=2)
    for n in range(2):
        assert post(key.secret, payload(petition, email=f"s{n}@example.org")).status_code == 200
    response = post(key.secret, payload(petition, email="s9@example.org"))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert Signature.objects.count() == 2


def test_invalid_requests_count_towards_the_rate_limit(post, petition):
    key = issue(rate_limit_per_minute=2)
    for _n in range(2):
        assert post(key.secret, payload(petition, email="bad")).status_code == 400
    assert post(key.secret, payload(petition)).status_code == 429


@override_settings(AGORA_SIGNING_RATE_PER_IP="2/m")
def test_the_websites_per_address_limit_applies(post, petition, sign_key):
    for n in range(2):
        assert (
            post(sign_key.secret, payload(petition, email=f"s{n}@example.org")).status_code == 200
        )
    response = post(sign_key.secret, payload(petition, email="s3@example.org"))
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert Signature.objects.count() == 2
    assert PartnerUsage.objects.get(key=sign_key.key).writes == 2  # the refusal took no quota


@override_settings(AGORA_SIGNING_RATE_PER_DOMAIN="1/m")
def test_the_websites_per_domain_limit_applies(post, petition, sign_key):
    assert post(sign_key.secret, payload(petition, email="a@small.example")).status_code == 200
    response = post(sign_key.secret, payload(petition, email="b@small.example"))
    assert response.status_code == 429


def test_get_on_signatures_is_a_405(client):
    response = client.get(BASE + "signatures.json")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_the_key_is_counted_on_this_months_usage(post, petition, sign_key):
    post(sign_key.secret, payload(petition))
    usage = PartnerUsage.objects.get(key=sign_key.key)
    assert (usage.reads, usage.writes) == (0, 1)
    assert PartnerKey.objects.get().usage.count() == 1
