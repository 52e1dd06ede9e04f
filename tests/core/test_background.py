import pytest
from django.db import transaction

from core.background import enqueue_on_commit
from core.tasks import HEARTBEAT_KEY, heartbeat


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_in_a_rolled_back_transaction_never_runs():
    from django.core.cache import cache

    cache.delete(HEARTBEAT_KEY)

    def change_then_fail():
        with transaction.atomic():
            enqueue_on_commit(heartbeat)
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    assert cache.get(HEARTBEAT_KEY) is None


@pytest.mark.django_db(transaction=True)
def test_a_task_enqueued_in_a_committed_transaction_runs_after_the_commit():
    from django.core.cache import cache

    cache.delete(HEARTBEAT_KEY)
    with transaction.atomic():
        enqueue_on_commit(heartbeat)
        assert cache.get(HEARTBEAT_KEY) is None  # not yet: still inside the transaction
    assert cache.get(HEARTBEAT_KEY) is not None


@pytest.mark.django_db
def test_a_broker_failure_after_commit_is_logged_not_raised(
    caplog, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(heartbeat, "apply_async", broken)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(heartbeat)
    assert "Could not enqueue core.tasks.heartbeat" in caplog.text
