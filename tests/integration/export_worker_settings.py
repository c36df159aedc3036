"""Settings of the Celery workers the export integration test starts: those of
the other integration tests, with a build that can be held after a case.

While a `hold` file is in EXPORT_HOLD_DIR, the build writes the pool process's
id to `holding` while its second case is written and waits: the test can kill the worker
exactly in the middle of an export.
"""

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from tests.integration.worker_settings import *  # noqa: F403

EXPORT_HOLD_DIR = Path(os.environ["EXPORT_HOLD_DIR"])


@worker_process_init.connect
def _hold_exports_after_two_cases(**kwargs):
    from exports import docx

    write = docx._case_write
    written = []

    def holding(writer, case):
        write(writer, case)
        written.append(case.pk)
        if len(written) == 2 and (EXPORT_HOLD_DIR / "hold").exists():
            (EXPORT_HOLD_DIR / "holding").write_text(str(os.getpid()))
            while (EXPORT_HOLD_DIR / "hold").exists():
                time.sleep(0.05)

    docx._case_write = holding


# The test's own queue, so that no other worker takes its tasks and none of
# its tasks goes to another.
CELERY_TASK_ROUTES = {
    task: {"queue": os.environ["EXPORT_TEST_QUEUE"]}
    for task in (
        "exports.tasks.export_job_build_task",
        "exports.tasks.exports_revive_stalled_task",
    )
}
