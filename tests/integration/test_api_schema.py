"""A property-based run of the open-data API against its own OpenAPI schema (schemathesis).

schemathesis reads /api/schema/ from the application, then, for every operation, sends
generated requests (valid parameters and, in the negative phase, invalid ones) through the
WSGI application with seeded data, and checks every answer: no server error, a status code
and a body the schema documents, a 4xx for data the schema forbids. Needs no outside
service, so it runs everywhere, CI included; the number of examples is bounded so the run
takes well under two minutes.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.api.data import seed_open_data

MAX_EXAMPLES = 100
# Filters that name a row (a topic, a department, a region) answer 400 for a name that does
# not exist, which no schema can express: generated names are swapped for real ones.
KNOWN = {
    "topic": ["environment", "transport"],
    "department": ["ecology", "transport"],
    "region": ["fr-departement:75", "fr-region:11"],
}


# Served by the application itself (generating it reads no data, so no database is needed
# at collection time).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _seeded(db, settings):
    settings.AGORA_API_RATE = ""  # the run sends thousands of requests from one address
    seed_open_data()
    # The WSGI handler closes the database connection at the end of each request, which
    # would end the test's transaction; Django's own test client unhooks it the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_schema(case):
    for name, values in KNOWN.items():
        if case.query and case.query.get(name):
            case.query[name] = values[len(str(case.query[name])) % len(values)]
    case.call_and_validate()
