"""Admin pieces every app's admin uses."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters

from .dates import EARLIEST, latest_date, out_of_range_message


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records only the workflow writes: admins look, they do not edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DateHierarchyInCalendarMixin:
    """For a ModelAdmin with `date_hierarchy`: a year in the URL outside the
    range is refused like any wrong filter (Django's own code takes the year
    after it, which does not exist after 9999)."""

    def get_changelist_instance(self, request):
        if self.date_hierarchy:
            year = request.GET.get(f"{self.date_hierarchy}__year")
            if year is not None:
                try:
                    in_range = EARLIEST.year <= int(year) <= latest_date().year
                except ValueError:
                    in_range = False
                if not in_range:
                    raise IncorrectLookupParameters(out_of_range_message())
        return super().get_changelist_instance(request)
