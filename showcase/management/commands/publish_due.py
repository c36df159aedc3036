from django.core.management.base import BaseCommand

from showcase.services import issues_publish_due


class Command(BaseCommand):
    help = "Publish every planned issue whose time has come. Safe to run twice."

    def handle(self, *args, **options):
        published = issues_publish_due()
        for issue in published:
            self.stdout.write(f"published {issue}")
        self.stdout.write(f"{len(published)} issue(s) published")
