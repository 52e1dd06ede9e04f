"""The site's own pages: home, legal pages, error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from core.markdown import render_markdown
from core.models import Page
from petitions.selectors import home_sections


def home(request: HttpRequest) -> HttpResponse:
    """The front page: what the site is for, and the petitions to look at first."""
    return render(request, "core/home.html", {"sections": home_sections()})


def page(request: HttpRequest, slug: str) -> HttpResponse:
    site_page = get_object_or_404(Page, slug=slug)
    return render(
        request, "core/page.html", {"page": site_page, "body": render_markdown(site_page.body)}
    )


def gone(request: HttpRequest, message: str = "") -> HttpResponse:
    """A 410 page for content that was removed for good (petitions in the `removed` state)."""
    return render(request, "410.html", {"message": message}, status=410)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """500 with a static template: no context processors, no database, nothing that can fail."""
    template = loader.get_template("500.html")
    return HttpResponse(template.render({"SITE_NAME": "Agora"}), status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent with a missing or stale security token: explain, in the reader's language."""
    return render(request, "403_csrf.html", status=403)
