from django.urls import path

from petitions.views import creation, public

app_name = "petitions"

urlpatterns = [
    path("", public.petition_list, name="list"),
    path("new/", creation.create_petition, name="create"),
    path("mine/", creation.my_petitions, name="mine"),
    path("<int:pk>/", public.petition_detail, name="detail"),
    path("<int:pk>/sign/", public.sign, name="sign"),
    path("<int:pk>/signed/", public.signed, name="signed"),
    path("<int:pk>/count.json", public.count_json, name="count"),
    path("support/<str:token>/", public.support, name="support"),
    path("signatures/<str:token>/confirm/", public.confirm, name="confirm"),
    path("signatures/<str:token>/withdraw/", public.withdraw, name="withdraw"),
]
