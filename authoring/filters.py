import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from submissions.models import Case, Theme


class MyCaseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Case.Status.choices, empty_label=_("All statuses")
    )
    theme = django_filters.ModelChoiceFilter(
        label=_("Theme"),
        field_name="themes",
        queryset=Theme.objects.all(),
        empty_label=_("All themes"),
    )

    class Meta:
        model = Case
        fields = ["q", "status", "theme"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(tagline__icontains=value)
            | Q(lead__icontains=value)
        )
