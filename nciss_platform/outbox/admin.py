"""The outbox in the Django admin: administrators read jobs and their delivery log; workers change them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from nciss_platform.accounts.access import is_administrator
from nciss_platform.outbox.models import Job, JobAttempt


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class JobAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = JobAttempt
    fields = ["number", "worker", "started_at", "finished_at", "outcome", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Job)
class JobAdmin(_ReadOnly):
    list_display = ["key", "kind", "state", "attempts", "run_after", "finished", "last_error"]
    list_filter = ["state"]
    search_fields = ["key"]
    show_full_result_count = False  # the table keeps every done job
    readonly_fields = [field.name for field in Job._meta.fields]
    inlines = [JobAttemptInline]
