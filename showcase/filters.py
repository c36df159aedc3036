import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from submissions.models import Branch, Theme

from .models import Issue

FIRST_YEAR = 2020


def _years():
    return [
        (year, str(year))
        for year in range(timezone.localdate().year, FIRST_YEAR - 1, -1)
    ]


class SeriesIssueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    year = django_filters.ChoiceFilter(
        label=_("Year"),
        field_name="published_at__year",
        choices=_years,
        empty_label=_("All years"),
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        field_name="entries__case__branch",
        queryset=Branch.objects.filter(is_active=True),
        empty_label=_("All organisations"),
        distinct=True,
    )
    theme = django_filters.ModelChoiceFilter(
        label=_("Theme"),
        field_name="entries__case__themes",
        queryset=Theme.objects.filter(is_active=True),
        empty_label=_("All themes"),
        distinct=True,
    )

    class Meta:
        model = Issue
        fields = ["q", "year", "branch", "theme"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(entries__case__title__icontains=value)
            | Q(entries__case__lead__icontains=value)
        ).distinct()
