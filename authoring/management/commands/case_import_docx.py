from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from authoring.docx_import import docx_images_store, docx_read
from authoring.services import CaseContent, case_create
from casehub.exceptions import NotPermitted
from submissions.models import Branch
from submissions.selectors import branches_for_user


class Command(BaseCommand):
    help = (
        "Import a Word document as a draft case of the writer's organisation, "
        "with the same checks as 导入 Word on the case form. Prints what was "
        "recognised, then case_id=N as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .docx (.doc, .wps with LibreOffice)")
        parser.add_argument(
            "--user", required=True, help="username of the writer, a branch member"
        )
        parser.add_argument(
            "--branch",
            help="the organisation's name; needed when the writer belongs to "
            "several and the document names none of them",
        )

    def handle(self, *args, path, user, branch, **options):
        writer = self.writer(user)
        source = Path(path)
        if not source.is_file():
            raise CommandError(f"No file at {path}.")
        with source.open("rb") as handle:
            try:
                reading = docx_read(File(handle, name=source.name))
            except ValidationError as error:
                raise CommandError(f"{source.name}: {error.messages[0]}") from None
        organisation = self.organisation(writer, name=branch, reading=reading)
        with transaction.atomic():
            docx_images_store(reading=reading, acting_user=writer)
            try:
                case = case_create(
                    branch=organisation,
                    acting_user=writer,
                    content=CaseContent(
                        # A title is what a draft needs; the file's name will do.
                        title=reading.title or source.stem[:120],
                        tagline=reading.tagline,
                        lead=reading.lead,
                        body=reading.body,
                    ),
                )
            except NotPermitted as error:
                raise CommandError(error.message) from None
        self.stdout.write(f"organisation={organisation.name}")
        self.stdout.write(f"recognised={reading.summary}")
        for note in reading.notes:
            self.stdout.write(f"note={note}")
        self.stdout.write(f"case_id={case.pk}")

    def writer(self, username):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None

    def organisation(self, writer, *, name, reading) -> Branch:
        """The organisation named, or the one the document and membership agree on."""
        branches = list(branches_for_user(user=writer))
        if name is not None:
            found = Branch.objects.filter(name=name.strip(), is_active=True).first()
            if found is None:
                raise CommandError(f"No active organisation named {name!r}.")
            if found not in branches:
                raise CommandError(f"{writer} is not a member of {found.name}.")
            return found
        if not branches:
            raise CommandError(f"{writer} is not a member of any organisation.")
        if reading.branch is not None and reading.branch in branches:
            return reading.branch
        if len(branches) == 1:
            return branches[0]
        names = ", ".join(branch.name for branch in branches)
        raise CommandError(
            f"{writer} belongs to several organisations ({names}) and the "
            "document names none of them; choose one with --branch."
        )
