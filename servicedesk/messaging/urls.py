from django.urls import path

from . import views

app_name = "messaging"

urlpatterns = [
    path("wechat/<int:account_id>/", views.wechat_callback, name="wechat_callback"),
]
