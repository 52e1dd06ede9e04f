"""Gunicorn's settings for Agora's web process: deploy/agora-web.service and bench/ use them.

``gunicorn -c config/gunicorn.py``; options given on the command line override these. The
figures behind each choice are in docs/performance.md ("The web server's settings").
"""

import gc
import os

wsgi_app = "config.wsgi:application"
bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")

# Threads let a process overlap its waits on PostgreSQL and Redis; processes use the cores.
# About two processes per core; gunicorn reads WEB_CONCURRENCY itself too.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("WEB_THREADS", "4"))

# A worker accepts client connections (kept alive by the reverse proxy) up to this many, then
# leaves the next ones in the shared backlog for the other workers. Without a cap, whichever
# worker wins the accept race keeps its connections for good: at 64 connections on 4 workers
# the split was 9/18/18/19, and the connections of a crowded worker waited twice as long.
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS", str(4 * threads)))
backlog = 2048

timeout = 30
graceful_timeout = 30
# A worker is replaced after this many requests, a guard against slow leaks; rare enough
# that a surge does not spend its CPU starting Django again every few seconds.
max_requests = 100_000
max_requests_jitter = 10_000
# Nothing here drives gunicorn through its control socket, and its default path is one per
# user: two servers on one machine (a benchmark beside a test run) would share it.
control_socket_disable = True


def post_worker_init(worker: object) -> None:
    """Import the URLconf now, then freeze every object the worker has made so far.

    What Django builds at start (modules, URL patterns, settings, translations) lives as long
    as the process, yet the cyclic garbage collector would walk all of it at every full
    collection: a pause of tens of milliseconds for every request in the process at that
    moment. Frozen objects are never collected nor walked (Python's gc.freeze).
    """
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018 -- builds the patterns (imports every view)
    gc.collect()
    gc.freeze()
