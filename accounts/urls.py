from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account, name="account"),
    path("my-data/", views.export_data, name="export"),
    path("delete/", views.delete_account, name="delete"),
]
