from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.html import linebreaks
from django.utils.translation import gettext as _

from casehub.links import absolute_url
from casehub.text import xml_fit
from submissions.models import Case

from .models import Issue, IssueCase
from .selectors import series_get


def _xml_fit(value):
    if isinstance(value, str):
        return xml_fit(value)
    if isinstance(value, list | tuple):
        return [_xml_fit(part) for part in value]
    return value


class XmlFitRssFeed(Rss201rev2Feed):
    """RSS that leaves out characters XML cannot carry instead of failing.

    A control character typed into one case would otherwise break the whole
    feed for every reader.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.feed = {name: _xml_fit(value) for name, value in self.feed.items()}

    def add_item(self, *args, **kwargs):
        super().add_item(*args, **kwargs)
        item = self.items[-1]
        self.items[-1] = {name: _xml_fit(value) for name, value in item.items()}


class SeriesFeed(Feed):
    """RSS of the latest published cases of a series.

    Every link is absolute at SITE_URL: Django would otherwise complete them
    with the host the request named.
    """

    feed_type = XmlFitRssFeed

    def get_object(self, request, slug):
        return series_get(slug=slug)

    def title(self, series):
        return series.title

    def link(self, series):
        return absolute_url(series.get_absolute_url())

    def feed_url(self, series):
        return absolute_url(reverse("showcase:feed", args=[series.slug]))

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
        # Feed readers show the description as HTML; the lead is plain text.
        return linebreaks(entry.case.lead, autoescape=True)

    def item_link(self, entry):
        return absolute_url(entry.case_url)

    # The guid is left to Django: the item's absolute link, the permalink RSS
    # asks for.
    item_guid_is_permalink = True

    def item_pubdate(self, entry):
        return entry.issue.published_at

    def item_author_name(self, entry):
        return entry.case.branch.name

    def item_categories(self, entry):
        return [entry.issue.series.name]
