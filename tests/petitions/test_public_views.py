"""The public petition site: list, petition page, signing and the emailed links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix
from django.utils import timezone

from core.audit import record_event
from petitions.models import HourlyCount, Petition, RegionCount, Signature, SigningPause
from tests.factories import UserFactory
from tests.petitions.factories import (
    PetitionFactory,
    RegionFactory,
    SignatureFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and postcode tables live in the cache: start each test clean."""
    cache.clear()
    yield
    cache.clear()


def sign_data(**overrides):
    data = {
        "name": "Sam Signer",
        "email": "sam@example.org",
        "country": "FR",
        "postcode": "75011",
        "declaration": "on",
        "wants_updates": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def sign_url(petition):
    return reverse("petitions:sign", args=[petition.pk])


def detail_url(petition):
    return reverse("petitions:detail", args=[petition.pk])


# --- The list -------------------------------------------------------------------------


def test_list_shows_public_petitions_and_nothing_else(client):
    shown = [
        PetitionFactory(title="An open one"),
        PetitionFactory(title="A closed one", state=Petition.State.CLOSED),
        PetitionFactory(
            title="A rejected one", state=Petition.State.REJECTED, rejection_reason="duplicate"
        ),
    ]
    hidden = [
        PetitionFactory(title=f"Not public {state}", state=state)
        for state in (
            Petition.State.DRAFT,
            Petition.State.COLLECTING_SUPPORTERS,
            Petition.State.AWAITING_MODERATION,
            Petition.State.HIDDEN,
            Petition.State.REMOVED,
        )
    ]
    response = client.get(reverse("petitions:list"))
    assert response.status_code == 200
    for petition in shown:
        assert petition.title in response.text
    for petition in hidden:
        assert petition.title not in response.text
    assert "3 petitions" in response.text


def test_list_shows_only_the_title_and_reason_of_a_rejection_that_hides_its_text(client):
    PetitionFactory(
        title="Buy my product",
        summary="Secret advertising text",
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.ADVERTISING,
    )
    response = client.get(reverse("petitions:list"))
    assert "Buy my product" in response.text
    assert "Secret advertising text" not in response.text
    assert "It promotes a product, service or campaign" in response.text


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("open", {"Open", "Awaiting"}),
        ("closed", {"Closed", "Responded"}),
        ("rejected", {"Rejected"}),
        ("awaiting_response", {"Awaiting"}),
        ("responded", {"Responded"}),
    ],
)
def test_list_filters_by_state_and_response(client, state, expected):
    PetitionFactory(title="Open")
    PetitionFactory(title="Closed", state=Petition.State.CLOSED)
    PetitionFactory(title="Rejected", state=Petition.State.REJECTED, rejection_reason="unclear")
    PetitionFactory(title="Awaiting", response_state=Petition.ResponseState.AWAITING)
    PetitionFactory(
        title="Responded",
        state=Petition.State.CLOSED,
        response_state=Petition.ResponseState.RESPONDED,
        responded_at=timezone.now(),
    )
    response = client.get(reverse("petitions:list"), {"state": state})
    titles = {petition.title for petition in response.context["page"].object_list}
    assert titles == expected


def test_list_filters_by_topic(client):
    trees = TopicFactory(slug="environment")
    PetitionFactory(title="About trees", topics=[trees])
    PetitionFactory(title="About taxes")
    response = client.get(reverse("petitions:list"), {"topic": "environment"})
    assert [p.title for p in response.context["page"].object_list] == ["About trees"]


@pytest.mark.parametrize("value", ["fr-departement:75", "75", "ID"])
def test_list_filters_by_region_given_as_kind_and_code_code_or_id(client, value):
    paris = RegionFactory(code="75", name="Paris")
    lyon = RegionFactory(code="69", name="Rhône")
    signed_in_paris = PetitionFactory(title="Signed in Paris")
    signed_in_lyon = PetitionFactory(title="Signed in Lyon")
    RegionCount.objects.create(petition=signed_in_paris, region=paris, count=3)
    RegionCount.objects.create(petition=signed_in_lyon, region=lyon, count=3)
    query = str(paris.pk) if value == "ID" else value
    response = client.get(reverse("petitions:list"), {"region": query})
    assert response.status_code == 200
    assert [p.title for p in response.context["page"].object_list] == ["Signed in Paris"]
    assert 'value="fr-departement:75" selected' in response.text


