"""Partner keys: the services (hashing, rotation, revocation, usage) and the back-office."""

import hashlib
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse

from accounts import partners
from accounts.models import PartnerKey, PartnerUsage
from accounts.roles import Role
from core.errors import InvalidTransition
from core.models import AuditEvent
from tests.factories import PASSWORD, staff_user

pytestmark = pytest.mark.django_db


def issue(actor=None, **fields):
    values = {
        "name": "Campaign site",
        "contact_name": "Alex",
        "contact_email": "alex@partner.example",
        "use": PartnerKey.Use.SIGN,
    }
    values.update(fields)
    return partners.issue_key(actor=actor, **values)


# --- Services ------------------------------------------------------------------------------


def test_issuing_stores_only_a_hash_of_the_key(administrator):
    issued = issue(administrator)
    key = PartnerKey.objects.get()
    assert issued.secret.startswith(f"agora_{key.prefix}_")
    assert len(issued.secret) > 40
    assert key.secret_hash == hashlib.sha256(issued.secret.encode()).hexdigest()
    secret_part = issued.secret.split("_", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_partnerkey")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert issued.secret not in stored
    assert secret_part not in stored
    assert key.created_by == administrator


def test_issuing_records_an_audit_event_without_the_secret(administrator):
    issued = issue(administrator)
    event = AuditEvent.objects.get(action="partner_key.issued")
    assert event.actor == administrator
    assert event.target_id == str(issued.key.pk)
    assert event.data["prefix"] == issued.key.prefix
    assert issued.secret not in str(event.data)


def test_two_keys_never_share_a_secret():
    assert issue().secret != issue().secret


def test_authenticating_finds_the_active_key():
    issued = issue()
    assert partners.authenticate_key(issued.secret) == issued.key


@pytest.mark.parametrize("raw", [None, "", "agora_", "agora_deadbeef_wrong", "something"])
def test_authenticating_refuses_an_unknown_key(raw):
    issue()
    with pytest.raises(partners.InvalidKey):
        partners.authenticate_key(raw)


def test_rotating_invalidates_the_old_key_and_records_an_event(administrator):
    issued = issue()
    old_prefix = issued.key.prefix
    rotated = partners.rotate_key(issued.key, actor=administrator)
    with pytest.raises(partners.InvalidKey):
        partners.authenticate_key(issued.secret)
    assert partners.authenticate_key(rotated.secret).pk == issued.key.pk
    key = PartnerKey.objects.get()
    assert key.rotated_at is not None
    assert key.prefix == rotated.key.prefix != old_prefix
    event = AuditEvent.objects.get(action="partner_key.rotated")
    assert event.actor == administrator
    assert event.data == {"old_prefix": old_prefix, "prefix": key.prefix}


def test_rotating_with_a_stale_copy_is_refused():
    issued = issue()
    stale = PartnerKey.objects.get()
    partners.rotate_key(issued.key, actor=None)
    with pytest.raises(InvalidTransition):
        partners.rotate_key(stale, actor=None)
    assert AuditEvent.objects.filter(action="partner_key.rotated").count() == 1


def test_revoking_works_once_and_a_revoked_key_cannot_be_rotated(administrator):
    issued = issue()
    partners.revoke_key(issued.key, actor=administrator)
    with pytest.raises(partners.InvalidKey):
        partners.authenticate_key(issued.secret)
    with pytest.raises(InvalidTransition):
        partners.revoke_key(PartnerKey.objects.get(), actor=administrator)
    with pytest.raises(InvalidTransition):
        partners.rotate_key(PartnerKey.objects.get(), actor=administrator)
    assert AuditEvent.objects.filter(action="partner_key.revoked").count() == 1
    assert PartnerKey.objects.get().revoked_at is not None


def test_usage_is_one_row_per_key_and_month():
    key = issue(monthly_write_quota=5).key
    partners.record_usage(key, write=False)
    partners.record_usage(key, write=True)
    partners.record_usage(key, write=True)
    usage = PartnerUsage.objects.get()
    assert (usage.reads, usage.writes, usage.refused) == (1, 2, 0)
    assert usage.month == partners.month_start()
    assert partners.usage_this_month([key])[key.pk] == usage


def test_the_quota_refuses_writes_beyond_it_but_not_reads():
    key = issue(monthly_write_quota=1).key
    partners.record_usage(key, write=True)
    with pytest.raises(partners.QuotaExceeded) as raised:
        partners.record_usage(key, write=True)
    assert raised.value.retry_after > 0
    partners.record_usage(key, write=False)
    usage = PartnerUsage.objects.get()
    assert (usage.reads, usage.writes, usage.refused) == (1, 1, 1)


def test_reaching_the_quota_is_audited_once_a_month():
    key = issue(monthly_write_quota=0).key
    for _n in range(3):
        with pytest.raises(partners.QuotaExceeded):
            partners.record_usage(key, write=True)
    event = AuditEvent.objects.get(action="partner_key.quota_reached")
    assert event.data["quota"] == 0


def test_the_rate_limit_counts_requests_in_the_minute():
    key = issue(rate_limit_per_minute=3).key
    for _n in range(3):
        partners.check_rate(key)
    with pytest.raises(partners.RateLimited) as raised:
        partners.check_rate(key)
    assert 1 <= raised.value.retry_after <= 60


def test_month_start_is_the_first_day_in_utc():
    moment = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert partners.month_start(moment).isoformat() == "2026-03-01"


def test_a_signature_is_linked_to_the_first_key_only():
    from tests.petitions.conftest import make_petition, make_signature

    first, second = issue().key, issue().key
    signature = make_signature(make_petition(), "a@example.org")
    assert partners.link_signature(first, signature.pk) is True
    assert partners.link_signature(second, signature.pk) is False
    assert signature.partner_link.key == first


# --- Back-office ---------------------------------------------------------------------------

LIST_PAGES = ["staff:partners", "staff:partner-issue"]
KEY_PAGES = ["staff:partner", "staff:partner-rotate", "staff:partner-revoke"]
PAGES = LIST_PAGES + KEY_PAGES


def url(name, key):
    return reverse(name, args=[key.pk]) if name in KEY_PAGES else reverse(name)


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_people_are_sent_to_log_in(client, name):
    key = issue().key
    response = client.get(url(name, key))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", PAGES)
def test_staff_without_the_administrator_role_get_a_403(client, moderator, name):
    key = issue().key
    client.force_login(moderator)
    assert client.get(url(name, key)).status_code == 403
    assert client.post(url(name, key)).status_code == 403


def test_the_list_shows_keys_with_their_usage_this_month(client, administrator):
    issued = issue(monthly_write_quota=50)
    partners.record_usage(issued.key, write=True)
    partners.record_usage(issued.key, write=False)
    client.force_login(administrator)
    response = client.get(reverse("staff:partners"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Campaign site" in text
    assert f"agora_{issued.key.prefix}_" in text
    assert "1 / 50" in text
    assert issued.secret not in text


def test_issuing_shows_the_key_once_and_stores_its_hash(client, administrator):
    client.force_login(administrator)
    response = client.post(
        reverse("staff:partner-issue"),
        {
            "name": "Newsroom",
            "contact_name": "Jo",
            "contact_email": "jo@news.example",
            "use": "sign",
            "country": "fr",
            "monthly_write_quota": "100",
            "rate_limit_per_minute": "10",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = PartnerKey.objects.get()
    secret = response.context["secret"]
    assert secret in response.content.decode()
    assert partners.authenticate_key(secret) == key
    assert (key.name, key.country, key.monthly_write_quota, key.rate_limit_per_minute) == (
        "Newsroom", "FR", 100, 10
    )  # fmt: skip
    assert secret not in client.get(reverse("staff:partner", args=[key.pk])).content.decode()
    assert AuditEvent.objects.get(action="partner_key.issued").actor == administrator


def test_an_invalid_issue_form_is_a_400_with_errors(client, administrator):
    client.force_login(administrator)
    response = client.post(reverse("staff:partner-issue"), {"name": "", "country": "France"})
    assert response.status_code == 400
    assert PartnerKey.objects.count() == 0


def test_rotating_asks_for_confirmation_then_shows_the_new_key(client, administrator):
    issued = issue()
    client.force_login(administrator)
    page = client.get(reverse("staff:partner-rotate", args=[issued.key.pk]))
    assert page.status_code == 200
    assert partners.authenticate_key(issued.secret)  # a GET changes nothing
    response = client.post(reverse("staff:partner-rotate", args=[issued.key.pk]))
    assert response.status_code == 200
    new_secret = response.context["secret"]
    assert partners.authenticate_key(new_secret).pk == issued.key.pk
    with pytest.raises(partners.InvalidKey):
        partners.authenticate_key(issued.secret)


def test_revoking_asks_for_confirmation_then_revokes(client, administrator):
    issued = issue()
    client.force_login(administrator)
    assert client.get(reverse("staff:partner-revoke", args=[issued.key.pk])).status_code == 200
    assert PartnerKey.objects.get().revoked_at is None
    response = client.post(reverse("staff:partner-revoke", args=[issued.key.pk]))
    assert response.status_code == 302
    assert PartnerKey.objects.get().revoked_at is not None
    again = client.post(reverse("staff:partner-revoke", args=[issued.key.pk]), follow=True)
    assert "already revoked" in again.content.decode()


def test_the_detail_page_shows_usage_by_month(client, administrator):
    issued = issue()
    partners.record_usage(issued.key, write=True)
    client.force_login(administrator)
    response = client.get(reverse("staff:partner", args=[issued.key.pk]))
    assert response.status_code == 200
    assert response.context["usage"][0].writes == 1
    assert "alex@partner.example" in response.content.decode()


def test_the_staff_home_links_administrators_to_partner_keys(client, administrator):
    client.force_login(administrator)
    assert reverse("staff:partners") in client.get(reverse("staff:home")).content.decode()


def test_the_staff_home_does_not_link_other_staff_to_partner_keys(client):
    user = staff_user(Role.MODERATOR)
    client.login(email=user.email, password=PASSWORD)
    assert reverse("staff:partners") not in client.get(reverse("staff:home")).content.decode()
