"""The confirmation sender releases each row it sent, and only the claim it holds."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.urls import reverse, set_script_prefix

from core.claims import claim_rows
from petitions.models import Signature
from petitions.services import signature_mail
from tests.petitions.conftest import make_signature

pytestmark = pytest.mark.django_db

DUE = Signature.EmailDue


def claimed(petition, email, due=DUE.CONFIRMATION):
    """A signature whose email is due, claimed as the sender claims it."""
    signature = make_signature(petition, email, state=Signature.State.PENDING, email_due=due)
    (row,) = claim_rows(
        Signature.objects.filter(pk=signature.pk),
        size=1,
        lease=signature_mail.LEASE,
        token_field="email_claim_token",
        until_field="email_claimed_until",
    )
    return row


def send(row):
    rendered = signature_mail._rendered(row, row.petition)
    signature_mail._send_one(row, rendered, get_connection())


def stored(row):
    return Signature.objects.values("email_due", "email_claim_token", "email_claimed_until").get(
        pk=row.pk
    )


def test_a_sent_row_is_released_and_nothing_more_is_due(petition):
    row = claimed(petition, "sam@example.org")
    assert row.email_claim_token
    send(row)
    assert [message.to for message in mail.outbox] == [["sam@example.org"]]
    assert stored(row) == {"email_due": "", "email_claim_token": "", "email_claimed_until": None}


def test_an_email_asked_for_during_the_send_stays_due(petition):
    row = claimed(petition, "sam@example.org")
    Signature.objects.filter(pk=row.pk).update(email_due=DUE.ALREADY_SIGNED)  # signed again
    send(row)
    assert stored(row) == {
        "email_due": DUE.ALREADY_SIGNED,
        "email_claim_token": "",
        "email_claimed_until": None,
    }
    assert signature_mail.send_batch() == 1  # the next sender sends it
    assert len(mail.outbox) == 2
    assert stored(row)["email_due"] == ""


def test_a_claim_taken_over_is_left_to_its_new_holder(petition):
    row = claimed(petition, "sam@example.org")
    Signature.objects.filter(pk=row.pk).update(email_claim_token="another-sender")
    send(row)
    after = stored(row)
    assert (after["email_due"], after["email_claim_token"]) == (DUE.CONFIRMATION, "another-sender")


@pytest.mark.parametrize("token", ["AbC-123_xyz", "with space", "accentué", "per%cent"])
@pytest.mark.parametrize("name", ["petitions:confirm", "petitions:withdraw"])
def test_links_are_the_reversed_paths_under_any_prefix(name, token):
    assert signature_mail._link(name, token) == reverse(name, args=[token])
    set_script_prefix("/agora/")
    try:
        assert signature_mail._link(name, token) == reverse(name, args=[token])
        assert signature_mail._link(name, token).startswith("/agora/petitions/")
    finally:
        set_script_prefix("/")
    assert signature_mail._link(name, token) == reverse(name, args=[token])
