"""Signing forms: the full form anyone can fill in, and the one-click form for signed-in
people with a verified address. Both only validate; the signing service decides.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.forms import DeclarativeFieldsMetaclass
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from petitions.selectors import CountryChoices, country_field_choices

POSTCODE_MAX = 12
# Countries whose postcode places the signature in a region, and so is required.
POSTCODE_FORMATS: dict[str, tuple[re.Pattern[str], StrOrPromise]] = {
    "FR": (re.compile(r"^\d{5}$"), _("Enter a French postcode of 5 digits, like 75001.")),
    "US": (
        re.compile(r"^\d{5}(-\d{4})?$"),
        _("Enter a ZIP code of 5 digits, like 20500, or ZIP+4, like 20500-0003."),
    ),
}


def default_country(language: str | None) -> str:
    return "FR" if language == "fr" else ""


class Shared:
    """A field that no form instance changes, so every form shares it.

    Django deep-copies each field for every form it builds, so that an instance may adapt
    its own; the signing form is built for every submission of a surge, and only its
    country field changes (its choices follow the language).
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self


class SharedCharField(Shared, forms.CharField):
    pass


class SharedEmailField(Shared, forms.EmailField):
    pass


class SharedBooleanField(Shared, forms.BooleanField):
    pass


CHOOSE_A_COUNTRY = _("Choose a country")
# Django's own default, translated only if a label is rendered with it.
LABEL_SUFFIX = _(":")


class SharedFields(dict[str, forms.Field]):
    """A form class's fields, "deep-copied" for each form as a plain dict: all are Shared."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, forms.Field]:
        return dict(self)


class SharedFieldsMetaclass(DeclarativeFieldsMetaclass):
    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        new_class: Any = super().__new__(mcs, name, bases, attrs)
        unshared = [
            key for key, field in new_class.base_fields.items() if not isinstance(field, Shared)
        ]
        if unshared:
            raise TypeError(f"{name}: fields {unshared} must be Shared fields")
        new_class.base_fields = SharedFields(new_class.base_fields)
        return new_class


class SharedFieldsForm(forms.Form, metaclass=SharedFieldsMetaclass):
    """A form whose fields are all Shared, built and validated for every submission of a
    surge, so it skips what only a rendered form needs.

    Django validates a bound form through a BoundField per field, whose creation
    translates the field's help text; this one reads each widget's value directly, as
    BoundField.data does (the BoundFields are made when the form is rendered). The label
    suffix is translated when a label is rendered, not when the form is built.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", LABEL_SUFFIX)
        super().__init__(*args, **kwargs)

    def _clean_fields(self) -> None:
        for name, field in self.fields.items():
            if field.disabled:
                value = self.get_initial_for_field(field, name)
            else:
                value = field.widget.value_from_datadict(
                    self.data, self.files, self.add_prefix(name)
                )
            try:
                self.cleaned_data[name] = field.clean(value)
                clean_field = getattr(self, f"clean_{name}", None)
                if clean_field is not None:
                    self.cleaned_data[name] = clean_field()
            except ValidationError as error:
                self.add_error(name, error)


class CountrySelect(forms.Select):
    """A select of the countries, named in the language of the request being answered."""

    @property  # type: ignore[override]
    def choices(self) -> CountryChoices:
        return country_field_choices(CHOOSE_A_COUNTRY)

    @choices.setter
    def choices(self, value: Any) -> None:
        """Ignored: the choices follow the active language (Select.__init__ sets them)."""

    # Copied as a plain widget: the choices are not the copy's to hold (and reading them
    # would query the database when the form class is defined).
    __deepcopy__ = forms.Widget.__deepcopy__


class CountryField(Shared, forms.ChoiceField):
    """A choice among the countries, in the active language, validated by a set lookup.

    Its choices are read when needed rather than set on each form, so no form changes the
    field and every form shares it.
    """

    widget = CountrySelect

    @property
    def choices(self) -> CountryChoices:
        return country_field_choices(CHOOSE_A_COUNTRY)

    @choices.setter
    def choices(self, value: Any) -> None:
        """Ignored, as for CountrySelect (ChoiceField.__init__ sets them)."""

    def valid_value(self, value: Any) -> bool:
        return str(value) in self.choices.codes


class PlaceMixin(SharedFieldsForm):
    """Country and postcode, checked together: the postcode rule depends on the country."""

    country = CountryField(
        label=_("Country"),
        widget=CountrySelect(attrs={"autocomplete": "country"}),
    )
    postcode = SharedCharField(
        label=_("Postcode"),
        max_length=POSTCODE_MAX,
        required=False,
        help_text=_("Required in France and the United States: it shows where support comes from."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "class": "input--short"}),
    )

    def _init_country(self, language: str | None) -> None:
        if not self.is_bound and not self.initial.get("country"):
            self.initial["country"] = default_country(language)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        country = cleaned.get("country", "")
        postcode = " ".join(str(cleaned.get("postcode", "")).split()).upper()
        rule = POSTCODE_FORMATS.get(country)
        if rule is not None:
            pattern, message = rule
            compact = postcode.replace(" ", "")
            if not compact:
                self.add_error("postcode", _("Enter your postcode."))
            elif not pattern.match(compact):
                self.add_error("postcode", message)
            else:
                postcode = compact
        cleaned["postcode"] = postcode
        return cleaned


class SignatureForm(PlaceMixin):
    """The form anyone fills in to sign (or to support a petition before publication)."""

    field_order = ["name", "email", "country", "postcode", "declaration"]

    name = SharedCharField(
        label=_("Full name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = SharedEmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("We send you a link to confirm your signature. It is never published."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    declaration = SharedBooleanField(
        label=_(
            "I confirm that the information above is correct and that I support this petition."
        ),
        error_messages={"required": _("Confirm that you support this petition to sign it.")},
    )
    wants_updates = SharedBooleanField(
        label=_("Email me when the government responds"),
        required=False,
    )
    listed_publicly = SharedBooleanField(
        label=_("Show my name in the public list of signers"),
        required=False,
        help_text=_("Your email address and postcode are never shown."),
    )

    def __init__(self, *args: Any, language: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_country(language)

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())


class OneClickSignatureForm(PlaceMixin):
    """Signing as the signed-in person: their name and verified address are known."""

    one_click = SharedCharField(widget=forms.HiddenInput, initial="1")
    wants_updates = SharedBooleanField(
        label=_("Email me when the government responds"),
        required=False,
    )
    listed_publicly = SharedBooleanField(
        label=_("Show my name in the public list of signers"),
        required=False,
        help_text=_("Your email address and postcode are never shown."),
    )

    def __init__(self, *args: Any, language: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_country(language)
