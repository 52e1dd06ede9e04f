"""Starting a petition (form, preview, creation) and the creator's own list of petitions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Case, Count, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import User
from core.errors import DomainError
from core.markdown import render_markdown
from petitions.forms.creation import PetitionForm
from petitions.models import Petition, Signature
from petitions.services import creation

# Words of four letters or more that say nothing about what a petition asks for.
STOP_WORDS = frozenset({
    "about", "after", "against", "also", "been", "before", "being", "could", "from", "have",
    "into", "more", "most", "must", "need", "only", "other", "over", "petition", "please",
    "should", "some", "such", "than", "that", "their", "them", "then", "there", "these", "they",
    "this", "those", "very", "want", "were", "what", "when", "where", "which", "while", "will",
    "with", "would", "your",
    # Verbs and words most petitions share: they match everything, so they find nothing.
    "allow", "build", "create", "ensure", "give", "introduce", "keep", "make", "provide",
    "public", "require", "stop", "every",
    "afin", "aussi", "avec", "avoir", "cette", "comme", "dans", "demande", "demandons", "doit",
    "elle", "elles", "être", "faire", "leur", "leurs", "mais", "même", "nous", "notre",
    "pétition", "plus", "pour", "sans", "sont", "sous", "tous", "toutes", "très", "vers",
    "votre", "vous",
    "chaque", "créer", "mettre", "publics", "publique", "publiques", "rendre",
})  # fmt: skip
SIMILAR_WORDS = 5
SIMILAR_LIMIT = 5

# The colour of a state's tag (see .tag--* in agora.css).
STATE_TAGS: dict[str, str] = {
    Petition.State.DRAFT: "neutral",
    Petition.State.COLLECTING_SUPPORTERS: "warning",
    Petition.State.AWAITING_MODERATION: "warning",
    Petition.State.OPEN: "success",
    Petition.State.CLOSED: "neutral",
    Petition.State.REJECTED: "error",
    Petition.State.HIDDEN: "error",
    Petition.State.REMOVED: "error",
}


def state_tag(petition: Petition) -> str:
    return STATE_TAGS.get(petition.state, "neutral")


def significant_words(title: str) -> list[str]:
    """The title's longest distinct words of four letters or more, stop words left out."""
    words = dict.fromkeys(
        word for word in re.findall(r"\w+", title.casefold())
        if len(word) >= 4 and not word.isdigit() and word not in STOP_WORDS
    )  # fmt: skip
    return sorted(words, key=len, reverse=True)[:SIMILAR_WORDS]


def similar_petitions(title: str) -> list[Petition]:
    """Public petitions whose title shares significant words with ``title``.

    Portable (any database): ``icontains`` over a few words, the titles sharing the most
    words first, then the most signed. Rejected petitions whose text is hidden are never
    suggested.
    """
    words = significant_words(title)
    if not words:
        return []
    shared = sum(
        (Case(When(title__icontains=word, then=1), default=0) for word in words),
        start=Value(0),
    )
    return list(
        Petition.objects.public()
        .exclude(state=Petition.State.REJECTED, rejection_reason__in=Petition.HIDE_TEXT_REASONS)
        .annotate(shared_words=shared)
        .filter(shared_words__gt=0)
        .order_by("-shared_words", "-signature_count", "-pk")[:SIMILAR_LIMIT]
    )


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by login_required
    return user


def _has_verified_email(user: User) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True).exists()


def _form_page(request: HttpRequest, form: PetitionForm, *, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "supporters_needed": settings.AGORA_SUPPORTERS_NEEDED,
        "target_days": settings.AGORA_MODERATION_TARGET_DAYS,
    }
    return render(request, "petitions/create/form.html", context, status=status)


def _preview_page(request: HttpRequest, form: PetitionForm) -> HttpResponse:
    data = form.cleaned_data
    # The preview posts the very values it shows, as hidden fields, for "Create" or "Change".
    carried = [
        (name, value)
        for name in form.fields
        for value in request.POST.getlist(name)
    ]  # fmt: skip
    context = {
        "form": form,
        "data": data,
        "details_html": render_markdown(data["details"]) if data["details"] else "",
        "language_name": dict(settings.LANGUAGES)[data["language"]],
        "country_name": form.country_name(),
        "similar": [(p, state_tag(p)) for p in similar_petitions(data["title"])],
        "carried": carried,
        "supporters_needed": settings.AGORA_SUPPORTERS_NEEDED,
    }
    return render(request, "petitions/create/preview.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def create_petition(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST ``action=preview``: check it. ``edit``: change it. ``create``."""
    user = _user(request)
    if not _has_verified_email(user):
        return render(request, "petitions/create/verify_email.html", status=403)
    if request.method == "GET":
        return _form_page(request, PetitionForm())
    form = PetitionForm(request.POST)
    action = request.POST.get("action", "preview")
    if action == "edit" or not form.is_valid():
        return _form_page(request, form)
    if action != "create":
        return _preview_page(request, form)
    try:
        petition = creation.create_petition(
            form.petition_text(),
            actor=user,
            country=form.cleaned_data["country"],
            postcode=form.cleaned_data["postcode"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _form_page(request, form, status=error.status_code)
    messages.success(
        request, _created_message(request, petition, emailed=user.notify_petition_updates)
    )
    return redirect(petition.get_absolute_url())


def _created_message(request: HttpRequest, petition: Petition, *, emailed: bool) -> str:
    if petition.state != Petition.State.COLLECTING_SUPPORTERS:  # no supporters needed
        return _("Your petition has been created and sent to moderation.")
    supporter_url = request.build_absolute_uri(
        reverse("petitions:support", args=[petition.supporter_token])
    )
    share = ngettext(
        "Your petition has been created. Share this private link with %(count)s person "
        "who supports it; once they have signed, it goes to moderation:",
        "Your petition has been created. Share this private link with %(count)s people "
        "who support it; once they have signed, it goes to moderation:",
        petition.supporters_needed,
    ) % {"count": petition.supporters_needed}
    emailed_note = _("We have also sent you this link by email.") if emailed else ""
    # Inline style: a long address must wrap on a phone instead of widening the page.
    return format_html(
        '{} <a href="{}" style="overflow-wrap:anywhere">{}</a> {}',
        share,
        supporter_url,
        supporter_url,
        emailed_note,
    )


@dataclass(frozen=True)
class MyPetition:
    petition: Petition
    tag: str
    supporters: int
    supporter_url: str


@login_required
@require_safe
def my_petitions(request: HttpRequest) -> HttpResponse:
    """The creator's petitions with where each stands. Two queries however many there are."""
    petitions = list(Petition.objects.filter(creator=_user(request)).order_by("-created_at"))
    collecting = [p.pk for p in petitions if p.state == Petition.State.COLLECTING_SUPPORTERS]
    supporters = dict(
        Signature.objects.filter(
            petition_id__in=collecting, is_supporter=True, state=Signature.State.CONFIRMED
        )
        .order_by()
        .values("petition_id")
        .annotate(confirmed=Count("pk"))
        .values_list("petition_id", "confirmed")
    )
    rows = [
        MyPetition(
            petition=petition,
            tag=state_tag(petition),
            supporters=supporters.get(petition.pk, 0),
            supporter_url=(
                request.build_absolute_uri(
                    reverse("petitions:support", args=[petition.supporter_token])
                )
                if petition.pk in collecting
                else ""
            ),
        )
        for petition in petitions
    ]
    return render(request, "petitions/mine.html", {"rows": rows})
