"""The emails to signers: a published response, a debate's date, a debate's outcome.

Rendered by ``outbox.render`` exactly as the sender does, in English and in French; the
unsubscribe placeholder must appear once in each part, since the sender replaces it with
each recipient's own address.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from petitions.models import Petition
from responses.models import Debate, Mailing
from responses.services import outbox
from tests.petitions.conftest import make_signature
from tests.responses.conftest import routed_petition
from tests.responses.test_public_views import publish

pytestmark = pytest.mark.django_db

EVIL_TITLE = "Trees <script>alert(1)</script> & shade"
KINDS = [
    Mailing.Kind.RESPONSE_PUBLISHED,
    Mailing.Kind.DEBATE_SCHEDULED,
    Mailing.Kind.DEBATE_OUTCOME,
]
# What each message says, in each language (from the French catalogue).
SUBJECTS = {
    (Mailing.Kind.RESPONSE_PUBLISHED, "en"): "The government responded to the petition “",
    (Mailing.Kind.RESPONSE_PUBLISHED, "fr"): "Le gouvernement a répondu à la pétition « ",
    (Mailing.Kind.DEBATE_SCHEDULED, "en"): "” will be debated",
    (Mailing.Kind.DEBATE_SCHEDULED, "fr"): " » sera débattue",
    (Mailing.Kind.DEBATE_OUTCOME, "en"): "The outcome of the debate on the petition “",
    (Mailing.Kind.DEBATE_OUTCOME, "fr"): "Les conclusions du débat sur la pétition « ",
}
FOOTERS = {
    "en": "You receive this email because you signed this petition",
    "fr": "Vous recevez ce courriel parce que vous avez signé cette pétition",
}


@pytest.fixture
def mailings(topic, committee, officer, reviewer, publisher):
    """One mailing of each kind, about a petition whose title must be escaped."""
    petition = routed_petition(topic, title=EVIL_TITLE)
    publish(
        [petition],
        officer=officer,
        reviewer=reviewer,
        publisher=publisher,
        title="Our <answer>",
        body="We agree.\n\n* Plant **10,000** trees\n\n<script>steal()</script>",
    )
    Debate.objects.create(
        petition=petition,
        committee=committee,
        scheduled_for=date(2030, 5, 6),
        outcome="The committee asked for <b>a plan</b>.",
    )
    petition = Petition.objects.get(pk=petition.pk)  # with its debate, as the sender loads it
    return {
        Mailing.Kind.RESPONSE_PUBLISHED: Mailing.objects.get(
            kind=Mailing.Kind.RESPONSE_PUBLISHED, petition=petition
        ),
        Mailing.Kind.DEBATE_SCHEDULED: Mailing.objects.create(
            kind=Mailing.Kind.DEBATE_SCHEDULED, petition=petition
        ),
        Mailing.Kind.DEBATE_OUTCOME: Mailing.objects.create(
            kind=Mailing.Kind.DEBATE_OUTCOME, petition=petition
        ),
    }


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_email_renders_in_the_signers_language(mailings, kind, language):
    rendered = outbox.render(mailings[kind], language)
    assert SUBJECTS[kind, language] in rendered.subject
    assert "\n" not in rendered.subject
    assert f'<html lang="{language}">' in rendered.html
    assert FOOTERS[language] in rendered.html
    assert FOOTERS[language] in rendered.text
    petition_url = f"{settings.SITE_URL}{mailings[kind].petition.get_absolute_url()}"
    assert petition_url in rendered.text
    assert petition_url in rendered.html


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", KINDS)
def test_the_unsubscribe_placeholder_appears_once_in_each_part(mailings, kind, language):
    rendered = outbox.render(mailings[kind], language)
    assert rendered.text.count(outbox.PLACEHOLDER) == 1
    assert rendered.html.count(outbox.PLACEHOLDER) == 1
    assert f'href="{outbox.PLACEHOLDER}"' in rendered.html


@pytest.mark.parametrize("kind", KINDS)
def test_the_html_part_escapes_the_petition_title(mailings, kind):
    rendered = outbox.render(mailings[kind], "en")
    assert "<script>" not in rendered.html
    assert "Trees &lt;script&gt;alert(1)&lt;/script&gt; &amp; shade" in rendered.html
    # Plain text and the subject are not HTML: the title stays as written.
    assert EVIL_TITLE in rendered.text
    assert EVIL_TITLE in rendered.subject


def test_the_response_email_carries_the_sanitised_response_and_its_links(mailings):
    mailing = mailings[Mailing.Kind.RESPONSE_PUBLISHED]
    rendered = outbox.render(mailing, "en")
    response_url = f"{settings.SITE_URL}{mailing.response.get_absolute_url()}"
    assert "<strong>10,000</strong>" in rendered.html  # the Markdown, rendered
    assert "steal()" not in rendered.html  # the sanitiser dropped the script
    assert "Our &lt;answer&gt;" in rendered.html
    assert response_url in rendered.html
    assert "Ministry of Ecology" in rendered.html
    # The text part gives the Markdown as written: it reads well as plain text.
    assert "* Plant **10,000** trees" in rendered.text
    assert response_url in rendered.text


def test_the_french_response_email_names_the_department_in_french(mailings):
    rendered = outbox.render(mailings[Mailing.Kind.RESPONSE_PUBLISHED], "fr")
    assert "Ministère de l&#x27;Écologie" in rendered.html
    assert "Ministère de l'Écologie" in rendered.text


@pytest.mark.parametrize(("language", "when"), [("en", "6 May 2030"), ("fr", "6 mai 2030")])
def test_the_debate_email_gives_the_date_and_the_committee(mailings, language, when):
    rendered = outbox.render(mailings[Mailing.Kind.DEBATE_SCHEDULED], language)
    assert when in rendered.text
    assert when in rendered.html
    committee = "Petitions Committee" if language == "en" else "Commission des pétitions"
    assert committee in rendered.text


def test_the_outcome_email_gives_the_outcome_escaped(mailings):
    rendered = outbox.render(mailings[Mailing.Kind.DEBATE_OUTCOME], "en")
    assert "The committee asked for &lt;b&gt;a plan&lt;/b&gt;." in rendered.html
    assert "The committee asked for <b>a plan</b>." in rendered.text


@pytest.mark.parametrize("kind", [Mailing.Kind.DEBATE_SCHEDULED, Mailing.Kind.DEBATE_OUTCOME])
def test_a_debate_email_still_renders_before_the_debate_has_its_details(petition, kind):
    rendered = outbox.render(Mailing.objects.create(kind=kind, petition=petition), "en")
    assert rendered.text.count(outbox.PLACEHOLDER) == 1
    assert rendered.html.count(outbox.PLACEHOLDER) == 1


def test_each_sent_email_has_its_own_working_unsubscribe_link(mailings):
    mailing = mailings[Mailing.Kind.RESPONSE_PUBLISHED]
    signer = make_signature(mailing.petition, "fan@example.org", wants_updates=True, language="fr")
    outbox.fan_out(mailing.pk)
    while outbox.send_batch(mailing.pk):
        pass
    message = next(m for m in mail.outbox if m.to == ["fan@example.org"])
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    html = message.alternatives[0][0]
    assert outbox.PLACEHOLDER not in message.body
    assert outbox.PLACEHOLDER not in html
    assert message.body.count(url) == 1
    assert html.count(url) == 1
    assert "Le gouvernement a répondu" in message.subject
    one_click = Client(enforce_csrf_checks=True).post(
        url.removeprefix(settings.SITE_URL), data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 200
    signer.refresh_from_db()
    assert signer.wants_updates is False


def test_a_supporter_who_unsubscribes_is_not_emailed_again(petition):
    supporter = make_signature(petition, "early@example.org", is_supporter=True)
    outbox.unsubscribe(
        outbox.unsubscribe_url(supporter.pk).removeprefix(settings.SITE_URL).split("/")[-2]
    )
    assert not outbox.recipients(petition).filter(pk=supporter.pk).exists()
