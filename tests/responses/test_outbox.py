import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from petitions.models import Signature
from responses.models import Mailing, OutboxMessage
from responses.services import outbox
from tests.factories import UserFactory
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailing():
    creator = UserFactory(email="creator@example.org")
    petition = make_petition(creator=creator)
    make_signature(petition, "creator@example.org", user=creator, wants_updates=False)
    for n in range(7):
        make_signature(petition, f"fan{n}@example.org", wants_updates=True, language="fr")
    make_signature(petition, "quiet@example.org", wants_updates=False)
    make_signature(petition, "supporter@example.org", wants_updates=False, is_supporter=True)
    make_signature(petition, "pending@example.org", wants_updates=True, state="pending")
    return Mailing.objects.create(kind=Mailing.Kind.DEBATE_OUTCOME, petition=petition)


def test_fan_out_queues_opted_in_signers_the_creator_and_supporters_once(mailing):
    assert outbox.fan_out(mailing.pk, batch=3) == 9
    assert outbox.fan_out(mailing.pk, batch=3) == 0  # done: nothing twice
    emails = set(OutboxMessage.objects.values_list("email", flat=True))
    assert "quiet@example.org" not in emails
    assert "pending@example.org" not in emails
    assert {"creator@example.org", "supporter@example.org"} <= emails
    mailing.refresh_from_db()
    assert mailing.fanned_out_at is not None


def test_a_fan_out_that_stopped_midway_resumes_from_its_cursor(mailing):
    outbox.fan_out(mailing.pk, batch=3)
    Mailing.objects.filter(pk=mailing.pk).update(fanned_out_at=None, fanout_cursor=0)
    assert outbox.fan_out(mailing.pk, batch=3) == 0  # every row exists already
    assert OutboxMessage.objects.count() == 9


def test_a_resumed_fan_out_counts_only_the_rows_it_added(mailing):
    assert outbox.fan_out(mailing.pk, batch=4) == 9
    lost = list(OutboxMessage.objects.order_by("-id").values_list("id", flat=True)[:2])
    OutboxMessage.objects.filter(id__in=lost).delete()
    Mailing.objects.filter(pk=mailing.pk).update(fanned_out_at=None, fanout_cursor=0)
    assert outbox.fan_out(mailing.pk, batch=4) == 2  # the other seven exist already
    assert OutboxMessage.objects.count() == 9
    assert OutboxMessage.objects.values("email_normalised").distinct().count() == 9


def test_anonymised_signatures_are_skipped_and_the_cursor_passes_them(mailing):
    for signature in Signature.objects.filter(email__in=["fan0@example.org", "fan6@example.org"]):
        # As a deleted account leaves them (a supporter's stays a recipient).
        Signature.objects.filter(pk=signature.pk).update(
            email="", email_normalised=f"deleted-{signature.pk}", user=None
        )
    committed: list[bool] = []
    assert outbox.fan_out(mailing.pk, batch=2, committed=committed.append) == 7
    rows = OutboxMessage.objects.filter(mailing=mailing)
    assert "" not in set(rows.values_list("email", flat=True))
    assert committed == [False, False, False, False, True]  # after each batch; done last
    mailing.refresh_from_db()
    assert mailing.fanout_cursor == max(
        outbox.recipients(mailing.petition).values_list("id", flat=True)
    )
    assert rows.get(email="fan1@example.org").language == "fr"
    assert rows.get(email="fan1@example.org").state == OutboxMessage.State.PENDING


def test_two_senders_never_claim_the_same_rows(mailing):
    outbox.fan_out(mailing.pk)
    first = outbox.claim(mailing.pk, size=5)
    second = outbox.claim(mailing.pk, size=5)
    assert len(first) == 5
    assert len(second) == 4
    assert not {row.pk for row in first} & {row.pk for row in second}
    assert outbox.claim(mailing.pk, size=5) == []


def test_rows_released_behind_the_last_claim_are_still_claimed(mailing):
    # A claim looks after this process's previous batch first: rows released behind it
    # (a server outage, a dead worker's) must not be missed.
    outbox.fan_out(mailing.pk)
    first = outbox.claim(mailing.pk, size=3)
    second = outbox.claim(mailing.pk, size=3)
    outbox._release(first)
    third = outbox.claim(mailing.pk, size=3)
    fourth = outbox.claim(mailing.pk, size=3)
    assert [row.pk for row in fourth] == [row.pk for row in first]
    claimed = [row.pk for batch in (second, third, fourth) for row in batch]
    assert sorted(claimed) == sorted(OutboxMessage.objects.values_list("pk", flat=True))
    assert outbox.claim(mailing.pk, size=3) == []


