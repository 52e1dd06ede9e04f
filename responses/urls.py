from django.urls import path

from responses.views import public

app_name = "responses"

urlpatterns = [
    path("responses/<int:pk>/", public.response_detail, name="detail"),
    path("responses/unsubscribe/<str:token>/", public.unsubscribe, name="unsubscribe"),
    path("stats/", public.stats, name="stats"),
    path("departments/", public.department_list, name="departments"),
    path("departments/<slug:slug>/", public.department_detail, name="department"),
]
