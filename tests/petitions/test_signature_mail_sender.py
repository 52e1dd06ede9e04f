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
    """Send the row's email and release its claim, as a batch does."""
    rendered = signature_mail._rendered(row, row.petition)
    signature_mail._send_one(row, rendered, get_connection())
    signature_mail._release_sent([row])


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


def due(petition, count):
    return [
        make_signature(
            petition,
            f"signer{n}@example.org",
            state=Signature.State.PENDING,
            email_due=DUE.CONFIRMATION,
        )
        for n in range(count)
    ]


def released_done(rows):
    return sorted(
        Signature.objects.filter(
            pk__in=[row.pk for row in rows], email_due="", email_claim_token=""
        ).values_list("email", flat=True)
    )


def test_rows_sent_are_released_a_group_at_a_time(petition, monkeypatch):
    rows = due(petition, 5)
    monkeypatch.setattr(signature_mail, "RELEASE_EVERY", 2)
    send_one = signature_mail._send_one
    seen: list[list[str]] = []  # the rows released when each email goes

    def recording(row, *args):
        seen.append(released_done(rows))
        send_one(row, *args)

    monkeypatch.setattr(signature_mail, "_send_one", recording)
    assert signature_mail.send_batch() == 5
    first, second = (
        ["signer0@example.org", "signer1@example.org"],
        ["signer2@example.org", "signer3@example.org"],
    )
    assert seen == [[], [], first, first, first + second]
    assert released_done(rows) == sorted(row.email for row in rows)
    assert Signature.objects.filter(email_claimed_until__isnull=False).count() == 0


def test_a_batch_the_server_stops_releases_what_went_as_done_and_the_rest_as_due(
    petition, monkeypatch
):
    rows = due(petition, 5)
    send_one = signature_mail._send_one

    def failing_at_the_fourth(row, *args):
        if len(mail.outbox) == 3:
            raise signature_mail.MailUnavailable("451 try again later")
        send_one(row, *args)

    monkeypatch.setattr(signature_mail, "_send_one", failing_at_the_fourth)
    with pytest.raises(signature_mail.MailUnavailable):
        signature_mail.send_batch()
    assert released_done(rows) == [f"signer{n}@example.org" for n in range(3)]
    still_due = Signature.objects.filter(pk__in=[row.pk for row in rows[3:]])
    assert [
        (row.email_due, row.email_claim_token, row.email_claimed_until) for row in still_due
    ] == [(DUE.CONFIRMATION, "", None)] * 2  # free for the next sender at once
    monkeypatch.setattr(signature_mail, "_send_one", send_one)
    assert signature_mail.send_batch() == 2
    assert sorted(message.to[0] for message in mail.outbox) == sorted(row.email for row in rows)
