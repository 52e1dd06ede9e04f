"""The public response pages: a response, unsubscribing, statistics, departments, and the
response section of a petition's page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from petitions.models import Petition
from responses.models import Assignment, Debate, Department, Response
from responses.services import drafting, outbox, publication
from tests.petitions.conftest import make_petition, make_signature
from tests.responses.conftest import routed_petition

pytestmark = pytest.mark.django_db

BODY = "We agree.\n\n* Plant **10,000** trees\n* Water them\n\n<script>alert('x')</script>"


def publish(
    petitions: list[Petition],
    *,
    officer,
    reviewer,
    publisher,
    title: str = "Our answer on urban trees",
    body: str = BODY,
) -> Response:
    """Draft, submit, approve and publish through the services, as staff would."""
    lead = Assignment.objects.active().get(petition=petitions[0], role=Assignment.Role.LEAD)
    department = lead.department
    response = drafting.create_response(
        actor=officer, department=department, petitions=petitions, title=title, body=body
    )
    drafting.submit_response(response, actor=officer)
    drafting.approve_response(response, actor=reviewer)
    publication.publish_response(response, actor=publisher)
    response.refresh_from_db()
    return response


def draft(petition: Petition, *, officer) -> Response:
    department = Assignment.objects.active().get(petition=petition).department
    return drafting.create_response(
        actor=officer, department=department, petitions=[petition], title="Draft", body="Secret"
    )


@pytest.fixture
def published(petition, officer, reviewer, publisher):
    return publish([petition], officer=officer, reviewer=reviewer, publisher=publisher)


def count_queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# --- A response's page ---------------------------------------------------------------------


def test_a_published_response_shows_its_department_date_text_and_petitions(client, published):
    petition = published.petitions.get()
    Petition.objects.filter(pk=petition.pk).update(signature_count=12345)
    page = client.get(reverse("responses:detail", args=[published.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Our answer on urban trees" in html
    assert reverse("responses:department", args=["ecology"]) in html
    assert "Ministry of Ecology" in html
    assert published.published_at.strftime("%-d %B %Y") in html
    assert "<strong>10,000</strong>" in html  # Markdown rendered
    assert "<script>alert" not in html  # and sanitised
    assert petition.get_absolute_url() in html
    assert "12,345" in html
    assert 'property="og:title" content="Our answer on urban trees"' in html
    # The canonical address is the site's, not the one the request came by.
    assert f'property="og:url" content="{settings.SITE_URL}{published.get_absolute_url()}"' in html
    assert "Updated on" not in html


def test_a_response_page_never_names_the_staff_who_wrote_it(client, published):
    html = client.get(published.get_absolute_url()).content.decode()
    for person in (published.drafter, published.reviewer, published.publisher):
        assert person.email not in html
        assert person.display_name not in html


def test_a_corrected_response_says_when_and_what_changed(client, published, publisher):
    publication.correct_response(
        published,
        actor=publisher,
        title="Our answer on urban trees",
        body="We agree. Plant **12,000** trees.",
        note="The number of trees was wrong.",
    )
    html = client.get(published.get_absolute_url()).content.decode()
    assert "Updated on" in html
    assert "The number of trees was wrong." in html
    assert "version 2" in html
    assert "<strong>12,000</strong>" in html


@pytest.mark.parametrize("step", ["draft", "in_review", "approved"])
def test_an_unpublished_response_has_no_public_page(client, petition, officer, reviewer, step):
    response = draft(petition, officer=officer)
    if step != "draft":
        drafting.submit_response(response, actor=officer)
    if step == "approved":
        drafting.approve_response(response, actor=reviewer)
    assert client.get(reverse("responses:detail", args=[response.pk])).status_code == 404


def test_an_unknown_response_is_not_found(client, db):
    assert client.get(reverse("responses:detail", args=[999_999])).status_code == 404


def test_a_response_page_does_not_accept_post(client, published):
    assert client.post(published.get_absolute_url()).status_code == 405


def test_a_response_page_lists_only_public_petitions(client, topic, officer, reviewer, publisher):
    shown = routed_petition(topic, title="Shown petition")
    hidden = routed_petition(topic, title="Hidden petition")
    response = publish([shown, hidden], officer=officer, reviewer=reviewer, publisher=publisher)
    Petition.objects.filter(pk=hidden.pk).update(state=Petition.State.HIDDEN)
    html = client.get(response.get_absolute_url()).content.decode()
    assert "Shown petition" in html
    assert "Hidden petition" not in html


def test_a_response_page_runs_the_same_queries_for_one_or_many_petitions(
    client, topic, officer, reviewer, publisher
):
    one = publish([routed_petition(topic)], officer=officer, reviewer=reviewer, publisher=publisher)
    many = publish(
        [routed_petition(topic) for _ in range(4)],
        officer=officer,
        reviewer=reviewer,
        publisher=publisher,
    )
    for response in (one, many):
        publication.correct_response(
            response, actor=publisher, title="T", body="B", note="First fix"
        )
    publication.correct_response(many, actor=publisher, title="T", body="C", note="Second fix")
    assert count_queries(client, one.get_absolute_url()) == count_queries(
        client, many.get_absolute_url()
    )


# --- Unsubscribing ------------------------------------------------------------------------


def token_for(signature_id: int) -> str:
    return signing.dumps(signature_id, salt=outbox.UNSUBSCRIBE_SALT)


@pytest.fixture
def signature(petition):
    return make_signature(petition, "fan@example.org", wants_updates=True)


def test_the_unsubscribe_page_asks_first_and_does_not_unsubscribe_on_get(client, signature):
    url = reverse("responses:unsubscribe", args=[token_for(signature.pk)])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert signature.petition.title in html
    assert "Stop emails about this petition" in html
    assert 'method="post"' in html
    assert client.head(url).status_code == 200
    signature.refresh_from_db()
    assert signature.wants_updates is True


def test_posting_the_form_stops_the_emails(client, signature):
    url = reverse("responses:unsubscribe", args=[token_for(signature.pk)])
    page = client.post(url)
    assert page.status_code == 200
    assert "You will no longer receive emails about this petition" in page.content.decode()
    signature.refresh_from_db()
    assert signature.wants_updates is False


def test_a_one_click_unsubscribe_without_csrf_token_or_cookie_succeeds(signature):
    """RFC 8058: the mail provider POSTs the form body, with no cookie and no token."""
    mail_client = Client(enforce_csrf_checks=True)
    url = reverse("responses:unsubscribe", args=[token_for(signature.pk)])
    page = mail_client.post(
        url,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 200
    signature.refresh_from_db()
    assert signature.wants_updates is False
    # Idempotent: a second click (or a retry by the provider) is just as fine.
    assert mail_client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200


def test_the_address_in_the_emails_works_for_one_click(signature):
    path = outbox.unsubscribe_url(signature.pk).removeprefix(settings.SITE_URL)
    page = Client(enforce_csrf_checks=True).post(path, data={"List-Unsubscribe": "One-Click"})
    assert page.status_code == 200
    signature.refresh_from_db()
    assert signature.wants_updates is False


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_unsubscribe_link_is_a_clear_400(client, signature, method):
    url = reverse("responses:unsubscribe", args=[token_for(signature.pk) + "x"])
    page = getattr(client, method)(url)
    assert page.status_code == 400
    assert "This unsubscribe link is not valid" in page.content.decode()
    signature.refresh_from_db()
    assert signature.wants_updates is True


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_link_to_a_signature_that_no_longer_exists_is_a_400(client, db, method):
    url = reverse("responses:unsubscribe", args=[token_for(999_999)])
    assert getattr(client, method)(url).status_code == 400


def test_a_token_signed_for_something_else_is_refused(client, signature):
    token = signing.dumps(signature.pk, salt="agora.something-else")
    assert client.get(reverse("responses:unsubscribe", args=[token])).status_code == 400


def test_unsubscribing_does_not_accept_other_methods(client, signature):
    url = reverse("responses:unsubscribe", args=[token_for(signature.pk)])
    assert client.put(url).status_code == 405
    assert client.delete(url).status_code == 405


def test_the_unsubscribe_page_hides_the_title_of_a_hidden_petition(client, signature):
    Petition.objects.filter(pk=signature.petition_id).update(state=Petition.State.HIDDEN)
    url = reverse("responses:unsubscribe", args=[token_for(signature.pk)])
    assert signature.petition.title not in client.get(url).content.decode()
    assert signature.petition.title not in client.post(url).content.decode()


def test_the_unsubscribe_page_is_never_cached(client, signature):
    url = reverse("responses:unsubscribe", args=[token_for(signature.pk)])
    assert "no-cache" in client.get(url)["Cache-Control"]


# --- Statistics ---------------------------------------------------------------------------


def test_the_statistics_page_is_public_and_cacheable(client, published):
    page = client.get(reverse("responses:stats"))
    assert page.status_code == 200
    cache_control = page["Cache-Control"]
    assert "public" in cache_control
    assert "max-age=300" in cache_control
    html = page.content.decode()
    assert "Petitions by state" in html
    assert "Time to respond" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart' in html
    assert 'role="img"' in html


def test_the_statistics_page_shows_overdue_departments_with_a_link(client, topic):
    petition = routed_petition(topic)
    Assignment.objects.filter(petition=petition).update(due_at=timezone.now() - timedelta(days=3))
    html = client.get(reverse("responses:stats")).content.decode()
    assert reverse("responses:department", args=["ecology"]) in html
    assert "Overdue responses by department" in html


def test_the_statistics_page_without_any_data(client, db):
    page = client.get(reverse("responses:stats"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "No petition has received a response yet." in html
    assert "No response is overdue at the moment." in html


def test_the_statistics_page_runs_a_fixed_number_of_queries(
    client, topic, other_department, officer, reviewer, publisher
):
    def late(department: Department) -> None:
        Assignment.objects.filter(petition=routed_petition(topic)).update(
            due_at=timezone.now() - timedelta(days=1), department=department
        )

    publish([routed_petition(topic)], officer=officer, reviewer=reviewer, publisher=publisher)
    late(topic.lead_department)
    few = count_queries(client, reverse("responses:stats"))
    for _ in range(3):
        late(other_department)
        publish([routed_petition(topic)], officer=officer, reviewer=reviewer, publisher=publisher)
    make_petition(state=Petition.State.CLOSED)
    assert count_queries(client, reverse("responses:stats")) == few


def test_the_statistics_page_does_not_accept_post(client, db):
    assert client.post(reverse("responses:stats")).status_code == 405


# --- Departments --------------------------------------------------------------------------


def test_the_department_list_shows_active_departments_and_their_record(
    client, published, other_department, committee
):
    Department.objects.filter(pk=published.department_id).update(
        contact_email="petitions@ecology.example.org"
    )
    Department.objects.create(name_en="Old Ministry", name_fr="Ancien", slug="old", is_active=False)
    page = client.get(reverse("responses:departments"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ministry of Ecology" in html
    assert "Ministry of Transport" in html
    assert "Old Ministry" not in html
    assert reverse("responses:department", args=["committee"]) in html
    assert reverse("responses:department", args=["ecology"]) in html
    assert "petitions@ecology.example.org" not in html


def test_the_department_list_speaks_french(client, published):
    client.cookies["django_language"] = "fr"
    html = client.get(reverse("responses:departments"), HTTP_ACCEPT_LANGUAGE="fr").content
    assert "Ministère de l&#x27;Écologie" in html.decode()


def test_the_department_list_runs_a_fixed_number_of_queries(
    client, published, topic, other_department
):
    few = count_queries(client, reverse("responses:departments"))
    for n in range(4):
        Department.objects.create(name_en=f"Ministry {n}", name_fr=f"Ministère {n}", slug=f"m{n}")
        routed_petition(topic)
    assert count_queries(client, reverse("responses:departments")) == few


def test_a_department_page_lists_what_it_awaits_with_overdue_tags(client, topic, published):
    late = routed_petition(topic, title="A late petition")
    Assignment.objects.filter(petition=late).update(due_at=timezone.now() - timedelta(days=4))
    Petition.objects.filter(pk=late.pk).update(response_due_at=timezone.now() - timedelta(days=4))
    on_time = routed_petition(topic, title="A recent petition")
    page = client.get(reverse("responses:department", args=["ecology"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "A late petition" in html
    assert "A recent petition" in html
    assert "Overdue by 4 days" in html
    assert html.count("tag--error") >= 1
    assert on_time.get_absolute_url() in html
    assert published.get_absolute_url() in html  # recently responded
    assert "30 days after routing" in html  # its response target


def test_a_department_page_does_not_list_hidden_petitions(client, topic):
    hidden = routed_petition(topic, title="Taken down")
    Petition.objects.filter(pk=hidden.pk).update(state=Petition.State.HIDDEN)
    html = client.get(reverse("responses:department", args=["ecology"])).content.decode()
    assert "Taken down" not in html


def test_a_committee_page_lists_its_debates(client, committee, petition):
    Debate.objects.create(petition=petition, committee=committee, scheduled_for=date(2030, 3, 4))
    html = client.get(reverse("responses:department", args=["committee"])).content.decode()
    assert petition.title in html
    assert "4 March 2030" in html


def test_an_unknown_or_inactive_department_is_not_found(client, department):
    assert client.get(reverse("responses:department", args=["nowhere"])).status_code == 404
    Department.objects.filter(pk=department.pk).update(is_active=False)
    assert client.get(reverse("responses:department", args=["ecology"])).status_code == 404


def test_department_pages_do_not_accept_post(client, department):
    assert client.post(reverse("responses:departments")).status_code == 405
    assert client.post(reverse("responses:department", args=["ecology"])).status_code == 405


def test_a_department_page_runs_a_fixed_number_of_queries(
    client, topic, officer, reviewer, publisher
):
    publish([routed_petition(topic)], officer=officer, reviewer=reviewer, publisher=publisher)
    routed_petition(topic)
    url = reverse("responses:department", args=["ecology"])
    few = count_queries(client, url)
    for _ in range(3):
        routed_petition(topic)
        publish(
            [routed_petition(topic), routed_petition(topic)],
            officer=officer,
            reviewer=reviewer,
            publisher=publisher,
        )
    assert count_queries(client, url) == few


# --- The petition page ----------------------------------------------------------------------


def test_the_petition_page_shows_the_published_response(client, published):
    petition = published.petitions.get()
    html = client.get(petition.get_absolute_url()).content.decode()
    assert "Government response" in html
    assert "Our answer on urban trees" in html
    assert "<strong>10,000</strong>" in html
    assert "<script>alert" not in html
    assert published.get_absolute_url() in html
    assert reverse("responses:department", args=["ecology"]) in html
    assert "Overdue by" not in html


def test_the_petition_page_shows_a_correction(client, published, publisher):
    publication.correct_response(
        published, actor=publisher, title="Fixed title", body="Fixed text", note="Typo fixed."
    )
    html = client.get(published.petitions.get().get_absolute_url()).content.decode()
    assert "Updated on" in html
    assert "Typo fixed." in html
    assert "Fixed title" in html


def test_the_petition_page_never_shows_a_draft_response(client, petition, officer):
    draft(petition, officer=officer)
    html = client.get(petition.get_absolute_url()).content.decode()
    assert "Secret" not in html


def test_a_routed_petition_says_who_must_answer_and_by_when(client, petition):
    html = client.get(petition.get_absolute_url()).content.decode()
    assert "Awaiting a response from" in html
    assert "Ministry of Ecology" in html
    assert petition.response_due_at.strftime("%-d %B %Y") in html
    assert "Overdue by" not in html


def test_an_overdue_petition_says_by_how_many_days(client, petition):
    past = timezone.now() - timedelta(days=9, hours=2)
    Petition.objects.filter(pk=petition.pk).update(response_due_at=past)
    Assignment.objects.filter(petition=petition).update(due_at=past)
    html = client.get(petition.get_absolute_url()).content.decode()
    # Once beside the count, once in the response section.
    assert html.count("Overdue by 9 days") == 2
    assert 'class="tag tag--error">Overdue by 9 days' in html


def test_a_responded_petition_is_never_overdue(client, published):
    petition = published.petitions.get()
    Petition.objects.filter(pk=petition.pk).update(
        response_due_at=timezone.now() - timedelta(days=5)
    )
    assert "Overdue by" not in client.get(petition.get_absolute_url()).content.decode()


def test_the_petition_page_shows_the_debate_date_and_outcome(client, petition, committee):
    Debate.objects.create(
        petition=petition,
        committee=committee,
        scheduled_for=date(2030, 5, 6),
        outcome="The committee asked the ministry to <b>act</b>.",
    )
    html = client.get(petition.get_absolute_url()).content.decode()
    assert "6 May 2030" in html
    assert "Petitions Committee" in html
    assert "The committee asked the ministry to &lt;b&gt;act&lt;/b&gt;." in html


def test_the_petition_page_runs_the_same_queries_whatever_the_responses(
    client, topic, officer, reviewer, publisher, committee
):
    simple = routed_petition(topic)
    publish([simple], officer=officer, reviewer=reviewer, publisher=publisher)
    busy = routed_petition(topic)
    first = publish([busy], officer=officer, reviewer=reviewer, publisher=publisher)
    for note in ("One", "Two", "Three"):
        publication.correct_response(first, actor=publisher, title="T", body=note, note=note)
    Debate.objects.create(petition=simple, committee=committee, scheduled_for=date(2030, 1, 1))
    Debate.objects.create(petition=busy, committee=committee, outcome="Done")
    client.get(simple.get_absolute_url())  # warm the shared caches (the country list)
    assert count_queries(client, simple.get_absolute_url()) == count_queries(
        client, busy.get_absolute_url()
    )


def test_a_petition_without_a_response_track_shows_no_response_section(client, db):
    petition = make_petition()
    html = client.get(petition.get_absolute_url()).content.decode()
    assert "Government response" not in html
    assert "Overdue by" not in html
