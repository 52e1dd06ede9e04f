from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEvent
from petitions.models import (
    Country,
    CountryCount,
    HourlyCount,
    Petition,
    PostcodePrefix,
    Region,
    RegionCount,
    Signature,
)
from petitions.services.counting import count_signatures, recount
from petitions.thresholds import TerritoryRule
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def places():
    france = Country.objects.create(code="FR", name_en="France", name_fr="France")
    idf = Region.objects.create(
        kind="fr-region", code="11", name="Île-de-France", country=france, population=12_000_000
    )
    paris = Region.objects.create(
        kind="fr-departement",
        code="75",
        name="Paris",
        country=france,
        parent=idf,
        population=2_100_000,
    )
    lyon = Region.objects.create(
        kind="fr-departement", code="69", name="Rhône", country=france, population=1_900_000
    )
    PostcodePrefix.objects.create(country=france, prefix="75", region=paris)
    return {"idf": idf, "paris": paris, "lyon": lyon}


def counts(petition):
    petition.refresh_from_db()
    return petition.signature_count


def test_confirmed_signatures_are_folded_into_every_count_once(petition, places):
    hour = datetime(2026, 11, 23, 10, 17, tzinfo=UTC)
    for n in range(3):
        make_signature(petition, f"p{n}@example.org", region=places["paris"], confirmed_at=hour)
    make_signature(petition, "us@example.org", country="US", confirmed_at=hour)
    make_signature(petition, "pending@example.org", state=Signature.State.PENDING)

    assert count_signatures() == 4
    assert count_signatures() == 0  # nothing new: nothing folded twice
    assert counts(petition) == 4
    assert dict(RegionCount.objects.values_list("region__code", "count")) == {"75": 3, "11": 3}
    assert dict(CountryCount.objects.values_list("country", "count")) == {"FR": 3, "US": 1}
    assert list(HourlyCount.objects.values_list("hour", "count")) == [
        (datetime(2026, 11, 23, 10, tzinfo=UTC), 4)
    ]
    assert not Signature.objects.filter(state="confirmed", counted=False).exists()


def test_a_withdrawn_signature_is_counted_off(petition, places):
    signature = make_signature(petition, "a@example.org", region=places["paris"])
    make_signature(petition, "b@example.org", region=places["paris"])
    count_signatures()
    Signature.objects.filter(pk=signature.pk).update(state=Signature.State.WITHDRAWN)
    count_signatures()
    assert counts(petition) == 1
    assert RegionCount.objects.get(region=places["paris"]).count == 1
    assert HourlyCount.objects.get().count == 1


def test_counting_updates_each_petition_row_once_per_pass_not_per_signature():
    petition = make_petition(response_threshold=1_000)
    for n in range(50):
        make_signature(petition, f"s{n}@example.org")
    with CaptureQueriesContext(connection) as queries:
        count_signatures()
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "petitions_petition"')]
    assert len(updates) == 1
    assert counts(petition) == 50


def test_counting_works_in_batches(petition):
    for n in range(7):
        make_signature(petition, f"s{n}@example.org")
    assert count_signatures(batch=3) == 7
    assert counts(petition) == 7


def test_crossing_the_response_threshold_is_claimed_once_with_an_event(
    django_capture_on_commit_callbacks,
):
    petition = make_petition(response_threshold=3, consideration_threshold=5)
    for n in range(3):
        make_signature(petition, f"s{n}@example.org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        count_signatures()
        count_signatures()
    petition.refresh_from_db()
    assert petition.response_state == Petition.ResponseState.AWAITING
    assert petition.response_threshold_reached_at is not None
    assert petition.consideration_threshold_reached_at is None
    assert AuditEvent.objects.filter(action="petition.response_threshold_reached").count() == 1
    assert len(callbacks) == 2  # the creator's email and route_petition, once


def test_the_consideration_threshold_waits_for_its_territory_condition(places):
    rule = TerritoryRule("fr-departement", min_regions=2, min_signatures=1).to_json()
    petition = make_petition(
        response_threshold=1, consideration_threshold=2, consideration_territory=rule
    )
    make_signature(petition, "a@example.org", region=places["paris"])
    make_signature(petition, "b@example.org", region=places["paris"])
    count_signatures()
    petition.refresh_from_db()
    assert petition.response_threshold_reached_at is not None
    assert petition.consideration_threshold_reached_at is None  # one département only
    make_signature(petition, "c@example.org", region=places["lyon"])
    count_signatures()
    petition.refresh_from_db()
    assert petition.consideration_state == Petition.ConsiderationState.AWAITING


def test_a_territory_rule_on_countries_uses_country_counts_and_populations():
    Country.objects.create(code="MT", name_en="Malta", name_fr="Malte", population=500_000)
    Country.objects.create(code="DE", name_en="Germany", name_fr="Allemagne", population=84_000_000)
    rule = TerritoryRule("country", min_regions=2, min_signatures=1, per_100k=True).to_json()
    petition = make_petition(response_threshold=6, response_territory=rule)
    for n in range(5):
        make_signature(petition, f"mt{n}@example.org", country="MT")
    make_signature(petition, "de@example.org", country="DE")
    count_signatures()
    petition.refresh_from_db()
    assert petition.response_threshold_reached_at is None  # 1 in Germany is not 1 per 100k


def test_the_nightly_recount_corrects_drift_and_logs_it(petition, places, caplog):
    for n in range(4):
        make_signature(petition, f"s{n}@example.org", region=places["paris"])
    count_signatures()
    Petition.objects.filter(pk=petition.pk).update(signature_count=99)
    RegionCount.objects.filter(region=places["paris"]).update(count=0)

    corrections = recount()

    assert corrections == [{"petition": petition.pk, "stored": 99, "actual": 4}]
    assert counts(petition) == 4
    assert RegionCount.objects.get(region=places["paris"]).count == 4
    assert AuditEvent.objects.filter(action="petition.recounted").count() == 1
    assert "Recount corrected" in caplog.text
    assert recount() == []  # nothing left to correct


@pytest.mark.django_db(transaction=True)
def test_counting_is_skipped_while_another_process_holds_the_lock():
    import threading

    from django.db import connections

    from core.locks import exclusive
    from petitions.services.counting import LOCK

    petition = make_petition()
    make_signature(petition, "a@example.org")
    held, release = threading.Event(), threading.Event()

    def hold_the_lock():  # another connection: a PostgreSQL session lock is per session
        with exclusive(LOCK) as acquired:
            assert acquired
            held.set()
            release.wait(10)
        connections.close_all()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    held.wait(10)
    try:
        assert count_signatures() is None
    finally:
        release.set()
        holder.join()
    assert count_signatures() == 1


def test_hourly_counts_follow_the_confirmation_time(petition):
    earlier = timezone.now() - timedelta(hours=5)
    make_signature(petition, "a@example.org", confirmed_at=earlier)
    make_signature(petition, "b@example.org")
    count_signatures()
    assert HourlyCount.objects.count() == 2