def test_an_unknown_filter_value_is_a_400_that_says_what_is_wrong(client):
    PetitionFactory(title="Still listed")
    response = client.get(reverse("petitions:list"), {"state": "bogus", "region": "nowhere"})
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert "Select a valid choice" in response.text
    assert "Choose a region from the list." in response.text
    assert "Still listed" in response.text  # the other filters still apply


def test_list_sorts_by_popularity_trending_newest_and_closing_soon(client):
    now = timezone.now()
    big = PetitionFactory(title="Big", signature_count=500, opened_at=now - timedelta(days=9))
    rising = PetitionFactory(
        title="Rising",
        signature_count=50,
        opened_at=now - timedelta(days=1),
        deadline=now + timedelta(days=10),
    )
    new = PetitionFactory(
        title="New", signature_count=5, opened_at=now, deadline=now + timedelta(days=2)
    )
    PetitionFactory(
        title="Closed",
        state=Petition.State.CLOSED,
        opened_at=now - timedelta(days=60),
        deadline=now - timedelta(days=1),
    )
    HourlyCount.objects.create(petition=rising, hour=now - timedelta(hours=2), count=40)
    HourlyCount.objects.create(petition=big, hour=now - timedelta(hours=30), count=400)
    HourlyCount.objects.create(petition=big, hour=now - timedelta(hours=3), count=10)

    def titles(sort):
        response = client.get(reverse("petitions:list"), {"sort": sort})
        assert response.status_code == 200
        return [p.title for p in response.context["page"].object_list]

    assert titles("popular")[:3] == ["Big", "Rising", "New"]
    assert titles("trending")[:2] == ["Rising", "Big"]
    assert titles("newest")[:3] == ["New", "Rising", "Big"]
    assert titles("closing") == ["New", "Rising", "Big"]  # open only, soonest first
    assert new.deadline < rising.deadline


def test_list_search_finds_words_in_the_title_and_summary(client):
    PetitionFactory(title="More bicycle lanes", summary="Safer streets.")
    PetitionFactory(title="Plus de pistes cyclables", summary="Des rues sûres.", language="fr")
    PetitionFactory(title="Lower taxes", summary="Pay less.")
    response = client.get(reverse("petitions:list"), {"q": "bicycle"})
    assert [p.title for p in response.context["page"].object_list] == ["More bicycle lanes"]
    response = client.get(reverse("petitions:list"), {"q": "cyclables"})
    assert [p.title for p in response.context["page"].object_list] == ["Plus de pistes cyclables"]
    assert "Best match" in response.text


def test_list_paginates_by_20_with_an_accessible_navigation(client):
    for n in range(25):
        PetitionFactory(title=f"Petition {n:02d}", signature_count=n)
    first = client.get(reverse("petitions:list"))
    assert len(first.context["page"].object_list) == 20
    assert 'aria-label="Pages of results"' in first.text
    assert 'aria-current="page"' in first.text
    second = client.get(reverse("petitions:list"), {"page": 2, "sort": "popular"})
    assert len(second.context["page"].object_list) == 5
    assert "sort=popular&amp;page=1" in second.text


def test_list_runs_the_same_number_of_queries_whatever_the_page_holds(
    client, django_assert_max_num_queries
):
    topic = TopicFactory()
    RegionFactory()
    PetitionFactory(topics=[topic])
    client.get(reverse("petitions:list"))  # per-process memos (the pause) are filled

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("petitions:list"))
    for _ in range(30):
        PetitionFactory(topics=[topic, TopicFactory()])
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("petitions:list"), {"sort": "trending"})
    assert len(many) == len(few)
    with django_assert_max_num_queries(6):
        client.get(reverse("petitions:list"), {"q": "petition", "state": "open", "page": 2})


