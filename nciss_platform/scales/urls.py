from django.urls import path

from nciss_platform.scales import views

app_name = "scales"
urlpatterns = [
    path("", views.calculator, name="calculator"),
    path("calculator/result", views.calculator_result, name="calculator-result"),
]
