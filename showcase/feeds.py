from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.translation import gettext as _

from submissions.models import Case

from .models import Issue, IssueCase
from .selectors import series_get


class SeriesFeed(Feed):
    """RSS of the latest published cases of a series."""

    feed_type = Rss201rev2Feed

    def get_object(self, request, slug):
        return series_get(slug=slug)

    def title(self, series):
        return series.title

    def link(self, series):
        return series.get_absolute_url()

    def description(self, series):
        return _("The latest issues of %(series)s") % {"series": series.title}

    def items(self, series):
        return (
            IssueCase.objects.filter(
                issue__series=series,
                issue__status=Issue.Status.PUBLISHED,
                case__status=Case.Status.PUBLISHED,
            )
            .select_related("case__branch", "issue__series")
            .order_by("-issue__number", "position")[:30]
        )

    def item_title(self, entry):
        return _("No. %(number)d · %(title)s") % {
            "number": entry.issue.number,
            "title": entry.case.title,
        }

    def item_description(self, entry):
        return entry.case.lead

    def item_link(self, entry):
        return entry.case_url

    def item_guid(self, entry):
        return entry.case_url

    item_guid_is_permalink = True

    def item_pubdate(self, entry):
        return entry.issue.published_at

    def item_author_name(self, entry):
        return entry.case.branch.name

    def item_categories(self, entry):
        return [entry.issue.series.name]
