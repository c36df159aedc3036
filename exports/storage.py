"""Where built exports are kept: EXPORT_ROOT, outside the public MEDIA_ROOT."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class ExportStorage(FileSystemStorage):
    """Files with no public address: the download view checks who asks.

    The folder is read from the settings on every use, so a changed
    EXPORT_ROOT (a test's own folder) is followed at once.
    """

    @property
    def base_location(self):
        return settings.EXPORT_ROOT

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    @property
    def base_url(self):
        return None


_storage = ExportStorage()


def export_storage() -> ExportStorage:
    return _storage
