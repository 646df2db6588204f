"""The Django admin for organisations, users and sign-in attempts: administrators only.

Changes go through ``accounts.services`` (validation, ``is_staff`` following the role, an audit
event); nothing is ever deleted here: users are deactivated instead.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from nciss_platform.accounts import services
from nciss_platform.accounts.access import is_administrator
from nciss_platform.accounts.models import LoginAttempt, NetworkAsset, Organisation, User


class AdministratorsOnly:
    """Administrators (and superusers) may view, add and change; nobody deletes."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrganisationForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Organisation
        fields = services.ORGANISATION_FIELDS

    def clean_country(self) -> str:
        country = self.cleaned_data["country"]
        reason = services.country_error(country)
        if reason:
            raise ValidationError(reason)
        return str(country)

    def clean_reporting_calendar(self) -> Any:
        calendar = self.cleaned_data["reporting_calendar"]
        reason = services.calendar_error(calendar)
        if reason:
            raise ValidationError(reason)
        return calendar

    def clean_preferred_scale(self) -> str:
        scale_id = self.cleaned_data["preferred_scale"]
        reason = services.scale_error(scale_id)
        if reason:
            raise ValidationError(reason)
        return str(scale_id)


class NetworkAssetInline(AdministratorsOnly, admin.TabularInline):  # type: ignore[type-arg]
    """The organisation's IP prefixes, AS numbers and domains, read-only: ``nciss constituency`` changes them."""

    model = NetworkAsset
    fields = ["kind", "value", "note", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(AdministratorsOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    form = OrganisationForm
    inlines = [NetworkAssetInline]
    list_display = ["name", "slug", "kind", "sector", "criticality", "country"]
    list_filter = ["kind", "sector", "criticality", "country"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        """The assets only on an existing organisation (a new one has none)."""
        return super().get_inline_instances(request, obj) if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Organisation, form: forms.ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        fields = {f: form.cleaned_data[f] for f in services.ORGANISATION_FIELDS}
        if change:
            current = Organisation.objects.get(pk=obj.pk)
            services.update_organisation(actor=request.user, organisation=current, **fields)  # type: ignore[arg-type]
        else:
            fields["reporting_calendar"] = fields["reporting_calendar"] or {}
            created = services.create_organisation(actor=request.user, **fields)  # type: ignore[arg-type]
            obj.pk = created.pk


class UserAddForm(forms.ModelForm):  # type: ignore[type-arg]
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )

    class Meta:
        model = User
        fields = ["username", "role", "organisation", "email", "first_name", "last_name", "language"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("password"):
            candidate = User(**{f: cleaned.get(f) for f in self.Meta.fields})
            try:
                password_validation.validate_password(cleaned["password"], candidate)
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class UserChangeForm(forms.ModelForm):  # type: ignore[type-arg]
    new_password = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = User
        fields = list(services.USER_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("new_password"):
            try:
                password_validation.validate_password(cleaned["new_password"], self.instance)
            except ValidationError as exc:
                self.add_error("new_password", exc)
        return cleaned


@admin.register(User)
class UserAdmin(AdministratorsOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["username", "full_name", "role", "organisation", "is_active", "totp_confirmed", "last_login"]
    list_filter = ["role", "is_active", "totp_confirmed", "organisation"]
    search_fields = ["username", "first_name", "last_name", "email"]
    readonly_fields = ["username", "is_active", "is_staff", "totp_confirmed", "last_login", "date_joined"]
    actions = ["reset_two_factor", "deactivate", "reactivate"]

    @admin.display(description=_("Name"))
    def full_name(self, obj: User) -> str:
        return obj.get_full_name()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = UserChangeForm if obj is not None else UserAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return [*UserAddForm.Meta.fields, "password"]
        return ["username", *services.USER_FIELDS, "new_password", *self.readonly_fields[1:]]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:  # type: ignore[type-arg]
        actor: User = request.user  # type: ignore[assignment]
        if change:
            current = User.objects.get(pk=obj.pk)
            services.update_user(actor=actor, user=current, **{f: form.cleaned_data[f] for f in services.USER_FIELDS})
            if form.cleaned_data.get("new_password"):
                services.set_password(actor=actor, user=current, password=form.cleaned_data["new_password"])
        else:
            created = services.create_user(
                actor=actor,
                password=form.cleaned_data["password"],
                **{f: form.cleaned_data[f] for f in UserAddForm.Meta.fields},
            )
            obj.pk = created.pk

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:  # type: ignore[type-arg]
        """Nothing related is edited here (no groups or permissions: roles decide)."""

    @admin.action(description=_("Reset two-factor authentication (they set it up again at their next sign-in)"))
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.reset_totp(actor=request.user, user=user)  # type: ignore[arg-type]
        self.message_user(request, _("Two-factor authentication reset for %(count)d users.") % {"count": len(queryset)})

    @admin.action(description=_("Deactivate (they can no longer sign in)"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(request, queryset, services.deactivate_user)

    @admin.action(description=_("Reactivate"))
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._each(request, queryset, services.reactivate_user)

    def _each(self, request: HttpRequest, queryset: QuerySet[User], service: Any) -> None:
        done = 0
        for user in queryset:
            try:
                service(actor=request.user, user=user)
            except services.NotAllowed as exc:
                self.message_user(request, f"{user.username}: {exc}", level=messages.ERROR)
            else:
                done += 1
        self.message_user(request, _("%(count)d users changed.") % {"count": done})


@admin.register(LoginAttempt)
class LoginAttemptAdmin(AdministratorsOnly, admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the sign-in history of the last 30 days, to see who is locked out and why."""

    list_display = ["at", "username", "ip", "stage", "succeeded"]
    list_filter = ["succeeded", "stage"]
    search_fields = ["username", "ip"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
