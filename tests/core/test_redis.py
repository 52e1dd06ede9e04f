"""core.redis.run_script: a registered script over the thread's own connection."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from redis.exceptions import ResponseError

from core import redis
from tests.conftest import redis_commands, require

pytestmark = pytest.mark.redis

INCREMENT = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


@pytest.fixture
def client():
    require(bool(settings.REDIS_URL), "needs Redis (REDIS_URL=redis://...)")
    return redis.client()


def test_a_script_runs_in_one_command_once_the_connection_is_open(client):
    script = client.register_script(INCREMENT)
    assert redis.run_script(script, ["test:run"], [2]) == 2
    with redis_commands() as sent:
        assert redis.run_script(script, ["test:run"], [3]) == 5
    assert sent == ["EVALSHA"]


def test_a_script_redis_does_not_know_is_loaded_and_runs_once(client):
    script = client.register_script(f"{INCREMENT} -- {uuid.uuid4()}")  # never sent before
    assert redis.run_script(script, ["test:load"], [1]) == 1
    assert redis.run_script(script, ["test:load"], [1]) == 2
    assert int(client.get("test:load")) == 2


def test_a_connection_closed_by_the_server_is_replaced_and_counts_once(client):
    script = client.register_script(INCREMENT)
    assert redis.run_script(script, ["test:closed"], [1]) == 1
    own = redis._lane.connection
    own.send_command("CLIENT", "ID")
    client.client_kill_filter(_id=own.read_response())
    assert redis.run_script(script, ["test:closed"], [1]) == 2
    assert redis.run_script(script, ["test:closed"], [1]) == 3
    assert redis._lane.connection is not own


def test_the_scripts_own_error_is_raised_and_the_connection_kept(client):
    script = client.register_script(INCREMENT)
    client.set("test:text", "not a number")
    with pytest.raises(ResponseError):
        redis.run_script(script, ["test:text"], [1])
    own = redis._lane.connection
    assert redis.run_script(script, ["test:fine"], [1]) == 1
    assert redis._lane.connection is own
