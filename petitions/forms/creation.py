"""The form a signed-in person fills in to start a petition."""

from __future__ import annotations

import unicodedata
from typing import Any

from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from petitions.models import Country, Topic
from petitions.models.petition import DETAILS_MAX, SUMMARY_MAX, TITLE_MAX
from petitions.services.creation import PetitionText

POSTCODE_MAX = 12


class TextField(forms.CharField):
    """A CharField that counts a line break as one character, as the browser does.

    Browsers submit line breaks as CRLF but count them as one character against
    ``maxlength`` (and so does the live counter); normalising first keeps both in step.
    """

    def to_python(self, value: Any) -> str:
        text = super().to_python(value) or ""
        return text.replace("\r\n", "\n").replace("\r", "\n")


def _counted(max_length: int, **attrs: str) -> dict[str, Any]:
    """Widget attributes for the live character count (static/js/petition-form.js)."""
    return {
        "data-maxlength": str(max_length),
        "data-count-remaining": _("You have %(count)s characters remaining"),
        "data-count-one-remaining": _("You have 1 character remaining"),
        "data-count-over": _("You have %(count)s characters too many"),
        "data-count-one-over": _("You have 1 character too many"),
        **attrs,
    }


def _sort_key(name: str) -> str:
    """Accents sort with their letter (« Égypte » between « Équateur » and « Érythrée »)."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def country_choices() -> list[tuple[str, str]]:
    """Every country, ordered by its name in the current language."""
    french = (get_language() or "").startswith("fr")
    rows = [
        (code, fr if french else en)
        for code, en, fr in Country.objects.values_list("code", "name_en", "name_fr")
    ]
    rows.sort(key=lambda row: _sort_key(row[1]))
    return [("", gettext("Choose your country")), *rows]


# Interpolated when the form is built, in the language of the request.
HINTS = {
    "title": (
        _(
            "This is the title of your petition: one sentence that asks for an action, for "
            'example "Build a cycle path between the station and the hospital". '
            "%(max)s characters at most."
        ),
        TITLE_MAX,
    ),
    "summary": (
        _(
            "Explain the problem and why the action you ask for would solve it. "
            "%(max)s characters at most."
        ),
        SUMMARY_MAX,
    ),
    "details": (
        _(
            "Anything else readers should know: facts, figures, links. Basic Markdown is "
            "allowed: *italics*, **bold**, lists starting with -, and links written "
            "[text](https://address). %(max)s characters at most."
        ),
        DETAILS_MAX,
    ),
}


class PetitionForm(forms.Form):
    """Validates a new petition; the preview and the creation post the same fields."""

    title = TextField(
        label=_("What do you want the public body to do?"),
        max_length=TITLE_MAX,
        widget=forms.TextInput(attrs=_counted(TITLE_MAX, autocomplete="off")),
    )
    summary = TextField(
        label=_("Why is this important?"),
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs=_counted(SUMMARY_MAX, rows="6")),
    )
    details = TextField(
        label=_("More details"),
        required=False,
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs=_counted(DETAILS_MAX, rows="10")),
    )
    topics = forms.ModelMultipleChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose at least one. Topics decide which department answers."),
        error_messages={"required": _("Choose at least one topic.")},
    )
    language = forms.ChoiceField(
        label=_("Language of the petition"),
        help_text=_("The language you wrote the petition in."),
        widget=forms.RadioSelect,
    )
    country = forms.ChoiceField(
        label=_("Your country"),
        help_text=_("You sign your own petition: your signature is its first."),
        error_messages={"required": _("Choose your country.")},
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    postcode = forms.CharField(
        label=_("Your postcode"),
        required=False,
        max_length=POSTCODE_MAX,
        help_text=_(
            "It places your signature in a region; it is never published. Leave it empty if "
            "your country has no postcodes."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    declaration = forms.BooleanField(
        label=_(
            "I confirm that this petition follows the terms of use, and I agree that my name "
            "is shown on it as its creator."
        ),
        error_messages={"required": _("Confirm that the petition follows the terms of use.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("language", (get_language() or "en")[:2])
        super().__init__(*args, **kwargs)
        for name, (hint, limit) in HINTS.items():
            self.fields[name].help_text = hint % {"max": limit}
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)  # noqa: S101 - declared just above
        language.choices = settings.LANGUAGES
        country = self.fields["country"]
        assert isinstance(country, forms.ChoiceField)  # noqa: S101 - declared just above
        country.choices = self.countries = country_choices()
        self.fields["declaration"].help_text = format_html(
            '<a href="{}">{}</a>', reverse("core:page", args=["terms"]), _("Read the terms of use")
        )

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data["title"].split())

    def clean_postcode(self) -> str:
        return " ".join(self.cleaned_data["postcode"].split()).upper()

    def country_name(self) -> str:
        return dict(self.countries).get(self.cleaned_data.get("country", ""), "")

    def petition_text(self) -> PetitionText:
        data = self.cleaned_data
        return PetitionText(
            title=data["title"],
            summary=data["summary"],
            details=data["details"],
            language=data["language"],
            topic_ids=[topic.pk for topic in data["topics"]],
        )