def test_list_refuses_post(client):
    assert client.post(reverse("petitions:list")).status_code == 405


def test_list_shows_the_signing_pause_banner(client):
    SigningPause.objects.create(reason="Maintenance until noon.")
    response = client.get(reverse("petitions:list"))
    assert "Signing is paused" in response.text
    assert "Maintenance until noon." in response.text


# --- The petition page ----------------------------------------------------------------


def test_petition_page_shows_the_text_the_count_and_the_form(client, countries):
    petition = PetitionFactory(
        title="Plant more trees",
        summary="Shade and cleaner air.",
        details="Some **bold** words <script>alert(1)</script>",
        signature_count=1234,
        response_threshold=10_000,
        topics=[TopicFactory(slug="environment", name_en="Environment")],
    )
    response = client.get(detail_url(petition))
    assert response.status_code == 200
    text = response.text
    assert "Plant more trees" in text
    assert "<strong>bold</strong>" in text
    assert "<script>alert(1)" not in text
    assert "Environment" in text
    assert "signatures of 10,000 needed for a government response" in text
    assert "1,234" in text
    assert '<progress class="progress" max="10000" value="1234"' in text
    assert "Deadline:" in text
    assert f'action="{sign_url(petition)}"' in text
    assert "I confirm that the information above is correct" in text
    assert 'name="email"' in text


def test_petition_page_has_open_graph_and_twitter_card_tags(client, settings):
    settings.SITE_URL = "https://petitions.example.gov"
    petition = PetitionFactory(title="Plant more trees", summary="Shade and cleaner air.")
    text = client.get(detail_url(petition)).text
    url = f"https://petitions.example.gov/petitions/{petition.pk}/"
    assert '<meta property="og:title" content="Plant more trees">' in text
    assert '<meta property="og:description" content="Shade and cleaner air.">' in text
    assert f'<meta property="og:url" content="{url}">' in text
    assert '<meta property="og:type" content="article">' in text
    assert '<meta property="og:site_name"' in text
    assert '<meta name="twitter:card" content="summary">' in text


def test_petition_page_has_share_links_without_third_party_scripts(client, settings):
    settings.SITE_URL = "https://petitions.example.gov"
    petition = PetitionFactory(title="Plant trees")
    text = client.get(detail_url(petition)).text
    for start in (
        "mailto:?subject=Plant%20trees",
        "https://x.com/intent/tweet?",
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fpetitions.example.gov",
        "https://wa.me/?text=",
        "https://www.linkedin.com/sharing/share-offsite/?url=",
        "https://bsky.app/intent/compose?text=",
    ):
        assert start in text
    assert '<script src="http' not in text
    assert f'value="https://petitions.example.gov/petitions/{petition.pk}/" readonly' in text


def test_petition_page_contains_no_signer_email(client, countries):
    petition = PetitionFactory(signature_count=2)
    SignatureFactory(
        petition=petition, email="private.person@example.org", state=Signature.State.CONFIRMED
    )
    SignatureFactory(petition=petition, email="listed@example.org", listed_publicly=True)
    text = client.get(detail_url(petition)).text
    assert "private.person@example.org" not in text
    assert "listed@example.org" not in text
    assert "example.org" not in text


@pytest.mark.parametrize(
    "state",
    [
        Petition.State.DRAFT,
        Petition.State.COLLECTING_SUPPORTERS,
        Petition.State.AWAITING_MODERATION,
    ],
)
def test_an_unpublished_petition_is_a_404_for_everyone_but_its_creator_and_moderators(
    client, moderator, state
):
    creator = UserFactory()
    petition = PetitionFactory(state=state, creator=creator, title="My idea", opened_at=None)
    assert client.get(detail_url(petition)).status_code == 404
    client.force_login(UserFactory())
    assert client.get(detail_url(petition)).status_code == 404

    client.force_login(creator)
    response = client.get(detail_url(petition))
    assert response.status_code == 200
    assert "This petition is not published yet" in response.text
    assert "My idea" in response.text
    if state == Petition.State.COLLECTING_SUPPORTERS:
        assert reverse("petitions:support", args=[petition.supporter_token]) in response.text

    client.force_login(moderator)
    response = client.get(detail_url(petition))
    assert response.status_code == 200
    assert petition.supporter_token not in response.text


