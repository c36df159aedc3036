"""The cost of 导入 Word on a long real-shaped case: 20 pages with 10 photos.

Run by bench/run; prints import_docx_ms=…, the median of BENCH_DOCX_RUNS runs
(default 5) of what the case form's import does: every check of the file,
mammoth, the normaliser and the sanitiser, each image re-encoded and stored.
The writer, the images and their rows are made in a transaction rolled back
at the end, with the files in a temporary folder.
"""

import io
import os
import statistics
import tempfile
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casehub.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from docx import Document  # noqa: E402
from docx.shared import Cm  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from authoring.docx_import import docx_import  # noqa: E402
from submissions.models import Branch, Membership  # noqa: E402

RUNS = int(os.environ.get("BENCH_DOCX_RUNS", "5"))
NUMERALS = "一二三四五六七八九十"
SENTENCE = (
    "支部坚持把党建工作与科研任务同谋划、同部署、同推进，"
    "推动党员在攻坚一线发挥先锋模范作用。"
)


def photo(number: int) -> bytes:
    """A 1280 × 960 JPEG with a photo's detail, as Word keeps a compressed picture."""
    image = Image.effect_noise((1280, 960), 40).convert("RGB")
    draw = ImageDraw.Draw(image)
    for step in range(0, 1280, 40):
        draw.rectangle([step, 0, step + 20, 960], fill=(step % 255, number * 20, 120))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def long_case() -> bytes:
    """About 10,000 characters in four sections of three parts, and 10 photos:
    20 pages at the official layout (22 lines of 28 characters)."""
    document = Document()
    document.add_paragraph("党建引领新篇章：筑基·创新·暖心").runs[0].bold = True
    document.add_paragraph("先进制造计量研究中心党总支")
    document.add_paragraph("\u3000\u3000" + SENTENCE * 3)
    photos = iter(range(10))
    for section in range(4):
        document.add_paragraph().add_run(
            f"{NUMERALS[section]}、把支部建在课题组上的第{section + 1}项做法"
        ).bold = True
        for part in range(3):
            document.add_paragraph(f"（{NUMERALS[part]}）完善组织体系")
            for paragraph in range(4):
                text = f"\u3000\u3000{NUMERALS[paragraph]}是" + SENTENCE * 5
                document.add_paragraph(text)
                document.add_paragraph("")
            number = next(photos, None)  # one after each part, ten in all
            if number is not None:
                document.add_picture(io.BytesIO(photo(number)), width=Cm(14))
    table = document.add_table(rows=4, cols=3)
    for row in table.rows:
        for cell in row.cells:
            cell.text = "党员先锋岗"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def main():
    data = long_case()
    timings = []
    with (
        tempfile.TemporaryDirectory() as media,
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        branch = Branch.objects.create(name="导入测速党支部", kind=Branch.Kind.BRANCH)
        writer = get_user_model().objects.create_user("bench-docx-writer")
        Membership.objects.create(
            user=writer, branch=branch, role=Membership.Role.SECRETARY
        )
        for _ in range(RUNS):
            upload = ContentFile(data, name="case.docx")
            started = time.perf_counter()
            reading = docx_import(upload=upload, acting_user=writer)
            timings.append((time.perf_counter() - started) * 1000)
        if len(reading.images) != 10 or reading.sections != 4:
            raise SystemExit(f"not the document measured: {reading.summary}")
        transaction.set_rollback(True)
    if os.environ.get("BENCH_VERBOSE"):
        print(f"# {len(data) // 1024} KB: {reading.summary}")
    print(f"import_docx_ms={statistics.median(timings):.1f}")


if __name__ == "__main__":
    main()
