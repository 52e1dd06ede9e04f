from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidTransition, NotAllowed
from core.models import AuditEvent
from petitions.models import Petition, Signature, ThresholdPolicy
from petitions.services.creation import PetitionText, create_petition, request_moderation
from petitions.services.moderation import (
    approve_petition,
    hide_petition,
    reject_petition,
    remove_petition,
    restore_petition,
)
from petitions.services.signing import SignatureDetails, confirm_signature, sign_petition
from tests.factories import UserFactory
from tests.petitions.conftest import make_petition

pytestmark = pytest.mark.django_db


def waiting(**fields):
    return make_petition(
        state=Petition.State.AWAITING_MODERATION,
        opened_at=None,
        deadline=None,
        response_threshold=None,
        consideration_threshold=None,
        moderation_requested_at=timezone.now(),
        **fields,
    )


def test_creating_a_petition_collects_supporters_with_the_creators_signature(settings):
    settings.AGORA_SUPPORTERS_NEEDED = 2
    creator = UserFactory(display_name="Camille")
    petition = create_petition(
        PetitionText(title="  More   trees ", summary="Shade.", details="", language="en"),
        actor=creator,
        country="FR",
        postcode="75011",
    )
    assert petition.state == Petition.State.COLLECTING_SUPPORTERS
    assert petition.title == "More trees"
    assert petition.creator_name == "Camille"
    assert petition.supporters_needed == 2
    own = Signature.objects.get(petition=petition)
    assert own.state == Signature.State.CONFIRMED
    assert not own.is_supporter
    assert AuditEvent.objects.filter(action="petition.created", actor=creator).exists()


def test_creating_needs_a_verified_address():
    with pytest.raises(NotAllowed):
        create_petition(
            PetitionText(title="T", summary="S", details="", language="en"),
            actor=UserFactory(verified=False),
            country="FR",
            postcode="75011",
        )


def test_enough_confirmed_supporters_send_the_petition_to_moderation(settings):
    settings.AGORA_SUPPORTERS_NEEDED = 2
    petition = create_petition(
        PetitionText(title="T", summary="S", details="", language="en"),
        actor=UserFactory(),
        country="FR",
        postcode="75011",
    )
    for n in range(2):
        details = SignatureDetails(
            name="S", email=f"s{n}@example.org", country="FR", postcode="75011", language="en"
        )
        sign_petition(petition, details, as_supporter=True)
    tokens = list(Signature.objects.filter(is_supporter=True).values_list("token", flat=True))
    confirm_signature(tokens[0])
    petition.refresh_from_db()
    assert petition.state == Petition.State.COLLECTING_SUPPORTERS
    confirm_signature(tokens[1])
    petition.refresh_from_db()
    assert petition.state == Petition.State.AWAITING_MODERATION
    assert petition.moderation_requested_at is not None
    assert not request_moderation(petition)  # claimed once
    assert AuditEvent.objects.filter(action="petition.sent_to_moderation").count() == 1


def test_approving_opens_with_a_deadline_and_snapshots_the_thresholds(moderator):
    policy = ThresholdPolicy.current()
    policy.response_threshold = 500
    policy.consideration_threshold = 5000
    policy.signing_window_days = 30
    policy.territory_applies_to = "consideration"
    policy.territory_region_kind = "fr-departement"
    policy.territory_min_regions = 30
    policy.territory_min_signatures = 1
    policy.save()
    petition = waiting()

    approve_petition(petition, actor=moderator)

    petition.refresh_from_db()
    assert petition.state == Petition.State.OPEN
    assert petition.deadline - petition.opened_at == timedelta(days=30)
    assert petition.response_threshold == 500
    assert petition.response_territory is None
    assert petition.consideration_territory["min_regions"] == 30
    # Later policy changes never move the goalposts of an open petition.
    policy.response_threshold = 1
    policy.save()
    petition.refresh_from_db()
    assert petition.response_threshold == 500
    assert AuditEvent.objects.get(action="petition.opened").actor == moderator


def test_approving_twice_or_from_the_wrong_state_is_refused(moderator):
    petition = waiting()
    approve_petition(petition, actor=moderator)
    with pytest.raises(InvalidTransition):
        approve_petition(petition, actor=moderator)
    assert AuditEvent.objects.filter(action="petition.opened").count() == 1


def test_only_moderators_moderate():
    with pytest.raises(NotAllowed):
        approve_petition(waiting(), actor=UserFactory())


@pytest.mark.parametrize(
    ("reason", "hidden"),
    [("offensive", True), ("defamatory", True), ("advertising", True), ("duplicate", False)],
)
def test_rejecting_records_the_reason_and_hides_harmful_text(moderator, reason, hidden):
    petition = waiting()
    reject_petition(petition, actor=moderator, reason=reason, details="See the rules.")
    petition.refresh_from_db()
    assert petition.state == Petition.State.REJECTED
    assert petition.rejection_reason == reason
    assert petition.text_is_hidden is hidden
    assert AuditEvent.objects.get(action="petition.rejected").data == {"reason": reason}


def test_rejecting_needs_a_known_reason(moderator):
    with pytest.raises(InvalidTransition):
        reject_petition(waiting(), actor=moderator, reason="because")


def test_hiding_and_restoring_an_open_petition(moderator):
    petition = make_petition()
    hide_petition(petition, actor=moderator, details="Court order")
    assert petition.state == Petition.State.HIDDEN
    assert petition.text_is_hidden
    restore_petition(petition, actor=moderator)
    petition.refresh_from_db()
    assert petition.state == Petition.State.OPEN
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert sorted(actions) == ["petition.hidden", "petition.restored"]


def test_restoring_a_petition_whose_deadline_passed_closes_it(moderator):
    petition = make_petition(deadline=timezone.now() - timedelta(days=1))
    hide_petition(petition, actor=moderator, details="x")
    restore_petition(petition, actor=moderator)
    assert petition.state == Petition.State.CLOSED
    assert petition.closed_at is not None


def test_removing_is_final(moderator):
    petition = make_petition()
    remove_petition(petition, actor=moderator, details="Legal")
    assert petition.state == Petition.State.REMOVED
    with pytest.raises(InvalidTransition):
        restore_petition(petition, actor=moderator)


def test_a_double_click_on_create_makes_one_petition():
    creator = UserFactory()
    text = PetitionText(title="More trees", summary="Shade.", details="", language="en")
    first = create_petition(text, actor=creator, country="FR", postcode="75011")
    second = create_petition(text, actor=creator, country="FR", postcode="75011")
    assert first.pk == second.pk
    assert Petition.objects.count() == 1