def test_a_removed_petition_is_gone(client):
    petition = PetitionFactory(state=Petition.State.REMOVED, title="Taken down")
    response = client.get(detail_url(petition))
    assert response.status_code == 410
    assert "Taken down" not in response.text


def test_a_hidden_petition_says_so_without_its_text(client):
    petition = PetitionFactory(
        state=Petition.State.HIDDEN, title="Hidden title", summary="Hidden summary"
    )
    response = client.get(detail_url(petition))
    assert response.status_code == 200
    assert "This petition has been hidden" in response.text
    assert "Hidden summary" not in response.text


def test_a_rejection_that_hides_the_text_shows_only_the_title_and_reason(client):
    petition = PetitionFactory(
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.OFFENSIVE,
        title="Rude title",
        summary="Offensive words",
        details="More offensive words",
    )
    response = client.get(detail_url(petition))
    assert response.status_code == 200
    assert "Rude title" in response.text
    assert "It is offensive or abusive" in response.text
    assert "Offensive words" not in response.text
    assert "noindex" in response.text


def test_a_closed_petition_shows_a_message_instead_of_the_form(client):
    petition = PetitionFactory(state=Petition.State.CLOSED, closed_at=timezone.now())
    response = client.get(detail_url(petition))
    assert "This petition is closed" in response.text
    assert "Closed on" in response.text
    assert 'name="declaration"' not in response.text


def test_the_petition_page_says_when_signing_is_paused(client, countries):
    petition = PetitionFactory()
    SigningPause.objects.create(reason="Back at noon.")
    response = client.get(detail_url(petition))
    assert "Back at noon." in response.text
    assert 'name="declaration"' not in response.text


def test_the_history_shows_public_events_only_without_actors(client, moderator):
    petition = PetitionFactory()
    record_event("petition.created", actor=moderator, target=petition)
    record_event("petition.opened", actor=moderator, target=petition)
    record_event("petition.response_threshold_reached", target=petition)
    response = client.get(detail_url(petition))
    assert "Published and open for signatures" in response.text
    assert "Reached the threshold for a government response" in response.text
    assert moderator.display_name not in response.text
    assert moderator.email not in response.text


def test_the_petition_page_shows_signatures_by_region_with_charts_and_tables(client):
    petition = PetitionFactory(signature_count=30)
    paris = RegionFactory(code="75", name="Paris", population=2_000_000)
    idf = RegionFactory(kind="fr-region", code="11", name="Île-de-France", population=12_000_000)
    RegionCount.objects.create(petition=petition, region=paris, count=25)
    RegionCount.objects.create(petition=petition, region=idf, count=25)
    RegionCount.objects.create(
        petition=petition, region=RegionFactory(code="01", name="Ain"), count=0
    )
    text = client.get(detail_url(petition)).text
    assert "Signatures by region" in text
    assert "Paris" in text
    assert "1.2" in text  # 25 per 2,000,000 inhabitants = 1.25 per 100,000, to 1 decimal
    assert "Ain" not in text  # no signatures there
    assert 'role="img"' in text
    assert 'aria-labelledby="chart-fr-departement-count-title' in text
    assert "French départements" in text
    assert "French regions" in text


def test_the_petition_page_shows_signatures_over_time(client):
    petition = PetitionFactory(signature_count=12)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    HourlyCount.objects.create(petition=petition, hour=start, count=5)
    HourlyCount.objects.create(petition=petition, hour=start + timedelta(days=2), count=7)
    text = client.get(detail_url(petition)).text
    assert "Signatures over time" in text
    assert 'id="chart-over-time-title"' in text
    assert "Show the figures day by day" in text


