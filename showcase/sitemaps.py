from django.contrib.sitemaps import Sitemap

from casehub.links import site_domain, site_scheme
from submissions.models import Case

from .models import Issue, IssueCase, Series


class SiteSitemap(Sitemap):
    """Addresses at SITE_URL: Django's sitemap takes the request's host and
    scheme otherwise."""

    def get_protocol(self, protocol=None):
        return site_scheme()

    def get_domain(self, site=None):
        return site_domain()


class SeriesSitemap(SiteSitemap):
    changefreq = "weekly"

    def items(self):
        return Series.objects.filter(is_active=True).order_by("pk")


class IssueSitemap(SiteSitemap):
    changefreq = "monthly"

    def items(self):
        return (
            Issue.objects.filter(status=Issue.Status.PUBLISHED, series__is_active=True)
            .select_related("series")
            .order_by("pk")
        )

    def lastmod(self, issue):
        return issue.updated_at


class CaseSitemap(SiteSitemap):
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
