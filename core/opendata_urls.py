"""Bulk open-data files (/data/) and the page that describes them (/open-data/)."""

from django.urls import URLPattern, URLResolver, path

from core.opendata import views

app_name = "opendata"

urlpatterns: list[URLPattern | URLResolver] = [
    path("open-data/", views.page, name="page"),
    path("data/", views.index, name="index"),
    path("data/manifest.json", views.manifest_file, name="manifest"),
    path("data/<str:name>", views.data_file, name="file"),
    path("data/<path:rest>", views.not_found, name="not-found"),
]