def test_a_claim_whose_lease_ran_out_is_taken_over(mailing):
    from datetime import timedelta

    from django.utils import timezone

    outbox.fan_out(mailing.pk)
    outbox.claim(mailing.pk, size=100)
    OutboxMessage.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert len(outbox.claim(mailing.pk, size=100)) == 9


def test_sending_delivers_each_message_once_with_one_click_unsubscribe(mailing):
    outbox.fan_out(mailing.pk)
    assert outbox.send_batch(mailing.pk, size=4) == 4
    while outbox.send_batch(mailing.pk, size=4):
        pass
    assert len(mail.outbox) == 9
    assert len({m.to[0] for m in mail.outbox}) == 9
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert url in message.body
    assert outbox.PLACEHOLDER not in message.body
    assert outbox.progress(mailing) == {"total": 9, "sent": 9, "remaining": 0, "failed": 0}
    mailing.refresh_from_db()
    assert mailing.finished_at is not None


def test_french_signers_get_the_french_message(mailing):
    outbox.fan_out(mailing.pk)
    while outbox.send_batch(mailing.pk):
        pass
    french = next(m for m in mail.outbox if m.to == ["fan0@example.org"])
    english = next(m for m in mail.outbox if m.to == ["supporter@example.org"])
    assert french.subject != english.subject


def test_a_refused_recipient_is_recorded_as_failed_and_the_rest_go_on(mailing, monkeypatch):
    original = EmailBackend.send_messages

    def refuse_one(self, messages):
        if messages[0].to == ["fan3@example.org"]:
            raise smtplib.SMTPRecipientsRefused({"fan3@example.org": (550, b"unknown")})
        return original(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_one)
    outbox.fan_out(mailing.pk)
    while outbox.send_batch(mailing.pk):
        pass
    assert outbox.progress(mailing) == {"total": 9, "sent": 8, "remaining": 0, "failed": 1}
    assert "fan3@example.org" in OutboxMessage.objects.get(state="failed").error


def test_a_server_outage_releases_the_unsent_rows_for_a_retry(mailing, monkeypatch):
    def down(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(EmailBackend, "send_messages", down)
    outbox.fan_out(mailing.pk)
    with pytest.raises(outbox.TransientMailError):
        outbox.send_batch(mailing.pk)
    assert not OutboxMessage.objects.exclude(claim_token="").exists()
    assert outbox.progress(mailing)["remaining"] == 9


def test_the_unsubscribe_link_stops_updates_for_that_petition_only(mailing):
    signature = Signature.objects.get(email="fan1@example.org")
    other = make_signature(make_petition(), "fan1@example.org", wants_updates=True)
    outbox.fan_out(mailing.pk)
    token = outbox.unsubscribe_url(signature.pk).rstrip("/").rsplit("/", 1)[1]
    assert outbox.unsubscribe(token) == signature
    assert outbox.unsubscribe(token) == signature  # idempotent
    signature.refresh_from_db()
    other.refresh_from_db()
    assert not signature.wants_updates
    assert other.wants_updates
    assert OutboxMessage.objects.get(signature=signature).state == "failed"
    assert outbox.unsubscribe(token + "x") is None


def test_account_preferences_decide_for_creators_and_signed_in_signers():
    creator = UserFactory(email="creator@example.org", notify_petition_updates=False)
    petition = make_petition(creator=creator)
    make_signature(petition, "creator@example.org", user=creator, wants_updates=True)
    quiet = UserFactory(email="quiet-user@example.org", notify_signed_petition_responses=False)
    make_signature(petition, "quiet-user@example.org", user=quiet, wants_updates=True)
    keen = UserFactory(email="keen-user@example.org")
    make_signature(petition, "keen-user@example.org", user=keen, wants_updates=True)
    make_signature(petition, "anonymous@example.org", wants_updates=True)
    emails = set(outbox.recipients(petition).values_list("email", flat=True))
    assert emails == {"keen-user@example.org", "anonymous@example.org"}
