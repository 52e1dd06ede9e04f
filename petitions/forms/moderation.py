"""Moderators' decisions and the administrators' pause-signing switch.

Each form carries a prefix so that several can sit on one page without their field ids
(and the error summary's links to them) colliding.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from petitions.models import Petition

DETAILS_MAX = 2000
PAUSE_REASON_MAX = 300  # SigningPause.reason


class ApproveForm(forms.Form):
    """No fields: approving is a button; the form keeps the views uniform."""

    prefix = "approve"


class RestoreForm(forms.Form):
    prefix = "restore"


class RejectForm(forms.Form):
    prefix = "reject"

    reason = forms.ChoiceField(
        label=_("Reason for rejecting"),
        choices=Petition.RejectionReason.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Offensive, defamatory and advertising rejections hide the petition's text: the "
            "public page then shows only that it was rejected, and why."
        ),
        error_messages={"required": _("Choose a reason for the rejection.")},
    )
    details = forms.CharField(
        label=_("Details for the creator"),
        required=False,
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": "4"}),
        help_text=_(
            "Sent to the creator and shown on the petition page. For a duplicate, give the "
            "address of the existing petition."
        ),
    )


class HideForm(forms.Form):
    prefix = "hide"

    details = forms.CharField(
        label=_("Why are you hiding this petition?"),
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": "3"}),
        help_text=_("Kept in the petition's history for other staff. It is not published."),
        error_messages={"required": _("Say why you are hiding this petition.")},
    )


class RemoveForm(forms.Form):
    prefix = "remove"

    details = forms.CharField(
        label=_("Why are you removing this petition?"),
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": "3"}),
        help_text=_(
            "For legal take-downs, give the reference of the request. Kept in the petition's "
            "history; not published."
        ),
        error_messages={"required": _("Say why you are removing this petition.")},
    )
    confirm = forms.BooleanField(
        label=_(
            "I understand that the petition's address will answer that it has been removed, "
            "for good."
        ),
        error_messages={"required": _("Confirm that you want to remove this petition.")},
    )


class PauseSigningForm(forms.Form):
    reason = forms.CharField(
        label=_("Message shown on the banner"),
        required=False,
        max_length=PAUSE_REASON_MAX,
        widget=forms.TextInput(),
        help_text=_(
            'Shown to everyone on every page while signing is paused, for example "Signing '
            'is paused during the election period."'
        ),
    )
