"""The public list's search and filter form (a GET form: every choice is in the address)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from petitions.models import Region
from petitions.selectors import (
    SORT_LABELS,
    STATE_FILTERS,
    PetitionFilters,
    Sort,
    find_region,
    region_choices,
    topic_choices,
)

Q_MAX = 200


class PetitionSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search petitions"),
        max_length=Q_MAX,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "enterkeyhint": "search"}),
    )
    state = forms.ChoiceField(label=_("Status"), required=False)
    topic = forms.ChoiceField(label=_("Topic"), required=False)
    # Any region id, code or ``kind:code`` is accepted; the menu offers ``kind:code``.
    region = forms.CharField(label=_("Signed from"), required=False, max_length=60)
    sort = forms.ChoiceField(label=_("Sort by"), required=False)

    def __init__(self, data: QueryDict | None = None) -> None:
        # A copy: clean_region writes the canonical value back for the menu to show.
        super().__init__(data.copy() if data is not None else None)
        self._set_choices("state", [("", _("Any status")), *STATE_FILTERS.items()])
        self._set_choices("topic", [("", _("Any topic")), *topic_choices()])
        self.fields["region"].widget = forms.Select(
            choices=[("", _("Anywhere")), *region_choices()]
        )
        searching = bool(self.data.get("q", "").strip())
        sorts = [
            (value, label)
            for value, label in SORT_LABELS.items()
            if searching or value != Sort.RELEVANCE
        ]
        self._set_choices("sort", sorts)
        self.region_found: Region | None = None

    def _set_choices(self, name: str, choices: list[Any]) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    def clean_q(self) -> str:
        return " ".join(self.cleaned_data["q"].split())

    def clean_region(self) -> str:
        value: str = self.cleaned_data["region"].strip()
        if not value:
            return ""
        region = find_region(value)
        if region is None:
            raise forms.ValidationError(_("Choose a region from the list."), code="invalid")
        self.region_found = region
        canonical = f"{region.kind}:{region.code}"
        cast(QueryDict, self.data)["region"] = canonical  # the menu shows it, however given
        return canonical

    def to_filters(self) -> PetitionFilters:
        """The filters to apply; an invalid field is left out (the view answers 400)."""
        data: dict[str, Any] = getattr(self, "cleaned_data", {})
        sort = data.get("sort", "")
        if sort == Sort.RELEVANCE and not data.get("q"):
            sort = ""
        return PetitionFilters(
            q=data.get("q", ""),
            state=data.get("state", ""),
            topic=data.get("topic", ""),
            region=self.region_found if data.get("region") else None,
            sort=sort,
        )
