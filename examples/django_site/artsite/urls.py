"""URLs of the example art site."""

from django.urls import path

from artsite import views

urlpatterns = [
    path("", views.gallery),
    path("search", views.search),
    path("images/<int:artwork_id>/original", views.original),
    path("healthz", views.healthz),
]
