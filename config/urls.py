"""Top-level URLs. Each app owns its own urls.py."""

from django.contrib import admin
from django.urls import include, path

handler500 = "core.views.server_error"

admin.site.site_header = "Agora"
admin.site.site_title = "Agora"

urlpatterns = [
    path("", include("core.urls")),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("petitions/", include("petitions.urls")),
    path("api/", include("core.api.urls")),  # /api/v1/, /api/schema/, /api/docs/
    path("api/wtp/v1/", include("petitions.api.wtp.urls")),  # We the People API v1
    path("", include("core.opendata_urls")),  # /data/ and the open-data page
    path("staff/admin/", admin.site.urls),
    path("staff/moderation/", include("petitions.staff_urls")),
    path("staff/webhooks/", include("core.webhooks.urls")),
    path("staff/", include("accounts.staff_urls")),
    path("staff/", include("responses.backoffice_urls")),
    path("", include("responses.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
