import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casehub.dates import TypedDateFromToRangeFilter
from submissions.models import Branch, Case, Theme


def _submitted_range_widget():
    """The from and to boxes, each with its own name for screen readers: the
    pair's one label belongs to neither box."""
    widget = django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    names = (_("Submitted from"), _("Submitted until"))
    for box, name in zip(widget.widgets, names, strict=True):
        box.attrs["aria-label"] = name
    return widget


class ReviewQueueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    branch = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        queryset=Branch.objects.filter(is_active=True),
        empty_label=_("All organisations"),
    )
    theme = django_filters.ModelChoiceFilter(
        label=_("Theme"),
        field_name="themes",
        queryset=Theme.objects.all(),
        empty_label=_("All themes"),
    )
    submitted = TypedDateFromToRangeFilter(
        label=_("Submitted between"),
        field_name="submitted_at",
        widget=_submitted_range_widget(),
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue only"),
        method="only_overdue",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = Case
        fields = ["q", "branch", "theme", "submitted", "overdue"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value) | Q(branch__name__icontains=value)
        )

    def only_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.overdue()