def test_a_verified_user_gets_the_one_click_form_prefilled_from_their_last_signature(
    client, countries
):
    user = UserFactory(display_name="Dominique")
    SignatureFactory(user=user, country="US", postcode="20500")
    client.force_login(user)
    text = client.get(detail_url(PetitionFactory())).text
    assert "Sign as Dominique" in text
    assert 'name="one_click"' in text
    assert 'value="20500"' in text
    assert 'name="email"' not in text


def test_an_unverified_user_gets_the_full_form_prefilled(client, countries):
    user = UserFactory(display_name="Dominique", verified=False)
    client.force_login(user)
    text = client.get(detail_url(PetitionFactory())).text
    assert 'name="one_click"' not in text
    assert f'value="{user.email}"' in text


def test_the_detail_page_refuses_post(client):
    assert client.post(detail_url(PetitionFactory())).status_code == 405


def test_an_unknown_petition_is_a_404(client):
    assert client.get(reverse("petitions:detail", args=[999999])).status_code == 404


# --- Signing ----------------------------------------------------------------------------


def test_signing_redirects_to_the_check_your_email_page_and_emails_a_link(
    client, countries, django_capture_on_commit_callbacks
):
    petition = PetitionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(sign_url(petition), sign_data())
    assert response.status_code == 303
    assert response["Location"] == reverse("petitions:signed", args=[petition.pk])
    signature = Signature.objects.get()
    assert signature.state == Signature.State.PENDING
    assert (signature.name, signature.country, signature.postcode) == ("Sam Signer", "FR", "75011")
    assert signature.wants_updates
    assert not signature.listed_publicly
    assert signature.ip_address == "127.0.0.1"
    assert [message.to for message in mail.outbox] == [["sam@example.org"]]
    assert signature.token in mail.outbox[0].body

    page = client.get(response["Location"])
    assert "Check your email" in page.text
    assert "If you have already signed, we sent you a reminder instead." in page.text


def test_the_answer_to_a_signature_follows_the_sites_path_prefix(client, countries):
    """The "signed" address is computed once per petition, and per path prefix."""
    petition = PetitionFactory()
    url = sign_url(petition)
    plain = client.post(url, sign_data(email="a@example.org"))
    set_script_prefix("/agora/")  # as a WSGI server does for a site under /agora
    try:
        prefixed = client.post(url, sign_data(email="b@example.org"))
    finally:
        set_script_prefix("/")
    again = client.post(url, sign_data(email="c@example.org"))
    signed = reverse("petitions:signed", args=[petition.pk])
    assert [plain["Location"], prefixed["Location"], again["Location"]] == [
        signed,
        f"/agora{signed}",
        signed,
    ]


def test_signing_twice_with_the_same_email_shows_the_same_page_and_keeps_one_signature(
    client, countries, django_capture_on_commit_callbacks
):
    petition = PetitionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(sign_url(petition), sign_data(email="Sam.Signer@Gmail.com"))
    signature = Signature.objects.get()
    confirm_url = reverse("petitions:confirm", args=[signature.token])
    client.get(confirm_url)
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(sign_url(petition), sign_data(email="samsigner+x@gmail.com"))
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Signature.objects.count() == 1
    assert len(mail.outbox) == 2
    confirmation, reminder = mail.outbox
    assert confirm_url in confirmation.body
    assert confirm_url not in reminder.body  # the already-signed notice, not a second link
    assert confirmation.subject != reminder.subject


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (sign_data(name=""), "Full name"),
        (sign_data(email="not-an-email"), "Enter a valid email address."),
        (sign_data(declaration=None), "Confirm that you support this petition to sign it."),
        (sign_data(postcode=""), "Enter your postcode."),
        (sign_data(postcode="7501"), "Enter a French postcode of 5 digits"),
        (sign_data(country="US", postcode="2050"), "Enter a ZIP code of 5 digits"),
        (sign_data(country="ZZ"), "Select a valid choice."),
    ],
)
def test_invalid_signing_input_is_a_400_with_the_error(client, countries, data, message):
    response = client.post(sign_url(PetitionFactory()), data)
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert message in response.text
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    ("country", "postcode", "stored"),
    [("US", "20500-0003", "20500-0003"), ("US", "20500", "20500"), ("FR", "75 011", "75011")],
)
def test_postcodes_in_the_accepted_formats_are_signed(client, countries, country, postcode, stored):
    response = client.post(
        sign_url(PetitionFactory()), sign_data(country=country, postcode=postcode)
    )
    assert response.status_code == 303
    assert Signature.objects.get().postcode == stored


