"""The open-data API: /api/v1/, its OpenAPI schema and its documentation page."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
