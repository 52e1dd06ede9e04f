"""Whole journeys in Chromium, with the real worker and the SMTP server on loopback.

A citizen finds a petition, signs it and confirms from the email until the count grows; a
creator writes a petition, gathers supporters and a moderator publishes it. Nothing is
mocked: the pages are the live server's, the emails leave through the `mail` queue and the
counting runs in the worker process.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accounts.roles import Role
from petitions.models import (
    Country,
    Petition,
    PostcodePrefix,
    Region,
    RegionCount,
    Signature,
)
from petitions.places import forget_prefixes
from petitions.regions import FR_DEPARTEMENT, FR_REGION
from petitions.services import counting
from tests.factories import PASSWORD, UserFactory, staff_user
from tests.integration.conftest import (
    ReceivedMail,
    SMTPRecorder,
    WorkerProcess,
    assert_accessible,
    collect_console_errors,
)
from tests.petitions.conftest import make_petition, make_signature
from tests.petitions.factories import TopicFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.smtp,
    pytest.mark.django_db(transaction=True),
]

MAIL_TIMEOUT = 30.0
COUNT_TIMEOUT = 20.0
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/petitions/signatures/[^/\s]+/confirm/)")
SUPPORT_LINK = re.compile(r"https?://[^/\s]+(/petitions/support/[^/\s]+/)")


# --- Helpers ----------------------------------------------------------------------------


def open_page(page: Page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == status, f"{path} answered {response.status}"


def mail_to(smtp: SMTPRecorder, address: str, subject: str) -> ReceivedMail:
    """The one message to ``address`` whose subject starts with ``subject``, once it arrives."""
    [mail] = smtp.wait_for(
        lambda m: address in m.recipients and m.subject.startswith(subject),
        timeout=MAIL_TIMEOUT,
    )
    return mail


def link_path(mail: ReceivedMail, pattern: re.Pattern[str]) -> str:
    """The path of the link ``pattern`` finds in the text body (SITE_URL is not the live server)."""
    body = mail.text()
    match = pattern.search(body)
    assert match, f"no link matching {pattern.pattern} in:\n{body}"
    return match.group(1)


def count_in_worker(worker: WorkerProcess) -> None:
    """Run the counting task in the worker (through the broker) and wait until it is done."""
    from petitions.tasks import count_signatures

    start = worker.log_size()
    task = count_signatures.apply_async()
    deadline = time.monotonic() + COUNT_TIMEOUT
    done = re.compile(rf"count_signatures\[{re.escape(task.id)}\] (succeeded|raised|failed)")
    while not (found := done.search(worker.log(start))):
        assert time.monotonic() < deadline, f"the counting task {task.id} did not finish"
        time.sleep(0.2)
    assert found.group(1) == "succeeded", worker.log(start)


def displayed_count(page: Page) -> str:
    return page.locator(".petition-count [data-count-value]").inner_text().strip()


def wait_for_displayed_count(page: Page, path: str, expected: str) -> None:
    """Reload the petition page every second until it shows ``expected`` signatures."""
    deadline = time.monotonic() + COUNT_TIMEOUT
    while True:
        open_page(page, path)
        shown = displayed_count(page)
        if shown == expected:
            return
        assert time.monotonic() < deadline, f"the page still shows {shown}, not {expected}"
        time.sleep(1)


def main_text(page: Page) -> str:
    return " ".join(page.locator("main").inner_text().split())


def expect_error_summary(page: Page, field_ids: list[str]) -> None:
    """The summary is shown, has the focus and links to each field in error."""
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    for field_id in field_ids:
        expect(summary.locator(f"a[href='#{field_id}']")).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(len(field_ids))


def unexpected(errors: list[str], expected: list[tuple[int, str]]) -> list[str]:
    """The console errors left once the HTTP statuses the test asked for are set aside."""
    expected_statuses = [
        re.compile(rf"status of {status} \(.*'url': 'http://[^/']+{re.escape(path)}'")
        for status, path in expected
    ]
    return [e for e in errors if not any(pattern.search(e) for pattern in expected_statuses)]


def log_in(page: Page, email: str) -> None:
    open_page(page, "/accounts/login/")
    page.locator("main input[type=email]").fill(email)
    page.locator("main input[type=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page.get_by_role("button", name="Sign Out")).to_be_visible()


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


# --- 1. A citizen signs -------------------------------------------------------------------

TREES = "Plant a million trees in our cities"


@pytest.fixture
def paris(celery_worker: WorkerProcess) -> Region:
    """Paris and its région, with the postcode prefix 75.

    After ``celery_worker``, so that forgetting the cached prefix table reaches the cache
    the worker shares (a folder that lives for the whole session when Redis is absent).
    """
    country, _ = Country.objects.get_or_create(
        code="FR", defaults={"name_en": "France", "name_fr": "France"}
    )
    Country.objects.get_or_create(code="BE", defaults={"name_en": "Belgium", "name_fr": "Belgique"})
    region = Region.objects.create(
        kind=FR_REGION, code="11", name="Île-de-France", country=country, population=12_000_000
    )
    departement = Region.objects.create(
        kind=FR_DEPARTEMENT,
        code="75",
        name="Paris",
        country=country,
        parent=region,
        population=2_100_000,
    )
    PostcodePrefix.objects.create(country=country, prefix="75", region=departement)
    forget_prefixes("FR")
    return departement


def test_a_citizen_finds_a_petition_signs_it_confirms_by_email_and_sees_the_count_grow(
    page: Page,
    console_errors: list[str],
    celery_worker: WorkerProcess,
    smtp_server: SMTPRecorder,
    paris: Region,
) -> None:
    petition = make_petition(
        title=TREES,
        summary="Shade, cooler streets and cleaner air for everyone who lives in a city.",
        response_threshold=10,
        consideration_threshold=100,
    )
    make_petition(title="Repair the old bridge over the river", summary="It is unsafe.")
    make_petition(title="Open public libraries on Sundays", summary="Reading for all.")
    make_signature(petition, "early.one@example.org")
    make_signature(petition, "early.two@example.org")
    assert counting.count_signatures() == 2
    petition_path = petition.get_absolute_url()
    signer = f"zoe.{timezone.now():%H%M%S%f}@example.org"

    # The home page's search finds the petition, and only it.
    open_page(page, "/")
    page.get_by_label("Search petitions").fill("trees")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="1 petition", exact=True)).to_be_visible()
    results = page.get_by_role("list", name="1 petition")
    expect(results.get_by_role("listitem")).to_have_count(1)
    results.get_by_role("link", name=TREES).click()

    # The petition page, with the count the counting pass stored.
    expect(page).to_have_url(re.compile(re.escape(petition_path) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TREES)
    assert displayed_count(page) == "2"
    assert_accessible(page)

    # An empty form comes back with a focused summary that links to each missing answer.
    with page.expect_response(lambda r: r.request.method == "POST") as invalid:
        page.locator("#sign").get_by_role("button", name="Sign this petition").click()
    assert invalid.value.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign this petition")
    expect_error_summary(page, ["id_name", "id_email", "id_country", "id_declaration"])
    page.locator("[data-error-summary] a[href='#id_email']").click()
    expect(page.get_by_label("Email address")).to_be_focused()
    assert_accessible(page)
    assert not Signature.objects.filter(email=signer).exists()

    # Filled in, it answers "check your email".
    page.get_by_label("Full name").fill("Zoé Dupont")
    page.get_by_label("Email address").fill(signer)
    page.get_by_label("Country").select_option(label="France")
    page.get_by_label("Postcode").fill("75011")
    page.get_by_label("Email me when the government responds").check()
    page.get_by_label("I confirm that the information above is correct").check()
    page.get_by_role("button", name="Sign this petition").click()
    expect(page).to_have_url(re.compile(rf"/petitions/{petition.pk}/signed/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_role("link", name=f"Back to the petition “{TREES}”")).to_be_visible()
    assert_accessible(page)
    check_your_email = main_text(page)
    signature = Signature.objects.get(petition=petition, email=signer)
    assert signature.state == Signature.State.PENDING
    assert (signature.country, signature.postcode, signature.region_id) == ("FR", "75011", paris.pk)
    assert signature.wants_updates
    assert signature.name == "Zoé Dupont"

    # The worker delivers the confirmation; its link confirms the signature.
    confirmation = mail_to(smtp_server, signer, "Confirm your signature")
    assert confirmation.subject == f"Confirm your signature: {TREES}"
    assert confirmation.recipients == [signer]
    assert TREES in confirmation.text()
    open_page(page, link_path(confirmation, CONFIRM_LINK))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature has been confirmed")
    expect(page.get_by_text(f"Thank you for signing “{TREES}”.")).to_be_visible()
    signature.refresh_from_db()
    assert signature.state == Signature.State.CONFIRMED

    # The worker counts it: the page shows 3, Paris and its région 1 each.
    count_in_worker(celery_worker)
    wait_for_displayed_count(page, petition_path, "3")
    assert Petition.objects.get(pk=petition.pk).signature_count == 3
    regions = dict(
        RegionCount.objects.filter(petition=petition).values_list("region__code", "count")
    )
    assert regions == {"75": 1, "11": 1}

    # The same address in capitals: the same page, and an "already signed" email instead.
    page.locator("#sign").get_by_label("Full name").fill("Zoé Dupont")
    page.get_by_label("Email address").fill(signer.upper())
    page.get_by_label("Country").select_option(label="France")
    page.get_by_label("Postcode").fill("75011")
    page.get_by_label("I confirm that the information above is correct").check()
    page.get_by_role("button", name="Sign this petition").click()
    expect(page).to_have_url(re.compile(rf"/petitions/{petition.pk}/signed/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert main_text(page) == check_your_email

    already = mail_to(smtp_server, signer, "You have already signed")
    assert already.subject == f"You have already signed: {TREES}"
    assert TREES in already.text()
    assert CONFIRM_LINK.search(already.text()) is None
    to_signer = [m.subject for m in smtp_server.messages if signer in m.recipients]
    assert sorted(to_signer) == sorted(
        [f"Confirm your signature: {TREES}", f"You have already signed: {TREES}"]
    )
    assert Signature.objects.filter(petition=petition).count() == 3

    # Another counting pass changes nothing.
    count_in_worker(celery_worker)
    open_page(page, petition_path)
    assert displayed_count(page) == "3"
    assert Petition.objects.get(pk=petition.pk).signature_count == 3
    # Chromium logs the form's deliberate 400 as a failed resource; nothing else may fail.
    assert unexpected(console_errors, [(400, f"/petitions/{petition.pk}/sign/")]) == []


# --- 2. A creator, supporters and a moderator ----------------------------------------------

SCHOOLS = "Open the school playgrounds to families at weekends"
SCHOOLS_SUMMARY = "Many neighbourhoods have no park: the playgrounds stand empty on Saturdays."


def support_and_confirm(
    context: BrowserContext, support_path: str, name: str, email: str, smtp: SMTPRecorder
) -> list[str]:
    """A supporter opens the private link, signs, and confirms from the email."""
    tab = context.new_page()
    errors = collect_console_errors(tab)
    open_page(tab, support_path)
    expect(tab.get_by_role("heading", level=1)).to_have_text(SCHOOLS)
    expect(tab.get_by_text(SCHOOLS_SUMMARY)).to_be_visible()
    tab.get_by_label("Full name").fill(name)
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Country").select_option(label="France")
    tab.get_by_label("Postcode").fill("69003")
    tab.get_by_label("I confirm that the information above is correct").check()
    tab.get_by_role("button", name="Support this petition").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Check your email")

    confirmation = mail_to(smtp, email, "Confirm your support")
    assert confirmation.subject == f"Confirm your support: {SCHOOLS}"
    assert SCHOOLS in confirmation.text()
    open_page(tab, link_path(confirmation, CONFIRM_LINK))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Your signature has been confirmed")
    expect(tab.get_by_text(f"Thank you for supporting “{SCHOOLS}”.")).to_be_visible()
    return errors


def test_a_creator_gathers_supporters_and_a_moderator_publishes_the_petition(
    page: Page,
    console_errors: list[str],
    celery_worker: WorkerProcess,
    smtp_server: SMTPRecorder,
    new_context: Callable[[], BrowserContext],
    settings: Any,
) -> None:
    settings.AGORA_SUPPORTERS_NEEDED = 2
    Country.objects.get_or_create(code="FR", defaults={"name_en": "France", "name_fr": "France"})
    TopicFactory(slug="education", name_en="Education", name_fr="Éducation")
    TopicFactory(slug="transport", name_en="Transport", name_fr="Transports")
    creator = UserFactory(email="camille.creator@example.org", display_name="Camille Martin")
    moderator = staff_user(Role.MODERATOR, email="morgan.moderator@example.org")

    # The creator logs in and starts a petition; the empty form says what is missing.
    log_in(page, creator.email)
    page.get_by_role("navigation", name="Main menu").get_by_role(
        "link", name="Start a petition"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Start a petition")
    assert_accessible(page)
    page.get_by_role("button", name="Check your petition").click()
    expect_error_summary(
        page, ["id_title", "id_summary", "id_topics_0", "id_country", "id_declaration"]
    )
    assert_accessible(page)

    # Filled in, the preview shows the text before anything is created.
    page.get_by_label("What do you want the public body to do?").fill(SCHOOLS)
    page.get_by_label("Why is this important?").fill(SCHOOLS_SUMMARY)
    page.get_by_label("Education").check()
    page.get_by_label("Your country").select_option(label="France")
    page.get_by_label("Your postcode").fill("69003")
    page.get_by_label("I confirm that this petition follows the terms of use").check()
    page.get_by_role("button", name="Check your petition").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your petition")
    preview = page.get_by_role("region", name=SCHOOLS)
    expect(preview.get_by_role("heading", name=SCHOOLS)).to_be_visible()
    expect(preview).to_contain_text(SCHOOLS_SUMMARY)
    expect(page.get_by_text("We found no published petition with a similar title.")).to_be_visible()
    assert not Petition.objects.exists()

    # Created: the creator sees it unpublished, with the private link for supporters.
    page.get_by_role("button", name="Create petition").click()
    petition = Petition.objects.get()
    petition_path = petition.get_absolute_url()
    expect(page).to_have_url(re.compile(re.escape(petition_path) + "$"))
    expect(page.get_by_text("This petition is not published yet")).to_be_visible()
    expect(page.get_by_text("0 of 2 supporters have confirmed.")).to_be_visible()
    supporter_link = page.get_by_label("Share this private link with your supporters")
    support_path = urlsplit(supporter_link.input_value()).path
    assert support_path == f"/petitions/support/{petition.supporter_token}/"
    assert petition.state == Petition.State.COLLECTING_SUPPORTERS
    assert petition.supporters_needed == 2
    assert [t.slug for t in petition.topics.all()] == ["education"]
    assert petition.creator == creator
    own = Signature.objects.get(petition=petition)
    assert (own.email, own.state, own.is_supporter) == (
        creator.email,
        Signature.State.CONFIRMED,
        False,
    )

    created = mail_to(smtp_server, creator.email, "Your petition has been created")
    assert created.subject == f"Your petition has been created: {SCHOOLS}"
    assert link_path(created, SUPPORT_LINK) == support_path

    # Two supporters, each in a browser of their own; nobody else sees the petition yet.
    first = new_context()
    stranger = first.new_page()
    open_page(stranger, petition_path, status=404)
    errors = support_and_confirm(
        first, support_path, "Ana Lopez", "ana.supporter@example.org", smtp_server
    )
    petition.refresh_from_db()
    assert petition.state == Petition.State.COLLECTING_SUPPORTERS
    errors += support_and_confirm(
        new_context(), support_path, "Bilal Haddad", "bilal.supporter@example.org", smtp_server
    )
    petition.refresh_from_db()
    assert petition.state == Petition.State.AWAITING_MODERATION
    assert petition.moderation_requested_at is not None
    assert (
        Signature.objects.filter(
            petition=petition, is_supporter=True, state=Signature.State.CONFIRMED
        ).count()
        == 2
    )
    waiting = mail_to(smtp_server, creator.email, "Your petition is waiting for moderation")
    assert waiting.subject == f"Your petition is waiting for moderation: {SCHOOLS}"

    open_page(page, petition_path)
    expect(page.get_by_text("Status: Awaiting moderation")).to_be_visible()

    # The creator signs out; the moderator signs in and finds it in the queue.
    page.get_by_role("button", name="Sign Out").click()
    expect(page.get_by_role("link", name="Sign In")).to_be_visible()
    log_in(page, moderator.email)
    open_page(page, "/staff/moderation/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Moderation")
    queue = page.get_by_role("table", name="Petitions waiting for moderation")
    expect(queue.get_by_role("row")).to_have_count(2)  # the header and our petition
    assert_accessible(page)
    queue.get_by_role("link", name=SCHOOLS).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(SCHOOLS)
    expect(page.get_by_text("Awaiting moderation", exact=True)).to_be_visible()
    expect(page.get_by_text("2 of 2", exact=True)).to_be_visible()
    expect(page.get_by_text(SCHOOLS_SUMMARY)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Approve and publish").click()

    expect(page).to_have_url(re.compile(r"/staff/moderation/$"))
    expect(page.get_by_role("status")).to_contain_text(f"“{SCHOOLS}” is now open for signatures.")
    expect(page.get_by_text("No petition is waiting for moderation.")).to_be_visible()
    petition.refresh_from_db()
    assert petition.state == Petition.State.OPEN
    assert petition.opened_at is not None
    assert petition.deadline is not None
    assert petition.deadline > timezone.now()

    # Anyone can now read and sign it; the creator hears it is published.
    reader = new_context().new_page()
    errors += collect_console_errors(reader)
    open_page(reader, petition_path)
    expect(reader.get_by_role("heading", level=1)).to_have_text(SCHOOLS)
    expect(reader.get_by_text("This petition is not published yet")).to_have_count(0)
    sign = reader.locator("#sign")
    expect(sign.get_by_role("heading", name="Sign this petition")).to_be_visible()
    expect(sign.get_by_label("Full name")).to_be_editable()
    expect(sign.get_by_role("button", name="Sign this petition")).to_be_enabled()
    assert_accessible(reader)

    published = mail_to(smtp_server, creator.email, "Your petition is published")
    assert published.subject == f"Your petition is published: {SCHOOLS}"
    assert SCHOOLS in published.text()
    assert console_errors == []
    assert errors == []
