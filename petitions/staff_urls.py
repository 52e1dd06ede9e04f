from django.urls import path

from petitions.views import moderation

app_name = "moderation"

urlpatterns = [
    path("", moderation.queue, name="queue"),
    path("petitions/<int:pk>/", moderation.review, name="review"),
    path("petitions/<int:pk>/approve/", moderation.approve, name="approve"),
    path("petitions/<int:pk>/reject/", moderation.reject, name="reject"),
    path("petitions/<int:pk>/hide/", moderation.hide, name="hide"),
    path("petitions/<int:pk>/restore/", moderation.restore, name="restore"),
    path("petitions/<int:pk>/remove/", moderation.remove, name="remove"),
    path("signing/", moderation.signing_switch, name="signing"),
]
