import pytest
from django.core import mail
from django.test import override_settings

from core.errors import InvalidTransition
from petitions.models import Petition, Signature, SigningPause
from petitions.services.signing import (
    NotSignable,
    Outcome,
    SignatureDetails,
    confirm_signature,
    sign_as_user,
    sign_petition,
    withdraw_signature,
)
from tests.factories import UserFactory
from tests.petitions.conftest import make_petition

pytestmark = pytest.mark.django_db


def details(email="signer@example.org", **overrides):
    values = {
        "name": "Sam Signer",
        "email": email,
        "country": "FR",
        "postcode": "75011",
        "language": "fr",
        "wants_updates": True,
    }
    values.update(overrides)
    return SignatureDetails(**values)


@pytest.fixture
def send_mail_now(django_capture_on_commit_callbacks):
    """Run the after-commit callbacks (the eager `mail` queue) as the request would."""

    def sign(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return sign_petition(*args, **kwargs)

    return sign


def test_signing_creates_a_pending_signature_and_emails_a_confirmation(petition, send_mail_now):
    outcome = send_mail_now(petition, details())
    assert outcome is Outcome.CONFIRMATION_SENT
    signature = Signature.objects.get()
    assert signature.state == Signature.State.PENDING
    assert signature.email_normalised == "signer@example.org"
    assert [m.to for m in mail.outbox] == [["signer@example.org"]]
    assert signature.token in mail.outbox[0].body
    assert mail.outbox[0].alternatives  # multipart: text and HTML


def test_signing_does_not_touch_the_petition_row(petition, send_mail_now):
    before = Petition.objects.values().get(pk=petition.pk)
    send_mail_now(petition, details())
    confirm_signature(Signature.objects.get().token)
    assert Petition.objects.values().get(pk=petition.pk) == before


def test_signing_twice_with_the_same_normalised_email_counts_once(petition, send_mail_now):
    first = send_mail_now(petition, details("Jane.Doe+x@gmail.com"))
    confirm_signature(Signature.objects.get().token)
    second = send_mail_now(petition, details("janedoe@GMAIL.com"))
    assert first is Outcome.CONFIRMATION_SENT
    assert second is Outcome.ALREADY_SIGNED_NOTICE_SENT
    assert Signature.objects.count() == 1
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["Jane.Doe+x@gmail.com"]  # the notice goes to the confirmed address


def test_signing_again_while_pending_resends_the_confirmation(petition, send_mail_now):
    send_mail_now(petition, details())
    assert send_mail_now(petition, details()) is Outcome.CONFIRMATION_SENT
    assert Signature.objects.get().confirmation_emails_sent == 2
    assert mail.outbox[0].body == mail.outbox[1].body


@override_settings(AGORA_MAX_CONFIRMATION_EMAILS=5)
def test_at_most_five_emails_per_address_and_petition(petition, send_mail_now):
    outcomes = [send_mail_now(petition, details()) for _ in range(7)]
    assert outcomes[:5] == [Outcome.CONFIRMATION_SENT] * 5
    assert outcomes[5:] == [Outcome.EMAIL_LIMIT_REACHED] * 2
    assert len(mail.outbox) == 5


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (Petition.State.CLOSED, "closed"),
        (Petition.State.REJECTED, "rejected"),
        (Petition.State.HIDDEN, "cannot be signed"),
        (Petition.State.AWAITING_MODERATION, "cannot be signed"),
    ],
)
def test_closed_hidden_or_rejected_petitions_refuse_signatures(state, message):
    petition = make_petition(state=state)
    with pytest.raises(NotSignable, match=message):
        sign_petition(petition, details())
    assert not Signature.objects.exists()


def test_an_open_petition_past_its_deadline_refuses_signatures():
    from datetime import timedelta

    from django.utils import timezone

    petition = make_petition(deadline=timezone.now() - timedelta(seconds=1))
    with pytest.raises(NotSignable, match="closed"):
        sign_petition(petition, details())


def test_signing_is_refused_while_paused(petition):
    SigningPause.objects.create(reason="Maintenance")
    with pytest.raises(NotSignable, match="paused"):
        sign_petition(petition, details())


