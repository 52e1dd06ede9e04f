"""Bulk open-data files (/data/) and the page that describes them."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
