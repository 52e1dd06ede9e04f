"""The back-office form for registering and changing a webhook endpoint."""

from __future__ import annotations

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from core.webhooks.events import EventType
from core.webhooks.models import WebhookEndpoint


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("The https:// address that receives the events, as a POST request."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The endpoint receives only the events you tick."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("Who runs this endpoint and what for, for the other administrators."),
    )
    active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_(
            "A disabled endpoint receives nothing; its waiting deliveries resume once enabled."
        ),
    )

    @classmethod
    def for_endpoint(cls, endpoint: WebhookEndpoint) -> EndpointForm:
        return cls(
            initial={
                "url": endpoint.url,
                "events": endpoint.events,
                "description": endpoint.description,
                "active": endpoint.active,
            }
        )
