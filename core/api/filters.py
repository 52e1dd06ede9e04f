"""django-filter for the open-data API: a bad parameter is a 400 that names it.

django-filter's own DRF backend already refuses an invalid form, but it reports a date
range under the filter's name (``created``) rather than the parameter the client sent
(``created_after``); this backend names the parameter.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Model, QuerySet
from django.utils.translation import get_language
from django_filters import (  # type: ignore[import-untyped, unused-ignore]  # no stubs installed
    FilterSet,
    RangeFilter,
)
from django_filters.rest_framework import (  # type: ignore[import-untyped, unused-ignore]
    DjangoFilterBackend,
)
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api.errors import parameter_errors

_FORM_CLASSES: dict[tuple[type[Any], str | None], type[forms.Form]] = {}


class OpenDataFilterSet(FilterSet):  # type: ignore[misc, unused-ignore]
    """A FilterSet whose form class is built once per language, not for every request.

    django-filter builds a new form class (a form field per filter, with its label) each
    time it validates parameters; nothing in ours depends on the request, so the class is
    kept (the form still copies its fields for each request, as every Django form does).
    """

    def get_form_class(self) -> type[forms.Form]:
        key = (type(self), get_language())
        form_class = _FORM_CLASSES.get(key)
        if form_class is None:
            form_class = _FORM_CLASSES[key] = super().get_form_class()
        return form_class


def _range_errors(filterset: Any, name: str, request: Request) -> dict[str, list[str]]:
    """The errors of a range filter (``name_after``/``name_before``), by parameter."""
    errors: dict[str, list[str]] = {}
    field = filterset.form.fields[name]
    for suffix, subfield in zip(field.widget.suffixes, field.fields, strict=True):
        parameter = f"{name}_{suffix}"
        value = request.query_params.get(parameter)
        if value in (None, ""):
            continue
        try:
            subfield.clean(value)
        except forms.ValidationError as error:
            errors[parameter] = [str(message) for message in error.messages]
    return errors


class StrictFilterBackend(DjangoFilterBackend):  # type: ignore[misc, unused-ignore]
    def filter_queryset(
        self, request: Request, queryset: QuerySet[Model], view: APIView
    ) -> QuerySet[Model]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            errors: dict[str, list[str]] = {}
            for name, messages in parameter_errors(dict(filterset.errors)).items():
                if isinstance(filterset.filters.get(name), RangeFilter):
                    errors |= _range_errors(filterset, name, request) or {name: messages}
                else:
                    errors[name] = messages
            raise ValidationError(errors)
        result: QuerySet[Model] = filterset.qs
        return result
