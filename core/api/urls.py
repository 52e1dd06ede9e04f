"""The open-data API: /api/v1/, its OpenAPI schema and its documentation page."""

from django.urls import URLPattern, URLResolver, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api.views import UnknownEndpoint
from petitions.api import views as petitions
from responses.api import views as responses

app_name = "api"

urlpatterns: list[URLPattern | URLResolver] = [
    path("v1/petitions/", petitions.PetitionList.as_view(), name="petition-list"),
    path("v1/petitions/<int:pk>/", petitions.PetitionDetail.as_view(), name="petition-detail"),
    path("v1/topics/", petitions.TopicList.as_view(), name="topic-list"),
    path("v1/topics/<slug:slug>/", petitions.TopicDetail.as_view(), name="topic-detail"),
    path("v1/regions/", petitions.RegionList.as_view(), name="region-list"),
    path("v1/regions/<int:pk>/", petitions.RegionDetail.as_view(), name="region-detail"),
    path("v1/responses/", responses.ResponseList.as_view(), name="response-list"),
    path("v1/responses/<int:pk>/", responses.ResponseDetail.as_view(), name="response-detail"),
    path("v1/departments/", responses.DepartmentList.as_view(), name="department-list"),
    path(
        "v1/departments/<slug:slug>/",
        responses.DepartmentDetail.as_view(),
        name="department-detail",
    ),
    path("v1/statistics/", responses.Statistics.as_view(), name="statistics"),
    # Any other address under v1/ is a JSON 404, not the site's HTML page.
    re_path(r"^v1/", UnknownEndpoint.as_view(), name="unknown"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
