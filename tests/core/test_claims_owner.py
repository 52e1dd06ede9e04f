"""Claims name their worker; a worker starting again frees what its previous life held."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest

from core import claims
from petitions.models import Signature
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db


def due_signatures(count: int) -> list[Signature]:
    petition = make_petition()
    rows = [make_signature(petition, f"s{n}@example.org") for n in range(count)]
    Signature.objects.filter(pk__in=[row.pk for row in rows]).update(email_due="confirmation")
    return rows


def claim(owner: str, size: int) -> list[Signature]:
    with mock.patch.object(claims, "claim_owner", return_value=owner):
        return claims.claim_rows(
            Signature.objects.exclude(email_due=""),
            size=size,
            lease=timedelta(minutes=5),
            token_field="email_claim_token",
            until_field="email_claimed_until",
        )


def test_a_claim_made_in_a_worker_carries_the_worker_name():
    due_signatures(1)
    (row,) = claim("mail@host-a", 1)
    assert row.email_claim_token.startswith("mail@host-a/")


def test_outside_a_worker_the_claim_is_a_bare_token():
    due_signatures(1)
    assert claims.claim_owner() == ""
    (row,) = claim("", 1)
    assert "/" not in row.email_claim_token
    assert len(row.email_claim_token) == 32


def test_a_restarted_worker_frees_only_its_own_previous_claims():
    rows = due_signatures(5)
    mine, theirs = claim("mail@host-a", 2), claim("mail@host-b", 2)
    assert claims.release_claims_of("mail@host-a") == 2
    taken = claim("mail@host-c", 5)  # the two freed rows and the one nobody had claimed
    never_claimed = {row.pk for row in rows} - {row.pk for row in mine + theirs}
    assert {row.pk for row in taken} == {row.pk for row in mine} | never_claimed
    held = dict(Signature.objects.values_list("pk", "email_claim_token"))
    assert all(held[row.pk].startswith("mail@host-b/") for row in theirs)


def test_a_worker_without_a_name_frees_nothing():
    due_signatures(1)
    claim("mail@host-a", 1)
    assert claims.release_claims_of("") == 0


def test_a_worker_that_becomes_ready_frees_the_claims_of_its_previous_life():
    from types import SimpleNamespace

    from config.celery import release_claims_of_previous_life

    due_signatures(2)
    claim("mail@host-a", 2)
    release_claims_of_previous_life(sender=SimpleNamespace(hostname="mail@host-a"))
    assert not Signature.objects.exclude(email_claim_token="").exists()
