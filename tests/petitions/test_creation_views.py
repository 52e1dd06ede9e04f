"""Starting a petition (form, preview, creation) and the creator's list."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from core.models import AuditEvent
from petitions.models import Petition, Signature, Topic
from petitions.models.petition import TITLE_MAX
from petitions.views.creation import significant_words, similar_petitions
from tests.factories import UserFactory
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db

CREATE = reverse("petitions:create")
MINE = reverse("petitions:mine")


@pytest.fixture(autouse=True)
def _forget_cached_postcodes():
    """Creating a petition caches the (empty) postcode table of France; other tests load one."""
    yield
    cache.clear()


@pytest.fixture
def topics(db):
    return [
        Topic.objects.create(slug="transport", name_en="Transport", name_fr="Transports"),
        Topic.objects.create(slug="health", name_en="Health", name_fr="Santé"),
    ]


@pytest.fixture
def creator(client):
    user = UserFactory(display_name="Camille Martin")
    client.force_login(user)
    return user


def form_data(topic_rows: list[Topic], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Build a cycle path between the station and the hospital",
        "summary": "Cycling there today is dangerous.\r\nA path would make it safe.",
        "details": "See the **council's** own [study](https://example.org/study).",
        "topics": [topic_rows[0].pk],
        "language": "en",
        "country": "FR",
        "postcode": " 75011 ",
        "declaration": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# --- Access ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page_and_back(client):
    response = client.get(CREATE)
    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={CREATE}"


def test_a_person_without_a_verified_address_is_told_to_verify_it_first(client, topics, countries):
    client.force_login(UserFactory(verified=False))
    response = client.get(CREATE)
    assert response.status_code == 403
    assert "Verify your email address first" in response.text
    assert reverse("account_email") in response.text
    response = client.post(CREATE, form_data(topics, action="create"))
    assert response.status_code == 403
    assert not Petition.objects.exists()


def test_the_form_refuses_other_methods(client, creator):
    assert client.put(CREATE).status_code == 405
    assert client.delete(CREATE).status_code == 405


# --- The form -------------------------------------------------------------------------------


def test_the_form_offers_topics_countries_and_the_current_language(
    client, creator, topics, countries
):
    response = client.get(CREATE, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    page = response.text
    assert "Santé" in page
    assert 'value="FR"' in page
    # Countries follow their name in the page's language: États-Unis sorts among the Es.
    assert page.index("États-Unis") < page.index(">France<")
    assert re.search(r'name="language" value="fr"[^>]*checked', page)
    assert not re.search(r'name="language" value="en"[^>]*checked', page)
    assert 'data-maxlength="120"' in page
    assert "js/petition-form.js" in page


def test_invalid_input_comes_back_with_errors_and_creates_nothing(
    client, creator, topics, countries
):
    response = client.post(
        CREATE,
        form_data(topics, title="x" * (TITLE_MAX + 1), topics=None, declaration=None,
                  action="create"),
    )  # fmt: skip
    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert "Choose at least one topic." in response.text
    assert 'href="#id_title"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert not Petition.objects.exists()


def test_a_line_break_counts_as_one_character_as_in_the_browser(client, creator, topics, countries):
    summary = "a\r\n" * 250  # 750 characters as sent, 500 as typed and counted
    response = client.post(CREATE, form_data(topics, summary=summary, action="preview"))
    assert response.status_code == 200
    assert "Check your petition" in response.text


# --- Preview --------------------------------------------------------------------------------


def test_preview_shows_the_rendered_text_and_similar_petitions_and_creates_nothing(
    client, creator, topics, countries
):
    similar = make_petition(title="A safer cycle path for commuters")
    make_petition(title="Cycle lanes everywhere", state=Petition.State.AWAITING_MODERATION)
    response = client.post(CREATE, form_data(topics, action="preview"))
    assert response.status_code == 200
    page = response.text
    assert "Check your petition" in page
    assert "<strong>council&#x27;s</strong>" in page or "<strong>council's</strong>" in page
    assert 'href="https://example.org/study"' in page
    assert similar.get_absolute_url() in page
    assert "Cycle lanes everywhere" not in page  # not public
    assert 'name="action" value="create"' in page
    assert 'name="action" value="edit"' in page
    assert 'type="hidden" name="title"' in page
    assert not Petition.objects.filter(creator=creator).exists()


def test_markdown_in_the_preview_is_sanitised(client, creator, topics, countries):
    response = client.post(
        CREATE, form_data(topics, details="<script>alert(1)</script> *hi*", action="preview")
    )
    assert "<script>alert(1)</script>" not in response.text
    assert "<em>hi</em>" in response.text


def test_edit_shows_the_form_again_with_the_values(client, creator, topics, countries):
    response = client.post(CREATE, form_data(topics, action="edit"))
    assert response.status_code == 200
    assert 'value="Build a cycle path between the station and the hospital"' in response.text
    assert "Check your petition</button>" in response.text
    assert not Petition.objects.exists()


def test_similar_petitions_share_a_significant_word_and_skip_hidden_texts():
    shown = make_petition(title="Free public transport for students")
    make_petition(
        title="Free transport or else",
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.OFFENSIVE,
    )
    rejected = make_petition(
        title="Transport for all",
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.DUPLICATE,
    )
    make_petition(title="Plant trees", state=Petition.State.OPEN)
    found = similar_petitions("Make transport cheaper for students")
    assert set(found) == {shown, rejected}


def test_significant_words_leave_out_short_and_common_words():
    words = significant_words("We want the council to build more cycle paths now")
    assert words == ["council", "cycle", "paths"]
    assert significant_words("a b c") == []


def test_titles_sharing_more_words_come_first_then_the_most_signed():
    one_word = make_petition(title="Safer cycle lanes", signature_count=9000)
    two_words = make_petition(title="Cycle paths by the river", signature_count=10)
    assert similar_petitions("More cycle paths in town") == [two_words, one_word]


# --- Creation -------------------------------------------------------------------------------


def test_creating_a_petition_collects_supporters_and_emails_the_supporter_link(
    client, creator, topics, countries, django_capture_on_commit_callbacks, settings
):
    settings.AGORA_SUPPORTERS_NEEDED = 3
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CREATE, form_data(topics, action="create"))
    petition = Petition.objects.get()
    assert response.status_code == 302
    assert response.url == petition.get_absolute_url()
    assert petition.state == Petition.State.COLLECTING_SUPPORTERS
    assert petition.creator == creator
    assert petition.creator_name == "Camille Martin"
    assert petition.summary == "Cycling there today is dangerous.\nA path would make it safe."
    assert list(petition.topics.all()) == [topics[0]]
    assert petition.supporters_needed == 3
    own = Signature.objects.get(petition=petition)
    assert (own.country, own.postcode, own.user) == ("FR", "75011", creator)
    assert AuditEvent.objects.filter(
        action="petition.created", actor=creator, target_id=str(petition.pk)
    ).exists()
    support_path = reverse("petitions:support", args=[petition.supporter_token])
    assert len(mail.outbox) == 1
    assert support_path in mail.outbox[0].body
    message = str(next(iter(get_messages(response.wsgi_request))))
    assert f"http://testserver{support_path}" in message
    assert "3 people" in message


def test_without_supporters_needed_the_petition_goes_straight_to_moderation(
    client, creator, topics, countries, settings
):
    settings.AGORA_SUPPORTERS_NEEDED = 0
    response = client.post(CREATE, form_data(topics, action="create"))
    assert response.status_code == 302
    assert Petition.objects.get().state == Petition.State.AWAITING_MODERATION
    message = str(next(iter(get_messages(response.wsgi_request))))
    assert message == "Your petition has been created and sent to moderation."


def test_a_tampered_topic_is_refused(client, creator, topics, countries):
    response = client.post(CREATE, form_data(topics, topics=[999], action="create"))
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Petition.objects.exists()


# --- My petitions ---------------------------------------------------------------------------


def test_my_petitions_needs_a_login_and_a_get(client):
    response = client.get(MINE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    client.force_login(UserFactory())
    assert client.post(MINE).status_code == 405


def test_my_petitions_has_an_empty_state_with_a_link_to_start_one(client, creator):
    response = client.get(MINE)
    assert response.status_code == 200
    assert "You have not started a petition yet." in response.text
    assert CREATE in response.text


def test_my_petitions_shows_each_state_and_what_matters_for_it(
    client, creator, django_assert_max_num_queries
):
    collecting = make_petition(
        creator=creator,
        title="Collecting one",
        state=Petition.State.COLLECTING_SUPPORTERS,
        opened_at=None,
        deadline=None,
        supporters_needed=5,
    )
    for n in range(2):
        make_signature(collecting, f"supporter{n}@example.org", is_supporter=True)
    make_signature(
        collecting, "pending@example.org", is_supporter=True, state=Signature.State.PENDING
    )
    make_petition(creator=creator, title="Open one", signature_count=1234)
    make_petition(
        creator=creator,
        title="Rejected one",
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.DUPLICATE,
        rejection_details="Sign petition 4 instead.",
    )
    make_petition(title="Someone else's petition")
    with django_assert_max_num_queries(6):
        response = client.get(MINE)
    page = response.text
    assert "Collecting one" in page
    assert "2 of 5 confirmed" in page
    assert f"http://testserver/petitions/support/{collecting.supporter_token}/" in page
    assert "Open one" in page
    assert "1,234" in page
    assert str(Petition.RejectionReason.DUPLICATE.label) in page
    assert "Sign petition 4 instead." in page
    assert "Someone else" not in page
    assert 'class="tag tag--success"' in page
    assert 'class="tag tag--error"' in page
