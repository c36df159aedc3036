from django.contrib.sitemaps import Sitemap

from submissions.models import Case

from .models import Issue, IssueCase, Series


class SeriesSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Series.objects.filter(is_active=True).order_by("pk")


class IssueSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return (
            Issue.objects.filter(status=Issue.Status.PUBLISHED, series__is_active=True)
            .select_related("series")
            .order_by("pk")
        )

    def lastmod(self, issue):
        return issue.updated_at


class CaseSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return (
            IssueCase.objects.filter(
                issue__status=Issue.Status.PUBLISHED,
                issue__series__is_active=True,
                case__status=Case.Status.PUBLISHED,
            )
            .select_related("case")
            .order_by("case_id")
        )

    def location(self, entry):
        return entry.case_url

    def lastmod(self, entry):
        return entry.case.published_at


SITEMAPS = {"series": SeriesSitemap, "issues": IssueSitemap, "cases": CaseSitemap}
