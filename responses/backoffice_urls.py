from django.urls import path

from responses.views import backoffice

app_name = "backoffice"

urlpatterns = [
    path("inbox/", backoffice.inbox, name="inbox"),
    path("notifications/", backoffice.notifications, name="notifications"),
    path("petitions/<int:pk>/", backoffice.workspace, name="workspace"),
    path("petitions/<int:pk>/notes/", backoffice.add_note, name="add_note"),
    path("petitions/<int:pk>/reroute/", backoffice.reroute, name="reroute"),
    path("petitions/<int:pk>/debate/", backoffice.debate, name="debate"),
    path("responses/new/", backoffice.response_create, name="response_create"),
    path("responses/<int:pk>/", backoffice.response_page, name="response"),
    path("responses/<int:pk>/edit/", backoffice.response_edit, name="response_edit"),
    path("responses/<int:pk>/submit/", backoffice.response_submit, name="response_submit"),
    path("responses/<int:pk>/approve/", backoffice.response_approve, name="response_approve"),
    path("responses/<int:pk>/send-back/", backoffice.response_send_back, name="response_send_back"),
    path("responses/<int:pk>/publish/", backoffice.response_publish, name="response_publish"),
    path("responses/<int:pk>/correct/", backoffice.response_correct, name="response_correct"),
    path("responses/<int:pk>/compare/", backoffice.response_compare, name="response_compare"),
    path("mailings/<int:pk>/", backoffice.mailing_progress, name="mailing"),
]
