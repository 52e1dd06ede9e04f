from django.urls import path

from core import views
from core.health import HealthView

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("pages/<slug:slug>/", views.page, name="page"),
    path("health/", HealthView.as_view(), name="health"),
]