def test_other_countries_need_no_postcode(client, countries):
    from petitions.models import Country

    Country.objects.create(code="GB", name_en="United Kingdom", name_fr="Royaume-Uni")
    response = client.post(sign_url(PetitionFactory()), sign_data(country="GB", postcode=""))
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"state": Petition.State.CLOSED}, "This petition is closed"),
        ({"deadline": timezone.now() - timedelta(hours=1)}, "This petition is closed"),
        (
            {"state": Petition.State.REJECTED, "rejection_reason": "duplicate"},
            "This petition was rejected",
        ),
        ({"state": Petition.State.HIDDEN}, "This petition cannot be signed."),
    ],
)
def test_closed_rejected_and_hidden_petitions_refuse_signatures(client, countries, fields, message):
    petition = PetitionFactory(**fields)
    response = client.post(sign_url(petition), sign_data())
    assert response.status_code == 409
    assert message in response.text
    assert not Signature.objects.exists()


def test_unpublished_petitions_cannot_be_signed_from_the_public_form(client, countries):
    petition = PetitionFactory(state=Petition.State.COLLECTING_SUPPORTERS)
    assert client.post(sign_url(petition), sign_data()).status_code == 404


def test_signing_while_paused_is_refused_with_the_reason(client, countries):
    SigningPause.objects.create(reason="")
    response = client.post(sign_url(PetitionFactory()), sign_data())
    assert response.status_code == 409
    assert "Signing is paused for the moment" in response.text


@override_settings(AGORA_SIGNING_RATE_PER_IP="2/m")
def test_too_many_signatures_from_one_address_are_a_429(client, countries):
    petition = PetitionFactory()
    for n in range(2):
        response = client.post(sign_url(petition), sign_data(email=f"person{n}@example.org"))
        assert response.status_code == 303
    response = client.post(sign_url(petition), sign_data(email="person9@example.org"))
    assert response.status_code == 429
    assert "Please wait a few minutes and try again." in response.text
    assert Signature.objects.count() == 2


def test_sign_refuses_get(client):
    assert client.get(sign_url(PetitionFactory())).status_code == 405


def test_one_click_signing_counts_at_once(client, countries):
    user = UserFactory(display_name="Dominique")
    petition = PetitionFactory()
    client.force_login(user)
    data = {"one_click": "1", "country": "FR", "postcode": "69001", "listed_publicly": "on"}
    response = client.post(sign_url(petition), data, follow=True)
    assert response.redirect_chain[0] == (detail_url(petition), 303)
    assert "your signature has been counted" in response.text
    signature = Signature.objects.get()
    assert signature.state == Signature.State.CONFIRMED
    assert (signature.user, signature.name, signature.postcode) == (user, "Dominique", "69001")
    assert signature.listed_publicly
    assert not signature.wants_updates

    again = client.post(sign_url(petition), data, follow=True)
    assert "You have already signed this petition." in again.text
    assert Signature.objects.count() == 1


def test_one_click_with_an_invalid_postcode_is_a_400(client, countries):
    client.force_login(UserFactory())
    response = client.post(
        sign_url(PetitionFactory()), {"one_click": "1", "country": "FR", "postcode": "1"}
    )
    assert response.status_code == 400
    assert "Enter a French postcode of 5 digits" in response.text


