"""The petition serializers write their fields directly, for speed; what they write must be
exactly what DRF's field-by-field walk over the declared fields would (the schema is made
from those declarations), in every time zone the site may run in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework import serializers

from petitions import selectors
from petitions.api.serializers import PetitionDetailSerializer, PetitionSerializer
from petitions.api.views import PetitionDetail, PetitionList, attach_detail, attach_relations
from petitions.models import HourlyCount
from responses.models import Response
from tests.api.data import OpenData


def declared(serializer: serializers.Serializer, instance) -> dict:
    return serializers.Serializer.to_representation(serializer, instance)


@pytest.mark.parametrize("zone", ["Europe/Paris", "UTC", "America/New_York"])
def test_the_list_rows_are_what_the_declared_fields_give(data: OpenData, zone):
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        petitions = list(PetitionList().get_queryset())
        assert len(petitions) == len(data.public)
        attach_relations(petitions)
        for petition in petitions:
            serializer = PetitionSerializer(petition)
            fast = serializer.to_representation(petition)
            assert fast == declared(serializer, petition)
            assert list(fast) == PetitionSerializer.Meta.fields


@pytest.mark.parametrize("zone", ["Europe/Paris", "UTC"])
def test_the_detail_is_what_the_declared_fields_give(data: OpenData, zone):
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        for petition in PetitionDetail().get_queryset():
            attach_detail(petition)
            serializer = PetitionDetailSerializer(petition)
            fast = serializer.to_representation(petition)
            assert fast == declared(serializer, petition)
            assert list(fast) == PetitionDetailSerializer.Meta.fields
    rich = next(p for p in PetitionDetail().get_queryset() if p.pk == data.open_petition.pk)
    attach_detail(rich)
    fast = PetitionDetailSerializer(rich).data
    # the seed gives the open petition every kind of row, so each list above was compared
    assert fast["assignments"]
    assert fast["signatures_by_region"]
    assert fast["signatures_by_country"]
    assert fast["signatures_per_day"]
    assert fast["topics"]


def test_the_attached_relations_are_the_topics_and_the_published_responses(data: OpenData):
    petitions = list(PetitionList().get_queryset())
    attach_relations(petitions)
    for petition in petitions:
        attached: Any = petition
        assert attached.topic_slugs == sorted(topic.slug for topic in petition.topics.all())
        published = petition.responses.filter(state=Response.State.PUBLISHED)
        assert attached.response_ids == list(
            published.order_by("published_at", "id").values_list("id", flat=True)
        )
    answered: Any = next(p for p in petitions if p.pk == data.open_petition.pk)
    assert answered.response_ids == [data.response.pk]  # the draft response is not listed
    assert answered.topic_slugs


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York"])
def test_days_are_counted_as_the_selector_counts_them(data: OpenData, zone):
    """selectors.signatures_per_day is one statement on PostgreSQL: same days, same totals."""
    petition = data.open_petition
    midnight = datetime(2026, 3, 29, tzinfo=UTC)  # a summer-time change in Paris
    for hours, count in ((-2, 5), (-1, 7), (0, 11), (1, 0), (23, 3), (30, -3), (31, 3)):
        HourlyCount.objects.create(
            petition=petition, hour=midnight + timedelta(hours=hours), count=count
        )
    with override_settings(TIME_ZONE=zone), timezone.override(zone):
        assert selectors.signatures_per_day(petition) == selectors.signatures_per_day_by_orm(
            petition
        )
        assert selectors.signatures_per_day(petition)  # something was compared
