"""The Celery worker's email backend in the integration tests.

Mail is written to files like Django's file backend. While a `hold` file is in
the folder, a send first writes the sending process's id to `holding` and
waits: the test can kill the worker exactly in the middle of sending.
"""

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class HoldingBackend(EmailBackend):
    def send_messages(self, email_messages):
        folder = Path(self.file_path)
        if (folder / "hold").exists():
            (folder / "holding").write_text(str(os.getpid()))
            while (folder / "hold").exists():
                time.sleep(0.05)
        return super().send_messages(email_messages)