def test_one_click_from_an_unverified_account_falls_back_to_the_full_form(client, countries):
    client.force_login(UserFactory(verified=False))
    response = client.post(
        sign_url(PetitionFactory()), {"one_click": "1", "country": "FR", "postcode": "75001"}
    )
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_the_signed_page_refuses_post_and_hides_unpublished_titles(client):
    public = PetitionFactory(title="Public title")
    private = PetitionFactory(state=Petition.State.COLLECTING_SUPPORTERS, title="Secret draft")
    assert "Public title" in client.get(reverse("petitions:signed", args=[public.pk])).text
    response = client.get(reverse("petitions:signed", args=[private.pk]))
    assert response.status_code == 200
    assert "Secret draft" not in response.text
    assert client.post(reverse("petitions:signed", args=[public.pk])).status_code == 405


# --- count.json -------------------------------------------------------------------------


@override_settings(AGORA_COUNT_INTERVAL_SECONDS=2.5)
def test_count_json_is_cacheable_and_open_to_other_sites(client, django_assert_num_queries):
    counted_at = timezone.now()
    petition = PetitionFactory(signature_count=42, counted_at=counted_at)
    with django_assert_num_queries(1):
        response = client.get(reverse("petitions:count", args=[petition.pk]))
    assert response.status_code == 200
    assert response.json() == {
        "id": petition.pk,
        "signature_count": 42,
        "counted_at": counted_at.isoformat(),
        "response_threshold": 10_000,
        "consideration_threshold": 100_000,
    }
    assert response["Cache-Control"] == "public, max-age=3"
    assert response["Access-Control-Allow-Origin"] == "*"


def test_count_json_is_a_404_for_unpublished_petitions_and_refuses_post(client):
    draft = PetitionFactory(state=Petition.State.DRAFT)
    assert client.get(reverse("petitions:count", args=[draft.pk])).status_code == 404
    petition = PetitionFactory()
    assert client.get(reverse("petitions:count", args=[petition.pk])).json()["counted_at"] is None
    assert client.post(reverse("petitions:count", args=[petition.pk])).status_code == 405


# --- Supporters -------------------------------------------------------------------------


def supporter_petition(**fields):
    return PetitionFactory(
        state=Petition.State.COLLECTING_SUPPORTERS,
        opened_at=None,
        deadline=None,
        title="Not yet public",
        **fields,
    )


def test_the_supporter_link_shows_the_text_and_the_form(client, countries):
    petition = supporter_petition(summary="The private summary.")
    response = client.get(reverse("petitions:support", args=[petition.supporter_token]))
    assert response.status_code == 200
    assert "You have been invited by the creator to support this petition" in response.text
    assert "The private summary." in response.text
    assert 'name="declaration"' in response.text


def test_supporting_signs_as_a_supporter_and_redirects(client, countries):
    petition = supporter_petition()
    url = reverse("petitions:support", args=[petition.supporter_token])
    response = client.post(url, sign_data())
    assert response.status_code == 303
    assert response["Location"] == reverse("petitions:signed", args=[petition.pk])
    assert Signature.objects.get().is_supporter


def test_an_unknown_supporter_link_is_a_404(client):
    assert client.get(reverse("petitions:support", args=["nope"])).status_code == 404


def test_a_petition_no_longer_collecting_supporters_says_so(client, countries):
    petition = PetitionFactory(title="Now open")
    url = reverse("petitions:support", args=[petition.supporter_token])
    response = client.get(url)
    assert "This petition is no longer collecting supporters." in response.text
    assert detail_url(petition) in response.text
    response = client.post(url, sign_data())
    assert response.status_code == 409
    assert "This petition is no longer collecting supporters." in response.text


def test_support_with_invalid_input_is_a_400_and_refuses_put(client, countries):
    petition = supporter_petition()
    url = reverse("petitions:support", args=[petition.supporter_token])
    assert client.post(url, sign_data(email="")).status_code == 400
    assert client.put(url).status_code == 405


