"""Read-only composites of the public site (petitions/selectors.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation

from core.audit import record_event
from petitions import selectors
from petitions.models import HourlyCount, Petition, RegionCount
from petitions.selectors import PetitionFilters, Sort
from tests.conftest import require
from tests.factories import UserFactory
from tests.petitions.factories import (
    CountryFactory,
    PetitionFactory,
    RegionFactory,
    SignatureFactory,
)

pytestmark = pytest.mark.django_db


def test_recent_signatures_sum_only_the_last_24_hours():
    now = timezone.now()
    petition = PetitionFactory()
    HourlyCount.objects.create(petition=petition, hour=now - timedelta(hours=1), count=3)
    HourlyCount.objects.create(petition=petition, hour=now - timedelta(hours=23), count=4)
    HourlyCount.objects.create(petition=petition, hour=now - timedelta(hours=25), count=100)
    quiet = PetitionFactory()
    rows = dict(
        selectors.with_recent_signatures(Petition.objects.all()).values_list(
            "pk", "recent_signatures"
        )
    )
    assert rows == {petition.pk: 7, quiet.pk: 0}


def test_the_trending_sort_puts_the_fastest_growing_first():
    now = timezone.now()
    old_favourite = PetitionFactory(signature_count=10_000)
    newcomer = PetitionFactory(signature_count=100)
    HourlyCount.objects.create(petition=newcomer, hour=now - timedelta(hours=2), count=90)
    HourlyCount.objects.create(petition=old_favourite, hour=now - timedelta(hours=2), count=5)
    ordered = list(selectors.public_petitions(PetitionFilters(sort=Sort.TRENDING)))
    assert ordered == [newcomer, old_favourite]


def test_search_ranks_title_matches_before_summary_matches():
    in_summary = PetitionFactory(title="Cleaner air", summary="More trees in every street.")
    in_title = PetitionFactory(title="More trees in parks", summary="Shade for all.")
    PetitionFactory(title="Lower taxes", summary="Pay less.")
    found = list(selectors.public_petitions(PetitionFilters(q="trees")))
    assert set(found) == {in_summary, in_title}
    if connection.vendor == "postgresql":
        assert found == [in_title, in_summary]  # weight A before weight B


def test_search_matches_each_petition_in_its_own_language():
    require(connection.vendor == "postgresql", "full-text search needs PostgreSQL")
    french = PetitionFactory(title="Des hôpitaux mieux équipés", language="fr")
    english = PetitionFactory(title="Better equipped hospitals", language="en")
    assert list(selectors.public_petitions(PetitionFilters(q="hôpital"))) == [french]
    assert list(selectors.public_petitions(PetitionFilters(q="hospital"))) == [english]
    # websearch syntax: quoted phrases and exclusions
    assert list(selectors.public_petitions(PetitionFilters(q='"equipped hospitals"'))) == [english]
    assert not list(selectors.public_petitions(PetitionFilters(q="hospitals -equipped")))


@pytest.mark.postgres
def test_the_search_uses_the_stored_document_and_its_gin_index():
    require(connection.vendor == "postgresql", "the search indexes exist on PostgreSQL only")
    Petition.objects.bulk_create(
        Petition(
            title=f"Petition {n}",
            summary="Des hôpitaux" if n % 50 == 0 else "Autre chose",
            language="fr" if n % 2 else "en",
            creator_name="x",
            state=Petition.State.OPEN,
        )
        for n in range(400)
    )
    queryset = selectors.search(Petition.objects.all(), "hôpital")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE petitions_petition")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "petition_search" in plan, plan
    assert "to_tsvector" not in plan  # ranked from the stored document, not parsed again


def test_find_region_accepts_kind_and_code_a_bare_code_or_an_id():
    departement = RegionFactory(kind="fr-departement", code="11", name="Aude")
    region = RegionFactory(kind="fr-region", code="11", name="Île-de-France")
    assert selectors.find_region("fr-region:11") == region
    assert selectors.find_region("11") == departement  # départements first
    assert selectors.find_region(str(region.pk)) == region
    assert selectors.find_region("fr-departement:99") is None
    assert selectors.find_region("country:FR") is None  # not a kind the list offers


@translation.override("en")
def test_region_choices_are_grouped_by_kind_and_sorted_by_name():
    RegionFactory(kind="fr-departement", code="02", name="Aisne")
    RegionFactory(kind="fr-departement", code="01", name="Ain")
    RegionFactory(kind="us-state", code="AK", name="Alaska", country=CountryFactory(code="US"))
    choices = selectors.region_choices()
    assert [label for label, _ in choices] == ["French départements", "US states"]
    assert choices[0][1] == [("fr-departement:01", "Ain"), ("fr-departement:02", "Aisne")]


def test_country_choices_sort_accented_names_by_their_letters():
    CountryFactory(code="EG", name_en="Egypt", name_fr="Égypte")
    CountryFactory(code="FR", name_en="France", name_fr="France")
    CountryFactory(code="ES", name_en="Spain", name_fr="Espagne")
    with translation.override("fr"):
        assert [name for _, name in selectors.country_choices()] == ["Égypte", "Espagne", "France"]
    with translation.override("en"):
        assert [name for _, name in selectors.country_choices()] == ["Egypt", "France", "Spain"]


def test_signatures_by_region_give_counts_and_rates_per_kind():
    petition = PetitionFactory()
    big = RegionFactory(code="75", name="Paris", population=2_000_000)
    small = RegionFactory(code="48", name="Lozère", population=76_000)
    unknown = RegionFactory(code="99", name="Nowhere", population=None)
    RegionCount.objects.create(petition=petition, region=big, count=200)
    RegionCount.objects.create(petition=petition, region=small, count=38)
    RegionCount.objects.create(petition=petition, region=unknown, count=1)
    (table,) = selectors.signatures_by_region(petition)
    assert table.kind == "fr-departement"
    assert [(row.name, row.count) for row in table.rows] == [
        ("Paris", 200),
        ("Lozère", 38),
        ("Nowhere", 1),
    ]
    assert table.rows[0].per_100k == pytest.approx(10.0)
    assert table.rows[1].per_100k == pytest.approx(50.0)
    assert table.rows[2].per_100k is None
    assert [row.name for row in table.top_per_100k()] == ["Lozère", "Paris"]


def test_signatures_per_day_add_up_the_hours_and_keep_a_running_total():
    petition = PetitionFactory()
    day = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=3)
    HourlyCount.objects.create(petition=petition, hour=day, count=2)
    HourlyCount.objects.create(petition=petition, hour=day + timedelta(hours=1), count=3)
    HourlyCount.objects.create(petition=petition, hour=day + timedelta(days=2), count=4)
    HourlyCount.objects.create(petition=petition, hour=day + timedelta(days=3), count=0)
    days = selectors.signatures_per_day(petition)
    assert [(d.count, d.total) for d in days] == [(5, 5), (4, 9)]
    assert days[1].day - days[0].day == timedelta(days=2)


def test_public_history_leaves_out_private_events():
    petition = PetitionFactory()
    record_event("petition.created", target=petition)
    record_event("petition.sent_to_moderation", target=petition)
    record_event("petition.opened", target=petition)
    record_event("petition.recounted", target=petition, data={"stored": 1, "actual": 2})
    record_event("petition.closed", target=petition)
    assert [entry.action for entry in selectors.public_history(petition)] == [
        "petition.opened",
        "petition.closed",
    ]


def test_home_sections_leave_out_empty_lists_and_closed_petitions():
    now = timezone.now()
    PetitionFactory(title="Closed", state=Petition.State.CLOSED, signature_count=9_999)
    open_petition = PetitionFactory(title="Open", signature_count=10)
    sections = {section.key: section for section in selectors.home_sections()}
    assert set(sections) == {"popular", "closing"}
    assert sections["popular"].petitions == [open_petition]
    assert sections["popular"].list_query == "state=open&sort=popular"
    HourlyCount.objects.create(petition=open_petition, hour=now - timedelta(hours=1), count=2)
    assert "trending" in {section.key for section in selectors.home_sections()}


def test_latest_signature_place_and_one_click_eligibility():
    user = UserFactory()
    assert selectors.latest_signature_place(user) is None
    SignatureFactory(user=user, country="US", postcode="20500")
    assert selectors.latest_signature_place(user) == ("US", "20500")
    assert selectors.can_sign_in_one_click(user)
    assert not selectors.can_sign_in_one_click(UserFactory(verified=False))


def test_count_payload_is_for_public_petitions_only():
    petition = PetitionFactory(signature_count=5)
    assert selectors.count_payload(petition.pk)["signature_count"] == 5
    draft = PetitionFactory(state=Petition.State.DRAFT)
    assert selectors.count_payload(draft.pk) is None
