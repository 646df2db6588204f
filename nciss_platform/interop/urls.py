from django.urls import path

from nciss_platform.interop import views

app_name = "interop"
urlpatterns = [
    path("import/", views.import_page, name="import"),
    path("export/", views.export, name="export"),
]
