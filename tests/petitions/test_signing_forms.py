"""The signing forms validate as Django's forms do, at a surge's cost (no BoundFields,
no copies of the shared fields), and still render as usual."""

from __future__ import annotations

import pytest
from django import forms
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext

from petitions.forms.signing import (
    OneClickSignatureForm,
    SharedCharField,
    SharedFieldsForm,
    SignatureForm,
)

pytestmark = pytest.mark.django_db


class DjangoValidatedSignatureForm(SignatureForm):
    """The same form, validated through BoundFields by Django's own method."""

    _clean_fields = forms.BaseForm._clean_fields  # type: ignore[attr-defined]


class DjangoValidatedOneClickForm(OneClickSignatureForm):
    _clean_fields = forms.BaseForm._clean_fields  # type: ignore[attr-defined]


VALID = {
    "name": "  Sam   Signer ",
    "email": "Sam.Signer@Example.org",
    "country": "FR",
    "postcode": "75 011",
    "declaration": "on",
    "wants_updates": "on",
}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"email": "not-an-address"},
        {"email": ""},
        {"country": "ZZ"},
        {"country": ""},
        {"country": "US", "postcode": "2050"},
        {"country": "FR", "postcode": ""},
        {"country": "BE", "postcode": " 1000 "},
        {"declaration": None},
        {"wants_updates": None, "listed_publicly": "on"},
        {"name": "nul\x00byte"},
    ],
)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_signing_form_validates_as_django_does(countries, changes, language):
    data = QueryDict(mutable=True)
    for key, value in (VALID | changes).items():
        if value is not None:
            data[key] = value
    with translation.override(language):
        ours = SignatureForm(data, language=language)
        django = DjangoValidatedSignatureForm(data, language=language)
        assert ours.is_valid() == django.is_valid()
        assert ours.errors == django.errors
        assert ours.cleaned_data == django.cleaned_data


@pytest.mark.parametrize("postcode", ["75011", "7501", ""])
def test_the_one_click_form_validates_as_django_does(countries, postcode):
    data = QueryDict(mutable=True)
    data.update({"one_click": "1", "country": "FR", "postcode": postcode, "wants_updates": "on"})
    ours = OneClickSignatureForm(data, language="en")
    django = DjangoValidatedOneClickForm(data, language="en")
    assert ours.is_valid() == django.is_valid()
    assert ours.errors == django.errors
    assert ours.cleaned_data == django.cleaned_data


def test_each_form_has_its_own_dict_of_the_shared_fields(countries):
    first, second = SignatureForm(language="en"), SignatureForm(language="en")
    assert first.fields is not second.fields
    assert first.fields["email"] is second.fields["email"] is SignatureForm.base_fields["email"]
    del first.fields["listed_publicly"]
    assert "listed_publicly" in second.fields
    assert "listed_publicly" in SignatureForm.base_fields


def test_a_disabled_field_keeps_its_initial_value():
    class Form(SharedFieldsForm):
        source = SharedCharField(disabled=True, initial="web")
        note = SharedCharField(required=False)

    form = Form(QueryDict("source=api&note=hello"))
    assert form.is_valid()
    assert form.cleaned_data == {"source": "web", "note": "hello"}


def test_a_field_that_is_not_shared_is_refused():
    with pytest.raises(TypeError, match="Shared"):

        class Form(SharedFieldsForm):
            name = forms.CharField()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_rendered_form_has_its_help_texts_and_translated_label_suffix(countries, language):
    with translation.override(language):
        form = SignatureForm(QueryDict("email=bad"), language=language)
        assert not form.is_valid()
        email = form["email"]
        assert str(email.help_text) == gettext(
            "We send you a link to confirm your signature. It is never published."
        )
        label = str(email.label_tag())
        assert label.endswith(f"{gettext('Email address')}{gettext(':')}</label>")
        assert "aria-invalid" in str(email)
