"""The account page (preferences, data download, deletion) and the staff area's home."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import DeleteAccountForm, PreferencesForm
from accounts.language import remember_language
from accounts.models import User
from accounts.roles import is_staff_member, roles_of


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - guaranteed by login_required
    return user


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = PreferencesForm(request.POST or None, instance=User.objects.get(pk=user.pk))
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in services.PREFERENCE_FIELDS}
        services.update_preferences(user, actor=user, **changes)
        response = redirect("accounts:account")
        remember_language(response, user.preferred_language)
        messages.success(request, _("Your preferences have been saved."))
        return response
    return render(request, "accounts/account.html", {"form": form, "roles": roles_of(user)})


@login_required
@require_POST
def export_data(request: HttpRequest) -> HttpResponse:
    """A JSON file of the person's data. POST, so a link elsewhere cannot trigger it."""
    data = services.export_personal_data(_user(request))
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    filename = f"agora-my-data-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = DeleteAccountForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        services.delete_account(user, actor=user)
        logout(request)
        messages.success(request, _("Your account and your personal data have been deleted."))
        return redirect("core:home")
    return render(request, "accounts/delete.html", {"form": form})


def staff_home(request: HttpRequest) -> HttpResponse:
    """The back-office's front door: anonymous people log in, non-staff get a 403."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_staff_member(request.user):
        raise PermissionDenied(_("This area is for staff only."))
    return render(request, "staff/home.html", {"roles": roles_of(request.user)})
