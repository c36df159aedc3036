"""The cost of the worst rich text and the worst diff the limits still allow.

Run by bench/run; prints sanitize_worst_ms=…, richtext_clean_worst_ms=… (what
a save costs: bounds, normaliser, sanitiser) and diff_worst_ms=…, each the
slowest of several worst cases (the median of a few runs of each).
"""

import contextlib
import os
import random
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casehub.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402

from casehub import richtext  # noqa: E402
from casehub.richtext import MAX_TAG_CHARS, richtext_clean, sanitize_html  # noqa: E402
from review.diff import revision_diff  # noqa: E402

RUNS = 3
CHARACTERS = (
    "党建引领新篇章筑基创新暖心一是加强组织建设二是三是推进落实基层群众服务学习"
)


def fill(prefix: str, unit: str, suffix: str = "") -> str:
    """`prefix`, then `unit` as often as fits the size limit with `suffix`."""
    room = settings.CASEHUB_RICHTEXT_MAX_BYTES - len((prefix + suffix).encode())
    return prefix + unit * (room // len(unit.encode())) + suffix


def allowed(html: str) -> bool:
    try:
        sanitize_html(html)
    except ValidationError:
        return False
    return True


def largest_allowed(build) -> int:
    """The largest count for which `build(count)` is still accepted."""
    low, high = 0, settings.CASEHUB_RICHTEXT_MAX_BYTES
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if allowed(build(middle)) else (low, middle - 1)
    return low


def sanitize_cases() -> dict[str, str]:
    depth = settings.CASEHUB_RICHTEXT_MAX_DEPTH
    attributes = " ".join(f"a{index:x}" for index in range(MAX_TAG_CHARS))
    long_tag = "<p " + attributes[: MAX_TAG_CHARS - 4] + ">"
    # Formatting left open in a closed block, reopened around every paragraph,
    # as much of it as the bound lets through.
    reopened = "<div>" + "".join(f"<b a={index}>" for index in range(3)) + "</div>"
    reopen_count = largest_allowed(lambda count: reopened + "<p>x</p>" * count)
    return {
        "deepest, largest": fill(
            "<div>" * (depth - 1), "<p>一是加强组织建设。</p>", "</div>" * (depth - 1)
        ),
        "deep lists": fill(
            "<ul><li>" * (depth // 2 - 1), "<p>x</p>", "</li></ul>" * (depth // 2 - 1)
        ),
        "most tags": fill("", "<b></b>"),
        "longest tags": fill("", long_tag + "x</p>"),
        "reopened formatting": reopened + "<p>x</p>" * reopen_count,
        "escaped text": fill("", "<p>" + "&amp;" * 100 + "</p>"),
    }


def clean_cases() -> dict[str, str]:
    """The sanitiser's worst cases and the normaliser's: the most elements per
    byte, line breaks inside formatting, a heading on every line."""
    return {
        **sanitize_cases(),
        "tiny paragraphs": fill("", "<p>a</p>"),
        "line breaks in formatting": fill("", '<p><span lang="x">a<br>b</span></p>'),
        "numbered lines": fill("", "<p><b>一、标题</b></p>"),
        "text lines": fill("", "一\n"),
    }


def clean(html: str) -> None:
    # Each run pays the whole cost: richtext_clean answers a repeat of its
    # last input from a one-entry memo.
    richtext._last_cleaned = None
    # Refused after normalising still cost the time.
    with contextlib.suppress(ValidationError):
        richtext_clean(html)


def diff_cases() -> dict[str, tuple]:
    chooser = random.Random(12)  # noqa: S311 - text to compare, not a secret
    # The longest paragraph the size limit allows, changed throughout.
    length = settings.CASEHUB_RICHTEXT_MAX_BYTES // 3 - 10
    old = "".join(chooser.choice(CHARACTERS) for _ in range(length))
    new = "".join(chooser.choice(CHARACTERS) for _ in range(length))
    # Paragraphs that make SequenceMatcher compare everything with everything,
    # each just within the budget of one pair.
    repeated_old = "".join(f"<p>乙{'甲' * 990}乙</p>" for _ in range(40))
    repeated_new = "".join(f"<p>丙{'甲' * 990}丙</p>" for _ in range(40))
    many_old = "".join(f"<p>第{index % 7}段</p>" for index in range(20000))
    many_new = "".join(f"<p>第{index % 5}段</p>" for index in range(20000))
    return {
        "longest paragraph rewritten": (f"<p>{old}</p>", f"<p>{new}</p>"),
        "longest paragraph, one sentence": (
            f"<p>{old}</p>",
            f"<p>{old[: length // 2]}新增的一句话{old[length // 2 :]}</p>",
        ),
        "repeated characters": (repeated_old, repeated_new),
        "many paragraphs": (many_old, many_new),
    }


class Revision:
    def __init__(self, body: str):
        self.title, self.lead, self.body = "标题", "导语", body


def slowest(cases: dict, measure) -> float:
    worst = 0.0
    for name, case in cases.items():
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            measure(case)
            timings.append((time.perf_counter() - started) * 1000)
        worst = max(worst, statistics.median(timings))
        if os.environ.get("BENCH_VERBOSE"):
            print(f"# {name}: {statistics.median(timings):.1f} ms")
    return worst


def main():
    cases = sanitize_cases()
    refused = [name for name, html in cases.items() if not allowed(html)]
    if refused:  # a worst case the limits refuse proves nothing
        raise SystemExit(f"refused by the limits: {', '.join(refused)}")
    print(f"sanitize_worst_ms={slowest(cases, sanitize_html):.1f}")
    print(f"richtext_clean_worst_ms={slowest(clean_cases(), clean):.1f}")
    labels = {"title": "title", "lead": "lead", "body": "body"}
    worst = slowest(
        diff_cases(),
        lambda pair: revision_diff(Revision(pair[0]), Revision(pair[1]), labels=labels),
    )
    print(f"diff_worst_ms={worst:.1f}")


if __name__ == "__main__":
    main()
