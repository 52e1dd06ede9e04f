import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape

from core.models import Page

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_pages():
    call_command("load_site_pages", verbosity=0)


def test_home_page_answers_in_english_and_french(client):
    english = client.get(reverse("core:home"), HTTP_ACCEPT_LANGUAGE="en")
    french = client.get(reverse("core:home"), HTTP_ACCEPT_LANGUAGE="fr")
    assert english.status_code == french.status_code == 200
    assert '<html lang="en"' in english.text
    assert '<html lang="fr"' in french.text
    assert english.text != french.text


@pytest.mark.parametrize("slug", ["accessibility", "privacy", "terms"])
def test_legal_pages_are_shown_in_the_readers_language(client, site_pages, slug):
    page = Page.objects.get(slug=slug)
    english = client.get(reverse("core:page", args=[slug]), HTTP_ACCEPT_LANGUAGE="en")
    french = client.get(reverse("core:page", args=[slug]), HTTP_ACCEPT_LANGUAGE="fr")
    assert escape(page.title_en) in english.text
    assert escape(page.title_fr) in french.text


def test_an_unknown_page_is_a_friendly_404(client):
    response = client.get("/pages/nothing-here/")
    assert response.status_code == 404
    assert "<main" in response.text


def test_page_markdown_is_sanitised(client):
    Page.objects.create(
        slug="terms",
        title_en="Terms",
        title_fr="Conditions",
        body_en="Hello <script>alert(1)</script>",
        body_fr="Bonjour",
    )
    response = client.get(reverse("core:page", args=["terms"]), HTTP_ACCEPT_LANGUAGE="en")
    assert "<script>alert(1)" not in response.text
    assert "Hello" in response.text


def test_the_500_page_renders_without_a_database_or_context(rf):
    from core.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"<html" in response.content


def test_the_410_page_says_the_content_was_removed(rf):
    from core.views import gone

    request = rf.get("/petitions/1/")
    request.user = AnonymousUser()
    response = gone(request)
    assert response.status_code == 410


def test_language_switcher_sets_french_and_returns_to_the_page(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert response.url == "/"
    assert '<html lang="fr"' in client.get("/").text
