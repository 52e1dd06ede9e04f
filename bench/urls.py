"""The site's URLs, plus the baseline endpoint the signing benchmark compares against."""

from django.urls import include, path

from bench.baseline import views as baseline
from config.urls import handler500  # noqa: F401 - the same error page as the site

urlpatterns = [
    path("bench/insert/", baseline.insert, name="bench-insert"),
    path("", include("config.urls")),
]
