"""Fixtures for the open-data API tests."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.data import OpenData, seed_open_data


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def data(db) -> OpenData:
    return seed_open_data()
