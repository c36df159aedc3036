from django.core.management.base import BaseCommand

from showcase.services import issues_publish_due


class Command(BaseCommand):
    help = "Publish every planned issue whose time has come. Safe to run twice."

    def handle(self, *args, **options):
        result = issues_publish_due()
        for issue in result.published:
            self.stdout.write(f"published {issue}")
        self.stdout.write(f"{len(result.published)} issue(s) published")
        if result.failed:
            ids = ", ".join(str(issue_id) for issue_id in result.failed)
            self.stderr.write(
                f"{len(result.failed)} due issue(s) not published (ids {ids}); "
                "see the log"
            )
