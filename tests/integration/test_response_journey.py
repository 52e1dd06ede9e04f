"""A government response from the first draft to the signers' inboxes, in Chromium.

An officer drafts the response to a routed petition, a reviewer sends it back and then
approves the revision, a publisher publishes it; every signer who asked to hear back, the
supporter and the creator get one email in their language with a one-click unsubscribe
that works. Nothing is mocked: the staff emails and the mailing leave through the real
worker to the SMTP server on loopback, and the pages are the live server's.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from petitions.models import Petition, Signature, Topic
from responses.models import Department, Mailing, Membership, OutboxMessage, Response
from tests.factories import PASSWORD, UserFactory
from tests.integration.conftest import (
    ReceivedMail,
    SMTPRecorder,
    WorkerProcess,
    assert_accessible,
    collect_console_errors,
)
from tests.petitions.conftest import make_signature
from tests.responses.conftest import member, routed_petition

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.smtp,
    pytest.mark.django_db(transaction=True),
]

MAIL_TIMEOUT = 30.0
DELIVERY_TIMEOUT = 60.0
STAFF_LINK = re.compile(r"https?://[^/\s]+(/staff/responses/\d+/)")
UNSUBSCRIBE_HEADER = re.compile(r"^<(https?://[^/\s>]+(/responses/unsubscribe/[^/\s>]+/))>$")

TITLE = "Plant a million trees in our cities"
ANSWER = "A million trees by 2030"
BODY_V1 = (
    "## What we will do\n\n"
    "We will plant **10,000 trees** in the first year.\n\n"
    "- around every school\n"
    "- along every avenue\n"
)
BODY_V2 = BODY_V1.replace("in the first year", "from next autumn")
COMMENT = "Please say when the planting starts."
SUBJECT_TEMPLATE = "emails/responses/signer_response_published_subject.txt"

# Who signed: (address, language, wants_updates). The first five asked to hear back.
OPTED_IN = [
    ("alice@signers.example.org", "en"),
    ("bruno@signers.example.org", "en"),
    ("chloe@signers.example.org", "en"),
    ("denis@signers.example.org", "fr"),
    ("elise@signers.example.org", "fr"),
]
NOT_OPTED_IN = [
    ("felix@signers.example.org", "en"),
    ("gaelle@signers.example.org", "fr"),
]
SUPPORTER = ("sacha.supporter@signers.example.org", "fr")
PENDING = "pending@signers.example.org"  # asked to hear back but never confirmed
CREATOR = "camille.creator@example.org"


# --- Helpers ----------------------------------------------------------------------------


def open_page(page: Page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path} answered {response.status}"


def log_in(page: Page, email: str) -> None:
    open_page(page, "/accounts/login/")
    page.locator("main input[type=email]").fill(email)
    page.locator("main input[type=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_role("button", name="Sign Out")).to_be_visible()


def mails_to(smtp: SMTPRecorder, address: str, subject: str, count: int = 1) -> list[ReceivedMail]:
    """The messages to ``address`` with exactly ``subject``, once ``count`` have arrived."""
    return smtp.wait_for(
        lambda m: address in m.recipients and m.subject == subject,
        count=count,
        timeout=MAIL_TIMEOUT,
    )


def link_path(mail: ReceivedMail, pattern: re.Pattern[str]) -> str:
    """The path of the link ``pattern`` finds in the text body (SITE_URL is not the live server)."""
    body = mail.text()
    match = pattern.search(body)
    assert match, f"no link matching {pattern.pattern} in:\n{body}"
    return match.group(1)


def unsubscribe_link(mail: ReceivedMail) -> tuple[str, str]:
    """The List-Unsubscribe header's address and its path (the header may be folded)."""
    value = " ".join(str(mail.message["List-Unsubscribe"] or "").split())
    header = UNSUBSCRIBE_HEADER.match(value)
    assert header, f"List-Unsubscribe: {value!r}"
    return header.group(1), header.group(2)


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def status_message(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def main_text(page: Page) -> str:
    return " ".join(page.locator("main").inner_text().split())


def summary_value(page: Page, term: str) -> Locator:
    """The <dd> of a summary list's <dt> that reads ``term``."""
    return page.locator(f"xpath=//dt[normalize-space()='{term}']/following-sibling::dd[1]")


def unexpected(errors: list[str], expected: list[tuple[int, str]]) -> list[str]:
    """The console errors left once the HTTP statuses the test asked for are set aside."""
    expected_statuses = [
        re.compile(rf"status of {status} \(.*'url': 'http://[^/']+{re.escape(path)}'")
        for status, path in expected
    ]
    return [e for e in errors if not any(pattern.search(e) for pattern in expected_statuses)]


def signer_subject(petition: Petition, language: str) -> str:
    """The subject as the template renders it in ``language`` (the catalogue may be growing)."""
    with translation.override(language):
        rendered = render_to_string(SUBJECT_TEMPLATE, {"petition": petition})
    return " ".join(rendered.split())


@pytest.fixture
def new_context(browser: Browser, live_server: Any) -> Iterator[Callable[[], BrowserContext]]:
    """Fresh browsers (nobody logged in) made as the `page` fixture makes its own."""
    contexts: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(
            base_url=live_server.url,
            locale="en-GB",
            extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"},
            bypass_csp=True,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def signature(address: str) -> Signature:
    return Signature.objects.get(email=address)


# --- The journey ----------------------------------------------------------------------------


def test_a_department_answers_a_petition_and_everyone_who_asked_hears_back_once(
    page: Page,
    console_errors: list[str],
    celery_worker: WorkerProcess,
    smtp_server: SMTPRecorder,
    new_context: Callable[[], BrowserContext],
    live_server: Any,
) -> None:
    department = Department.objects.create(
        name_en="Ministry of Ecology",
        name_fr="Ministère de l'Écologie",
        slug="ecology",
        acronym="ECO",
        response_target_days=30,
    )
    officer = member(
        department,
        Membership.Role.OFFICER,
        email="olivia.officer@staff.example.org",
        display_name="Olivia Officer",
    )
    reviewer = member(
        department,
        Membership.Role.REVIEWER,
        email="remi.reviewer@staff.example.org",
        display_name="Rémi Reviewer",
    )
    publisher = member(
        department,
        Membership.Role.PUBLISHER,
        email="paula.publisher@staff.example.org",
        display_name="Paula Publisher",
    )
    topic = Topic.objects.create(
        slug="environment",
        name_en="Environment",
        name_fr="Environnement",
        lead_department=department,
    )
    creator = UserFactory(email=CREATOR, display_name="Camille Martin")
    petition = routed_petition(topic, title=TITLE, creator=creator, signature_count=9)
    for address, language in OPTED_IN:
        make_signature(petition, address, language=language, wants_updates=True)
    for address, language in NOT_OPTED_IN:
        make_signature(petition, address, language=language, wants_updates=False)
    make_signature(
        petition, SUPPORTER[0], language=SUPPORTER[1], is_supporter=True, wants_updates=False
    )
    make_signature(
        petition,
        PENDING,
        wants_updates=True,
        state=Signature.State.PENDING,
        confirmed_at=None,
    )
    # The creator signed too, without ticking "email me": creators hear back all the same.
    make_signature(petition, CREATOR, user=creator, name="Camille Martin", wants_updates=False)
    due = petition.response_due_at
    assert due is not None
    with translation.override("en"):
        due_text = formats.date_format(timezone.localtime(due), "DATE_FORMAT")

    # Routing told the department's three members, by email through the worker.
    routed = smtp_server.wait_for(
        lambda m: m.subject == f"Petition #{petition.pk} routed to your department: {TITLE}",
        count=3,
        timeout=MAIL_TIMEOUT,
    )
    assert sorted(r for m in routed for r in m.recipients) == sorted(
        [officer.email, reviewer.email, publisher.email]
    )

    # --- 1. The officer drafts, previews, saves and submits ------------------------------
    log_in(page, officer.email)
    open_page(page, "/staff/inbox/")
    expect(heading(page)).to_have_text("Inbox")
    card = page.locator(".petition-card").filter(has=page.get_by_role("link", name=TITLE))
    expect(card).to_have_count(1)
    expect(card).to_contain_text(f"Due on {due_text}")
    expect(card).to_contain_text("29 days left")
    expect(card).to_contain_text("No draft yet")
    assert_accessible(page)

    card.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(rf"/staff/petitions/{petition.pk}/$"))
    expect(heading(page)).to_have_text(TITLE)
    expect(summary_value(page, "Response due")).to_have_text(due_text)
    expect(page.get_by_text("No response has been drafted yet.")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Draft a response").click()
    expect(page).to_have_url(re.compile(rf"/staff/responses/new/\?petition={petition.pk}$"))
    expect(heading(page)).to_have_text("Draft a response")
    expect(page.get_by_role("checkbox", name=re.compile(re.escape(TITLE)))).to_be_checked()
    assert_accessible(page)
    page.get_by_role("textbox", name="Title").fill(ANSWER)
    page.get_by_role("textbox", name="Response").fill(BODY_V1)

    # The preview renders the Markdown (sanitised) and saves nothing.
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview.get_by_role("heading", name="What we will do")).to_be_visible()
    expect(preview.locator("strong")).to_have_text("10,000 trees")
    expect(preview.get_by_role("listitem")).to_have_count(2)
    expect(preview).not_to_contain_text("**")
    expect(preview).not_to_contain_text("## ")
    expect(page.get_by_role("textbox", name="Title")).to_have_value(ANSWER)
    assert not Response.objects.exists()

    page.get_by_role("button", name="Save the draft").click()
    expect(page).to_have_url(re.compile(r"/staff/responses/\d+/$"))
    response = Response.objects.get()
    response_path = f"/staff/responses/{response.pk}/"
    assert urlsplit(page.url).path == response_path
    status_message(page, "Your draft is saved as version 1.")
    expect(heading(page)).to_have_text(ANSWER)
    current = page.get_by_role("region", name="Current text (version 1)")
    expect(current.locator("strong")).to_have_text("10,000 trees")
    assert (response.state, response.version, response.drafter) == (
        Response.State.DRAFT,
        1,
        officer,
    )
    assert list(response.petitions.all()) == [petition]

    page.get_by_role("button", name="Submit for review").click()
    status_message(page, "The response is sent for review. The reviewers have been told.")
    expect(page.get_by_text("Waiting for review by someone who did not write it.")).to_be_visible()
    response.refresh_from_db()
    assert response.state == Response.State.IN_REVIEW

    [review_requested] = mails_to(smtp_server, reviewer.email, f"Response to review: {ANSWER}")
    assert review_requested.recipients == [reviewer.email]
    assert link_path(review_requested, STAFF_LINK) == response_path

    # --- 2. The reviewer sends it back with a comment -----------------------------------
    reviewer_tab = new_context().new_page()
    errors = collect_console_errors(reviewer_tab)
    log_in(reviewer_tab, reviewer.email)
    open_page(reviewer_tab, response_path)
    expect(heading(reviewer_tab)).to_have_text(ANSWER)
    expect(reviewer_tab.locator("main .tag", has_text="In review")).to_be_visible()
    expect(reviewer_tab.get_by_role("button", name="Approve", exact=True)).to_be_visible()
    assert_accessible(reviewer_tab)
    reviewer_tab.get_by_label("What should change?").fill(COMMENT)
    reviewer_tab.get_by_role("button", name="Send back to the drafter").click()
    status_message(reviewer_tab, "The response is sent back to its drafter with your comment.")
    expect(reviewer_tab.get_by_role("region", name="Reviews")).to_contain_text(COMMENT)
    response.refresh_from_db()
    assert response.state == Response.State.CHANGES_REQUESTED

    [sent_back] = mails_to(smtp_server, officer.email, f"Your response was sent back: {ANSWER}")
    assert COMMENT in sent_back.text()

    # --- 3. The officer revises and resubmits; the reviewer compares and approves --------
    open_page(page, link_path(sent_back, STAFF_LINK))
    alert = page.locator(".alert").filter(
        has=page.get_by_role("heading", name="Sent back by the reviewer")
    )
    expect(alert).to_contain_text(COMMENT)
    expect(alert).to_contain_text(reviewer.display_name)
    page.get_by_role("textbox", name="Response").fill(BODY_V2)
    page.get_by_role("button", name="Save a new version").click()
    status_message(page, "Saved as version 2.")
    page.get_by_role("button", name="Submit for review").click()
    status_message(page, "The response is sent for review. The reviewers have been told.")
    response.refresh_from_db()
    assert (response.state, response.version) == (Response.State.IN_REVIEW, 2)
    assert "from next autumn" in response.body
    mails_to(smtp_server, reviewer.email, f"Response to review: {ANSWER}", count=2)

    open_page(reviewer_tab, response_path)
    versions = reviewer_tab.get_by_role(
        "table", name="Every saved text of this response, newest first"
    )
    expect(versions.locator("tbody tr")).to_have_count(2)
    expect(versions.locator("tbody th")).to_have_text(["2", "1"])
    expect(versions.locator("tbody tr").first).to_contain_text(officer.display_name)
    versions.get_by_role("link", name="Changes from version 1 to 2").click()

    expect(heading(reviewer_tab)).to_have_text("Compare versions")
    expect(summary_value(reviewer_tab, "Changes")).to_contain_text("3 words added")
    expect(summary_value(reviewer_tab, "Changes")).to_contain_text("4 words removed")
    body_diff = reviewer_tab.get_by_role("region", name="Text (Markdown)")
    added = body_diff.locator("ins").all_text_contents()
    removed = body_diff.locator("del").all_text_contents()
    # Colour is not the only cue: each change carries a text label for screen readers.
    assert added
    assert removed
    assert all(t.startswith("[added: ") and t.endswith("]") for t in added), added
    assert all(t.startswith("[removed: ") and t.endswith("]") for t in removed), removed
    assert {"from", "next", "autumn"} <= set(re.findall(r"\w+", " ".join(added)))
    assert {"first", "year"} <= set(re.findall(r"\w+", " ".join(removed)))
    assert "autumn" not in " ".join(removed)
    expect(reviewer_tab.get_by_role("region", name="Title").locator("ins, del")).to_have_count(0)
    assert_accessible(reviewer_tab)

    reviewer_tab.get_by_role("link", name="Back to the response").click()
    reviewer_tab.get_by_label("Comment").fill("Clear, and the date is there now.")
    reviewer_tab.get_by_role("button", name="Approve", exact=True).click()
    status_message(reviewer_tab, "The response is approved. The publishers have been told.")
    expect(
        reviewer_tab.get_by_text("Approved: a publisher of the department publishes it.")
    ).to_be_visible()
    expect(summary_value(reviewer_tab, "Approved by")).to_contain_text(reviewer.display_name)
    response.refresh_from_db()
    assert (response.state, response.reviewer) == (Response.State.APPROVED, reviewer)

    [ready] = mails_to(smtp_server, publisher.email, f"Response ready to publish: {ANSWER}")
    assert link_path(ready, STAFF_LINK) == response_path

    # --- 4. The publisher publishes now and follows the delivery -------------------------
    publisher_tab = new_context().new_page()
    errors += collect_console_errors(publisher_tab)
    log_in(publisher_tab, publisher.email)
    open_page(publisher_tab, response_path)
    expect(heading(publisher_tab)).to_have_text(ANSWER)
    publish_now = publisher_tab.get_by_role("button", name="Publish now", exact=True)
    expect(publish_now).to_be_visible()
    expect(publisher_tab.get_by_label("Publication date and time")).to_be_visible()
    assert_accessible(publisher_tab)
    assert not Mailing.objects.exists()
    publish_now.click()

    status_message(
        publisher_tab,
        "The response is published. The signers who asked to hear back are being emailed.",
    )
    delivery = publisher_tab.get_by_role("region", name="Delivery to the signers")
    expect(delivery.get_by_role("link", name=f"Signers of petition #{petition.pk}")).to_be_visible()
    expect(delivery.get_by_role("progressbar")).to_be_visible()
    response.refresh_from_db()
    petition.refresh_from_db()
    assert (response.state, response.publisher) == (Response.State.PUBLISHED, publisher)
    assert petition.response_state == Petition.ResponseState.RESPONDED
    mailing = Mailing.objects.get()
    assert (mailing.petition, mailing.response) == (petition, response)

    # --- 5. Everyone who asked gets one email, in their language -------------------------
    expected = {address: language for address, language in OPTED_IN}
    expected |= {SUPPORTER[0]: SUPPORTER[1], CREATOR: "en"}
    smtp_server.wait_for(
        lambda m: m.message["X-Agora-Outbox"] is not None,
        count=len(expected),
        timeout=DELIVERY_TIMEOUT,
    )

    # The publisher's page shows the mailing finished (reloaded: no automatic refresh).
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while not delivery.get_by_text("Finished", exact=True).count():
        assert time.monotonic() < deadline, f"the mailing did not finish:\n{delivery.inner_text()}"
        time.sleep(0.5)
        open_page(publisher_tab, response_path)
    expect(delivery).to_contain_text(f"100% sent: {len(expected)} of {len(expected)}")
    expect(delivery).to_contain_text("0 remaining, 0 failed")
    delivery.get_by_role("link", name=f"Signers of petition #{petition.pk}").click()
    expect(heading(publisher_tab)).to_have_text(f"Mailing #{mailing.pk}")
    total = str(len(expected))
    figures = [("Recipients", total), ("Sent", total), ("Remaining", "0"), ("Failed", "0")]
    for term, value in figures:
        expect(summary_value(publisher_tab, term)).to_have_text(value)
    assert_accessible(publisher_tab)

    sent = OutboxMessage.objects.filter(mailing=mailing)
    assert sorted(sent.values_list("email", flat=True)) == sorted(expected)
    assert set(sent.values_list("state", flat=True)) == {OutboxMessage.State.SENT}

    subjects = {language: signer_subject(petition, language) for language in ("en", "fr")}
    assert subjects["en"] == f"The government responded to the petition “{TITLE}”"
    assert subjects["fr"] != subjects["en"]
    signer_mails = [m for m in smtp_server.messages if m.message["X-Agora-Outbox"] is not None]
    assert Counter(r for m in signer_mails for r in m.recipients) == Counter(list(expected))
    by_address: dict[str, ReceivedMail] = {}
    for mail in signer_mails:
        [address] = mail.recipients
        by_address[address] = mail
        assert mail.subject == subjects[expected[address]], (address, mail.subject)
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = mail.text()
        assert unsubscribe_link(mail)[0] in text  # the same link in the footer
        assert ANSWER in text
        assert "from next autumn" in text
        assert f"/responses/{response.pk}/" in text
        assert "<strong>10,000 trees</strong>" in mail.html()
    # Nobody who did not ask hears anything about the response, and the staff neither.
    staff = [officer.email, reviewer.email, publisher.email]
    for address in [*(a for a, _ in NOT_OPTED_IN), PENDING]:
        assert not [m.subject for m in smtp_server.messages if address in m.recipients]
    assert not [m for m in signer_mails if set(m.recipients) & set(staff)]
    review_requests = [
        m.recipients for m in smtp_server.messages if m.subject.startswith("Response to review")
    ]
    assert review_requests == [[reviewer.email], [reviewer.email]]

    # --- 6. The public sees the response on the petition and on its own page -------------
    reader = new_context().new_page()
    errors += collect_console_errors(reader)
    open_page(reader, petition.get_absolute_url())
    expect(heading(reader)).to_have_text(TITLE)
    section = reader.get_by_role("region", name="Government response")
    expect(section).to_have_count(1)
    expect(section).to_contain_text("Published by Ministry of Ecology")
    expect(section.get_by_role("heading", name=ANSWER)).to_be_visible()
    expect(section.locator("strong")).to_have_text("10,000 trees")
    expect(section).to_contain_text("from next autumn")
    expect(reader.get_by_role("link", name="Read the government response")).to_be_visible()
    assert_accessible(reader)

    section.get_by_role("link", name=re.compile(r"^Read the response on its own page")).click()
    expect(reader).to_have_url(re.compile(rf"/responses/{response.pk}/$"))
    expect(heading(reader)).to_have_text(ANSWER)
    prose = reader.locator("main .prose")
    expect(prose.get_by_role("heading", name="What we will do")).to_be_visible()
    expect(prose.locator("strong")).to_have_text("10,000 trees")
    expect(prose).to_contain_text("from next autumn")
    expect(prose.get_by_role("listitem")).to_have_count(2)
    answered = reader.get_by_role("region", name="The petition this response answers")
    expect(answered.get_by_role("link", name=TITLE)).to_have_attribute(
        "href", petition.get_absolute_url()
    )
    public_text = main_text(reader)
    for person in (officer, reviewer, publisher):
        assert person.display_name not in public_text  # departments answer, not people
    assert_accessible(reader)

    # --- 7. Unsubscribing: a page that asks, and RFC 8058 one-click ----------------------
    alice, bruno = OPTED_IN[0][0], OPTED_IN[1][0]
    alice_path = unsubscribe_link(by_address[alice])[1]
    bruno_path = unsubscribe_link(by_address[bruno])[1]
    assert alice_path != bruno_path

    open_page(reader, alice_path)
    expect(heading(reader)).to_have_text("Stop emails about this petition")
    expect(reader.locator("main .lead")).to_have_text(TITLE)
    stop = reader.get_by_role("button", name="Stop emails about this petition")
    expect(stop).to_be_visible()
    assert_accessible(reader)
    opened = signature(alice)  # a link scanner's GET changes nothing
    assert (opened.wants_updates, opened.unsubscribed_at) == (True, None)

    stop.click()
    expect(heading(reader)).to_have_text("You will no longer receive emails about this petition")
    expect(reader.get_by_role("status")).to_contain_text("You will no longer receive emails")
    assert_accessible(reader)
    stopped = signature(alice)
    assert stopped.wants_updates is False
    assert stopped.unsubscribed_at is not None

    # A mail client's one-click POST: no cookie, no CSRF token, only the signed address.
    mail_client = new_context().new_page()
    answer = mail_client.request.post(
        f"{live_server.url}{bruno_path}", form={"List-Unsubscribe": "One-Click"}
    )
    assert answer.status == 200, answer.text()
    one_click = signature(bruno)
    assert one_click.wants_updates is False
    assert one_click.unsubscribed_at is not None
    # Again for Alice: still 200, and the first date stays.
    again = mail_client.request.post(
        f"{live_server.url}{alice_path}", form={"List-Unsubscribe": "One-Click"}
    )
    assert again.status == 200
    assert signature(alice).unsubscribed_at == stopped.unsubscribed_at
    others = Signature.objects.filter(email__in=[a for a, _ in OPTED_IN[2:]])
    assert set(others.values_list("wants_updates", "unsubscribed_at")) == {(True, None)}

    # A changed token is refused with a clear page, and nothing changes.
    token = alice_path.rstrip("/").rsplit("/", 1)[1]
    tampered = alice_path.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    open_page(reader, tampered, status=400)
    expect(heading(reader)).to_have_text("This link cannot be used")

    # Chromium logs the deliberate 400 as a failed resource; nothing else may fail.
    assert console_errors == []
    assert unexpected(errors, [(400, tampered)]) == []