def test_the_postcode_gives_the_region(petition):
    from petitions.models import Country, PostcodePrefix, Region

    france = Country.objects.create(code="FR", name_en="France", name_fr="France")
    paris = Region.objects.create(kind="fr-departement", code="75", name="Paris", country=france)
    PostcodePrefix.objects.create(country=france, prefix="75", region=paris)
    sign_petition(petition, details(postcode="75 011"))
    assert Signature.objects.get().region == paris


def test_confirming_is_idempotent_and_withdrawing_then_resigning_needs_a_new_confirmation(
    petition, send_mail_now
):
    send_mail_now(petition, details())
    token = Signature.objects.get().token
    assert confirm_signature(token).state == Signature.State.CONFIRMED
    assert confirm_signature(token).state == Signature.State.CONFIRMED
    assert withdraw_signature(token).state == Signature.State.WITHDRAWN
    assert withdraw_signature(token).state == Signature.State.WITHDRAWN
    with pytest.raises(InvalidTransition):
        confirm_signature(token)
    assert send_mail_now(petition, details()) is Outcome.CONFIRMATION_SENT
    assert Signature.objects.get().state == Signature.State.PENDING


def test_an_unknown_token_is_a_clear_error():
    with pytest.raises(InvalidTransition, match="not valid"):
        confirm_signature("nope")


def test_a_confirmation_after_the_petition_closed_does_not_count(petition):
    sign_petition(petition, details())
    Petition.objects.filter(pk=petition.pk).update(state=Petition.State.CLOSED)
    with pytest.raises(NotSignable):
        confirm_signature(Signature.objects.get().token)
    assert Signature.objects.get().state == Signature.State.PENDING


def test_a_signed_in_verified_user_signs_in_one_click(petition):
    user = UserFactory(email="me@example.org", preferred_language="fr")
    outcome = sign_as_user(
        petition, user, country="FR", postcode="75011", wants_updates=True, listed_publicly=False
    )
    assert outcome is Outcome.SIGNED
    signature = Signature.objects.get()
    assert signature.state == Signature.State.CONFIRMED
    assert signature.user == user
    assert signature.language == "fr"
    again = sign_as_user(
        petition, user, country="FR", postcode="75011", wants_updates=True, listed_publicly=False
    )
    assert again is Outcome.ALREADY_SIGNED_NOTICE_SENT
    assert Signature.objects.count() == 1


def test_one_click_confirms_an_earlier_pending_signature_of_the_same_address(petition):
    user = UserFactory(email="me@example.org")
    sign_petition(petition, details("ME@example.org"))
    outcome = sign_as_user(
        petition, user, country="FR", postcode="75011", wants_updates=False, listed_publicly=False
    )
    assert outcome is Outcome.SIGNED
    assert Signature.objects.get().state == Signature.State.CONFIRMED


def test_one_click_needs_a_verified_address(petition):
    user = UserFactory(verified=False)
    with pytest.raises(NotSignable, match="verify"):
        sign_as_user(
            petition, user, country="FR", postcode="1", wants_updates=False, listed_publicly=False
        )


def test_insert_stores_what_save_would(petition):
    """Signature.insert() prepares each value as save() does: choices, defaults, None
    dates and times, auto_now_add, an IP address."""

    def signature(email, **extra):
        return Signature(
            petition=petition,
            name="Sam Signer",
            email=email,
            email_normalised=email,
            country="FR",
            postcode="75011",
            language="fr",
            ip_address="192.0.2.7",
            source=Signature.Source.API,
            email_due=Signature.EmailDue.CONFIRMATION,
            confirmation_emails_sent=1,
            **extra,
        )

    saved, inserted = signature("saved@example.org"), signature("inserted@example.org")
    saved.save()
    inserted.insert()
    assert inserted.pk is not None
    assert not inserted._state.adding
    rows = {row["id"]: row for row in Signature.objects.values()}
    ignored = {"id", "email", "email_normalised", "token", "created_at"}
    as_saved = {key: value for key, value in rows[saved.pk].items() if key not in ignored}
    as_inserted = {key: value for key, value in rows[inserted.pk].items() if key not in ignored}
    assert as_inserted == as_saved
    assert as_inserted["state"] == "pending"
    assert as_inserted["confirmed_at"] is None
    assert rows[inserted.pk]["created_at"] is not None
    assert len(rows[inserted.pk]["token"]) == len(rows[saved.pk]["token"])
