"""We the People API v1 URLs (mounted at /api/wtp/v1/). Ids are matched loosely, so a
malformed one gets the enveloped 84 rather than the site's HTML 404."""

from django.urls import URLPattern, URLResolver, path, re_path

from petitions.api.wtp import views

app_name = "wtp"

urlpatterns: list[URLPattern | URLResolver] = [
    path("petitions.json", views.petitions, name="petitions"),
    re_path(r"^petitions/(?P<petition_id>[^/]+)\.json$", views.petition, name="petition"),
    re_path(
        r"^petitions/(?P<petition_id>[^/]+)/signatures\.json$",
        views.petition_signatures,
        name="petition-signatures",
    ),
    path("responses.json", views.responses, name="responses"),
    re_path(r"^responses/(?P<response_id>[^/]+)\.json$", views.response, name="response"),
    path("signatures.json", views.sign, name="sign"),
    path("validations.json", views.validations, name="validations"),
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not-found"),
]