# --- Confirming and withdrawing ---------------------------------------------------------


def test_confirming_shows_the_success_page_every_time(client, settings):
    settings.SITE_URL = "https://petitions.example.gov"
    signature = SignatureFactory(petition=PetitionFactory(title="Plant trees"))
    url = reverse("petitions:confirm", args=[signature.token])
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert "Your signature has been confirmed" in response.text
        assert "https://www.facebook.com/sharer/sharer.php" in response.text
    signature.refresh_from_db()
    assert signature.state == Signature.State.CONFIRMED


def test_confirming_with_an_unknown_token_is_a_400(client):
    response = client.get(reverse("petitions:confirm", args=["not-a-token"]))
    assert response.status_code == 400
    assert "This link is not valid" in response.text


def test_confirming_on_a_closed_petition_is_a_409(client):
    petition = PetitionFactory(state=Petition.State.CLOSED)
    signature = SignatureFactory(petition=petition)
    response = client.get(reverse("petitions:confirm", args=[signature.token]))
    assert response.status_code == 409
    assert "This petition is closed" in response.text


def test_confirm_refuses_post(client):
    signature = SignatureFactory()
    assert client.post(reverse("petitions:confirm", args=[signature.token])).status_code == 405
    signature.refresh_from_db()
    assert signature.state == Signature.State.PENDING


def test_withdrawing_asks_first_and_withdraws_only_on_post(client):
    signature = SignatureFactory(state=Signature.State.CONFIRMED, confirmed_at=timezone.now())
    url = reverse("petitions:withdraw", args=[signature.token])
    page = client.get(url)
    assert page.status_code == 200
    assert 'method="post"' in page.text
    signature.refresh_from_db()
    assert signature.state == Signature.State.CONFIRMED
    response = client.post(url)
    assert response.status_code == 200
    assert "Your signature has been withdrawn" in response.text
    signature.refresh_from_db()
    assert signature.state == Signature.State.WITHDRAWN
    assert "already been withdrawn" in client.get(url).text


def test_withdrawing_with_an_unknown_token_is_a_400(client):
    url = reverse("petitions:withdraw", args=["not-a-token"])
    assert client.get(url).status_code == 400
    response = client.post(url)
    assert response.status_code == 400
    assert "This link is not valid" in response.text


def test_withdrawing_from_a_closed_petition_is_a_409(client):
    signature = SignatureFactory(petition=PetitionFactory(state=Petition.State.CLOSED))
    response = client.post(reverse("petitions:withdraw", args=[signature.token]))
    assert response.status_code == 409
    assert "signatures can no longer change" in response.text


def test_withdraw_refuses_put(client):
    signature = SignatureFactory()
    assert client.put(reverse("petitions:withdraw", args=[signature.token])).status_code == 405


# --- Home page --------------------------------------------------------------------------


def test_home_page_lists_petition_sections_and_a_search_box(client):
    now = timezone.now()
    popular = PetitionFactory(title="Popular one", signature_count=900)
    HourlyCount.objects.create(petition=popular, hour=now - timedelta(hours=1), count=30)
    PetitionFactory(
        title="Answered one",
        state=Petition.State.CLOSED,
        response_state=Petition.ResponseState.RESPONDED,
        responded_at=now,
    )
    response = client.get(reverse("core:home"))
    text = response.text
    assert response.status_code == 200
    for heading in ("Popular petitions", "Trending", "Recently responded", "Closing soon"):
        assert heading in text
    assert "Popular one" in text
    assert "Answered one" in text
    assert 'action="/petitions/"' in text
    assert "Search petitions" in text
    assert "?state=open&amp;sort=popular" in text
    assert "?state=responded" in text


def test_home_page_omits_empty_sections(client):
    PetitionFactory(title="Quiet one")
    text = client.get(reverse("core:home")).text
    assert "Popular petitions" in text
    assert "Trending" not in text
    assert "Recently responded" not in text
