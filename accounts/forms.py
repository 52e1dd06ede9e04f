"""Account forms. Every message a person can see is translated."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import PartnerKey, User


class SignupExtraForm(forms.Form):
    """Adds the display name to allauth's signup form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    display_name = forms.CharField(
        label=_("Your name"),
        max_length=100,
        help_text=_("How your name appears to staff and in emails."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    def clean_display_name(self) -> str:
        name: str = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."), code="required")
        return name

    def signup(self, request: Any, user: User) -> None:
        user.display_name = self.cleaned_data["display_name"]
        user.save(update_fields=["display_name"])


class PreferencesForm(forms.ModelForm[User]):
    class Meta:
        model = User
        fields = [
            "display_name",
            "preferred_language",
            "notify_petition_updates",
            "notify_signed_petition_responses",
        ]
        widgets = {"preferred_language": forms.RadioSelect}

    def clean_display_name(self) -> str:
        name: str = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise forms.ValidationError(_("Enter your name."), code="required")
        return name


class DeleteAccountForm(forms.Form):
    """Deleting an account asks for the password, so a borrowed session cannot do it."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account and my personal data will be deleted for good."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("This password is not correct."), code="invalid")
        return password


class PartnerKeyForm(forms.Form):
    """Issuing a partner key: who it is for, what it may do, and its limits."""

    name = forms.CharField(label=_("Partner"), max_length=120)
    contact_name = forms.CharField(label=_("Contact name"), max_length=120)
    contact_email = forms.EmailField(label=_("Contact email"), max_length=254)
    use = forms.ChoiceField(
        label=_("Allowed use"),
        choices=PartnerKey.Use.choices,
        initial=PartnerKey.Use.READ,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=_("What the key is for"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The partner's site and what it does with the API, for the record."),
    )
    country = forms.RegexField(
        label=_("Signers' country"),
        regex=r"^[A-Za-z]{2}$",
        initial="FR",
        max_length=2,
        help_text=_("Two letters (FR, US...): the country of the signatures this partner sends."),
    )
    monthly_write_quota = forms.IntegerField(
        label=_("Signatures per month"), min_value=0, max_value=10_000_000, initial=10_000
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("Requests per minute"), min_value=1, max_value=100_000, initial=60
    )
