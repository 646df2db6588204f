from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "nciss_platform.accounts"
    label = "accounts"
    verbose_name = "Organisations and users"
