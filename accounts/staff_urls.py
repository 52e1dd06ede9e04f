from django.urls import path

from accounts import partner_views, views

app_name = "staff"

urlpatterns = [
    path("", views.staff_home, name="home"),
    path("partners/", partner_views.partner_list, name="partners"),
    path("partners/new/", partner_views.partner_issue, name="partner-issue"),
    path("partners/<int:pk>/", partner_views.partner_detail, name="partner"),
    path("partners/<int:pk>/rotate/", partner_views.partner_rotate, name="partner-rotate"),
    path("partners/<int:pk>/revoke/", partner_views.partner_revoke, name="partner-revoke"),
]
