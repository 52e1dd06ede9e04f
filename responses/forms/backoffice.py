"""Forms of the department back-office: the inbox filters, notes, re-routing, the response
editor and the review, publication and correction decisions.

Forms that share a page carry a prefix, so their field ids (and the error summary's links to
them) never collide. None of them saves anything: the views pass the cleaned data to a service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from petitions.models import Petition
from responses.models import Department, Response, ResponseVersion, Track
from responses.selectors import InboxSort, InboxState

NOTE_MAX = 5000  # InternalNote.body
COMMENT_MAX = 5000
TITLE_MAX = 200  # Response.title
BODY_MAX = 20_000  # Response.body
REASON_MAX = 2000


class InboxFilterForm(forms.Form):
    """GET filters of the inbox; every field optional, the departments are the user's own."""

    department = forms.TypedChoiceField(
        label=_("Department"), required=False, coerce=int, empty_value=None
    )
    track = forms.ChoiceField(
        label=_("Track"),
        required=False,
        choices=[("", _("Responses and debates")), *Track.choices],
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All")),
            (InboxState.AWAITING, _("Awaiting a response")),
            (InboxState.OVERDUE, _("Overdue")),
            (InboxState.RESPONDED, _("Responded")),
        ],
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[
            (InboxSort.DUE, _("Due date, soonest first")),
            (InboxSort.DUE_DESC, _("Due date, latest first")),
        ],
    )

    def __init__(self, *args: Any, departments: QuerySet[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["department"])
        field.choices = [("", _("All my departments")), *((d.pk, d.name) for d in departments)]


class NoteForm(forms.Form):
    prefix = "note"

    body = forms.CharField(
        label=_("Add an internal note"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": "3"}),
        help_text=_(
            "Seen by the staff of every department this petition is routed to. Never published."
        ),
        error_messages={"required": _("Write the note before adding it.")},
    )


class RerouteForm(forms.Form):
    lead = forms.ModelChoiceField(
        label=_("Lead department"),
        queryset=Department.objects.none(),
        help_text=_("The department that writes the response."),
        error_messages={"required": _("Choose the lead department.")},
    )
    contributors = forms.ModelMultipleChoiceField(
        label=_("Contributing departments"),
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Departments that help the lead department. The due date does not change."),
    )
    reason = forms.CharField(
        label=_("Reason for re-routing"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": "3"}),
        help_text=_("Kept in the petition's history and shown to the departments."),
        error_messages={"required": _("Give a reason for re-routing.")},
    )
    track = forms.ChoiceField(choices=Track.choices, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        active = Department.objects.filter(is_active=True).order_by("name_en")
        for name in ("lead", "contributors"):
            cast(forms.ModelChoiceField, self.fields[name]).queryset = active


class PetitionsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _("#%(number)s %(title)s (%(count)s signatures)") % {
            "number": obj.pk,
            "title": obj.title,
            "count": number_format(obj.signature_count, force_grouping=True),
        }


class ResponseForm(forms.Form):
    """The editor: a title, a Markdown text and the petitions the response answers."""

    prefix = "edit"

    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        error_messages={"required": _("Give the response a title.")},
    )
    body = forms.CharField(
        label=_("Response"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": "16"}),
        help_text=_(
            "Markdown: a blank line between paragraphs, **bold**, *italic*, "
            "[a link](https://example.org), lines starting with - for a list, ## for a heading. "
            "Use Preview to check the result."
        ),
        error_messages={"required": _("Write the text of the response.")},
    )
    petitions = PetitionsField(
        label=_("Petitions answered"),
        queryset=Petition.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "One response can answer several petitions routed to your department that ask "
            "for the same thing."
        ),
        error_messages={"required": _("Choose at least one petition to answer.")},
    )

    def __init__(self, *args: Any, petitions: QuerySet[Petition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelMultipleChoiceField, self.fields["petitions"])
        field.queryset = petitions


class ApproveForm(forms.Form):
    prefix = "approve"

    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": "3"}),
        help_text=_("Seen by the department's staff."),
    )


class SendBackForm(forms.Form):
    prefix = "send-back"

    comment = forms.CharField(
        label=_("What should change?"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": "4"}),
        help_text=_("The drafter is told by email and sees your comment on this page."),
        error_messages={"required": _("Say what should change before sending the response back.")},
    )


class PublishForm(forms.Form):
    """Publish now, or at a time (``datetime-local``, in the site's time zone)."""

    NOW, SCHEDULE = "now", "schedule"

    prefix = "publish"

    action = forms.ChoiceField(choices=[(NOW, NOW), (SCHEDULE, SCHEDULE)], widget=forms.HiddenInput)
    at = forms.DateTimeField(
        label=_("Publication date and time"),
        required=False,
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "class": "input"}, format="%Y-%m-%dT%H:%M"
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        at = self.fields["at"]
        at.help_text = _("Time zone: %(zone)s.") % {"zone": timezone.get_current_timezone_name()}
        at.error_messages["required"] = _("Choose when to publish the response.")
        action = (
            self.data.get(self.add_prefix("action"))
            if self.is_bound
            else self.initial.get("action")
        )
        at.required = action != self.NOW  # publishing now needs no date

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        at: datetime | None = data.get("at")
        if data.get("action") != self.SCHEDULE:
            data["at"] = None
        elif at is not None and at <= timezone.now():
            self.add_error("at", _("Choose a time in the future, or publish now."))
        return data


class CorrectForm(forms.Form):
    prefix = "correct"

    title = forms.CharField(
        label=_("Title"),
        max_length=TITLE_MAX,
        error_messages={"required": _("Give the response a title.")},
    )
    body = forms.CharField(
        label=_("Response"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": "16"}),
        help_text=_("Markdown, as in the editor. Signers are not emailed again."),
        error_messages={"required": _("Write the text of the response.")},
    )
    note = forms.CharField(
        label=_("What changed"),
        max_length=ResponseVersion._meta.get_field("note").max_length,
        help_text=_("Shown on the public page with the date of the correction."),
        error_messages={"required": _("Say what changed.")},
    )


class DebateScheduleForm(forms.Form):
    prefix = "debate-date"

    on = forms.DateField(
        label=_("Debate date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The signers who asked to hear back are emailed the date."),
        error_messages={"required": _("Choose the date of the debate.")},
    )


class DebateOutcomeForm(forms.Form):
    prefix = "debate-outcome"

    outcome = forms.CharField(
        label=_("Outcome of the debate"),
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": "4"}),
        help_text=_("Published, and emailed to the signers who asked to hear back."),
        error_messages={"required": _("Describe the outcome of the debate.")},
    )


class CompareForm(forms.Form):
    """GET ``a`` and ``b``: two version numbers of the response."""

    a = forms.TypedChoiceField(label=_("From version"), coerce=int)
    b = forms.TypedChoiceField(label=_("To version"), coerce=int)

    def __init__(self, *args: Any, response: Response, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        numbers = response.versions.order_by("-number").values_list("number", flat=True)
        choices = [(number, str(number)) for number in numbers]
        for name in ("a", "b"):
            cast(forms.TypedChoiceField, self.fields[name]).choices = choices
            self.fields[name].error_messages["invalid_choice"] = _(
                "This response has no such version."
            )
            self.fields[name].error_messages["required"] = _("Choose a version.")


class MarkReadForm(forms.Form):
    """Mark one notification read (``notification``), or all of them when it is empty."""

    notification = forms.IntegerField(required=False, widget=forms.HiddenInput)
