"""The counting under concurrency, on PostgreSQL: many threads confirming at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from core.models import AuditEvent
from petitions.identity import normalise_email
from petitions.models import Petition, Signature
from petitions.services.counting import count_signatures
from petitions.services.signing import SignatureDetails, confirm_signature, sign_petition
from tests.conftest import require
from tests.petitions.conftest import make_petition

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SIGNERS = 400
THREADS = 8


@pytest.fixture(autouse=True)
def _postgres():
    require(connection.vendor == "postgresql", "needs PostgreSQL (DATABASE_URL=postgres://...)")


def _in_thread(function, *args):
    try:
        return function(*args)
    finally:
        connections.close_all()  # each thread opened its own connection


def test_many_threads_confirming_while_counting_leave_exact_counts_and_one_claim():
    petition = make_petition(response_threshold=SIGNERS // 2, consideration_threshold=SIGNERS * 10)
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            name=f"S{n}",
            email=f"s{n}@example.org",
            email_normalised=f"s{n}@example.org",
            country="FR",
            postcode="75011",
            language="fr",
            token=f"token-{n}",
        )
        for n in range(SIGNERS)
    )
    tokens = [f"token-{n}" for n in range(SIGNERS)]
    done = threading.Event()
    passes: list[int | None] = []

    def keep_counting():
        while not done.is_set():
            passes.append(count_signatures(batch=37))

    with ThreadPoolExecutor(max_workers=THREADS + 2) as pool:
        counters = [pool.submit(_in_thread, keep_counting) for _ in range(2)]
        confirmations = [pool.submit(_in_thread, confirm_signature, t) for t in tokens]
        for future in confirmations:
            future.result()
        done.set()
        for future in counters:
            future.result()
    count_signatures()

    petition.refresh_from_db()
    confirmed = Signature.objects.filter(petition=petition, state="confirmed").count()
    assert confirmed == SIGNERS
    assert petition.signature_count == SIGNERS
    assert not Signature.objects.filter(state="confirmed", counted=False).exists()
    assert petition.response_state == Petition.ResponseState.AWAITING
    claims = AuditEvent.objects.filter(action="petition.response_threshold_reached")
    assert claims.count() == 1
    assert None in passes or len(passes) > 0  # the two counters took turns on the lock


def test_the_same_address_signing_from_many_threads_at_once_makes_one_signature():
    petition = make_petition()
    details = SignatureDetails(
        name="Racer", email="Race.r+1@gmail.com", country="FR", postcode="75011", language="fr"
    )
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(
            pool.map(lambda _: _in_thread(sign_petition, petition, details), range(THREADS * 2))
        )
    assert (
        Signature.objects.filter(email_normalised=normalise_email("racer@gmail.com")).count() == 1
    )
    assert len(outcomes) == THREADS * 2
