"""One Redis client per process, for the few hot paths that talk to Redis directly.

Django's cache API costs a few Python layers per command, and creates a client object per
operation; the signing path's counters and latch need one round trip each and nothing
more. Without REDIS_URL (``make run``), ``client()`` is None and callers use Django's cache.
"""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Any

import redis
from django.conf import settings


@cache
def client() -> Any:
    url: str = settings.REDIS_URL
    if not url:
        return None
    return redis.Redis.from_url(url)  # thread-safe: a connection pool per process


class _Lane(threading.local):
    """This thread's own connection for ``run_script`` (and the process that opened it)."""

    connection: Any = None
    pid = 0


_lane = _Lane()


def run_script(script: Any, keys: list[str], args: list[Any]) -> Any:
    """``script(keys=keys, args=args)``, a registered Lua script, at a third of the cost.

    redis-py's client takes a connection from its pool, checks it, and wraps the command
    in retries and events for each call: twice the CPU of the round trip itself, on every
    signing request. Here each thread keeps a connection of its own (made from the same
    pool's settings) and sends EVALSHA on it. Anything unusual (a connection to open
    again, a server that does not know the script yet) goes through the script's own
    call, which loads the script and retries as redis-py does.
    """
    lane = _lane
    connection = lane.connection
    if connection is None or lane.pid != os.getpid():
        pool = script.registered_client.connection_pool
        connection = lane.connection = pool.connection_class(**pool.connection_kwargs)
        lane.pid = os.getpid()
    try:
        connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
        return connection.read_response()
    except redis.exceptions.NoScriptError:
        return script(keys=keys, args=args)
    except redis.exceptions.ResponseError:
        raise  # the script's own error, as redis-py reports it; the connection is fine
    except BaseException as error:
        lane.connection = None  # in an unknown state: the next call opens another
        connection.disconnect()
        if isinstance(error, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
            return script(keys=keys, args=args)  # with redis-py's own retries
        raise
