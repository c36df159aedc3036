"""Rebuild the site search from what the site shows: after an import that
bypassed the services, or after organisations or series were renamed."""

from django.core.management.base import BaseCommand

from showcase.search import search_reindex


class Command(BaseCommand):
    help = "Rebuild the search index of the published cases."

    def handle(self, *args, **options):
        written = search_reindex()
        self.stdout.write(f"search index: {written} published cases")
