"""What each kind of export contains: a title, the lines under it, the cases.

A kind is one function from an object id to an `ExportSource`, listed in
`SOURCES`; it raises `ExportSourceMissing` when there is nothing to export.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from campaigns.models import Campaign
from campaigns.selectors import campaign_published_cases
from showcase.models import Issue, IssueCase
from submissions.models import Case

from .models import ExportJob


class ExportSourceMissing(Exception):
    """The object is gone, or not published: there is nothing to export."""


@dataclass(frozen=True)
class ExportSource:
    title: str
    # The download's name without ".docx", e.g. 党建引领-第3期.
    file_stem: str
    cases: list[Case]
    heading_lines: tuple[str, ...] = ()
    # Sanitised HTML shown under the heading, e.g. the editor's note.
    note_html: str = ""
    note_label: str = ""
    url: str = ""


def issue_source(object_id: int) -> ExportSource:
    """A published issue: its cases in issue order, as the issue page has them."""
    issue = (
        Issue.objects.select_related("series")
        .filter(
            pk=object_id,
            status=Issue.Status.PUBLISHED,
            series__is_active=True,
        )
        .first()
    )
    if issue is None:
        raise ExportSourceMissing
    series = issue.series
    entries = (
        IssueCase.objects.filter(issue=issue, case__status=Case.Status.PUBLISHED)
        .select_related("case__branch", "case__views")
        .order_by("position", "pk")
    )
    published = timezone.localtime(issue.published_at)
    return ExportSource(
        title=str(issue),
        file_stem=_("%(series)s-No. %(number)d")
        % {"series": series.name, "number": issue.number},
        cases=[entry.case for entry in entries],
        heading_lines=(
            f"{series.column} › {series.name}",
            _("Published: %(time)s") % {"time": date_format(published, "Y-m-d H:i")},
        ),
        note_html=issue.note or series.editors_note,
        note_label=_("Editor's note"),
        url=issue.get_absolute_url(),
    )


def campaign_source(object_id: int) -> ExportSource:
    """A call for cases: its published cases, in the order they came out."""
    campaign = Campaign.objects.select_related("series").filter(pk=object_id).first()
    if campaign is None:
        raise ExportSourceMissing
    cases = list(campaign_published_cases(campaign=campaign).select_related("views"))
    if not cases:
        raise ExportSourceMissing
    return ExportSource(
        title=campaign.title,
        file_stem=campaign.title,
        cases=cases,
        heading_lines=(
            campaign.series.title,
            _("Call for cases: %(opens)s to %(closes)s")
            % {
                "opens": date_format(campaign.opens_on, "Y-m-d"),
                "closes": date_format(campaign.closes_on, "Y-m-d"),
            },
        ),
        # The description is plain text; the writer takes sanitised HTML.
        note_html=linebreaks(escape(campaign.description))
        if campaign.description.strip()
        else "",
        note_label=_("About this call"),
        url=campaign.get_absolute_url(),
    )


SOURCES: dict[str, Callable[[int], ExportSource]] = {
    ExportJob.Kind.ISSUE: issue_source,
    ExportJob.Kind.CAMPAIGN: campaign_source,
}


def source_get(*, kind: str, object_id: int) -> ExportSource:
    source = SOURCES.get(kind)
    if source is None:
        raise ExportSourceMissing
    return source(object_id)
