"""The cost of the site search (showcase.search) on 20,000 published cases.

Run by bench/run on PostgreSQL; prints search_p50_ms=… and search_p95_ms=…,
the median and 95th percentile over BENCH_SEARCH_ROUNDS rounds (default 5) of
a set of Chinese queries, each timed as the search page runs it: the count,
the first page of ranked results and their marked snippets.

The rows are written straight into the index (bulk_create), their words drawn
from jieba's own dictionary, so the timing is the query's, not the
segmentation's; they are committed (the GIN index is then cleaned and the
table analysed, as a live site's would be) and deleted at the end.
"""

import os
import random
import statistics
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casehub.settings")
django.setup()

import jieba  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from showcase import search  # noqa: E402
from showcase.models import Issue, SearchEntry, Series  # noqa: E402
from submissions.models import Branch, Case  # noqa: E402

CASES = int(os.environ.get("BENCH_SEARCH_CASES", "20000"))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "5"))
WORDS_PER_CASE = 300
BRANCHES = 40
QUERIES = [
    "党建",
    "党建引领",
    "创新",
    "志愿服务",
    "乡村振兴",
    "科研攻关",
    "组织生活",
    "先锋模范作用",
    "基层治理 数字化",
    "党员 教育 管理",
    "搜索基准第7党支部",
    "高质量发展",
    "智联服",
    "云智联服务平台",
    "量子纠缠态",
    "人民群众 急难愁盼",
]
DOMAIN_WORDS = [
    "党建",
    "引领",
    "党建引领",
    "支部",
    "党员",
    "创新",
    "发展",
    "高质量",
    "志愿",
    "服务",
    "乡村",
    "振兴",
    "科研",
    "攻关",
    "组织",
    "生活",
    "先锋",
    "模范",
    "作用",
    "基层",
    "治理",
    "数字化",
    "教育",
    "管理",
    "人民",
    "群众",
    "急难愁盼",
]


def vocabulary() -> list[str]:
    """Frequent words of two to four characters from jieba's dictionary."""
    lines = (Path(jieba.__file__).parent / "dict.txt").read_text("utf-8").splitlines()
    words = []
    for line in lines:
        word, frequency, *_rest = line.split(" ")
        if 2 <= len(word) <= 4 and int(frequency) > 2000:
            words.append(word)
    return words


def entries(rng, words, cases, issue, series, branches) -> list[SearchEntry]:
    now = timezone.now()
    rows = []
    for index, case in enumerate(cases):
        branch = branches[index % len(branches)]
        body_words = rng.choices(words, k=WORDS_PER_CASE) + rng.sample(
            DOMAIN_WORDS, k=8
        )
        if index % 100 == 0:
            body_words.append("云智联服务平台")
        rng.shuffle(body_words)
        title_words = rng.choices(DOMAIN_WORDS, k=3)
        title = "".join(title_words) + f"第{index}篇"
        body = "".join(body_words)
        tokens = [*title_words, *body_words, branch.name, series.name]
        rows.append(
            SearchEntry(
                case=case,
                issue=issue,
                series=series,
                branch=branch,
                year=2020 + index % 7,
                published_at=now,
                title=title,
                branch_name=branch.name,
                series_title=series.title,
                issue_number=1,
                body_text=body,
                plain_text="\n".join([title, branch.name, body, series.title]).lower(),
                tokens=" ".join(tokens).lower(),
            )
        )
    return rows


def data_make(rng) -> list[int]:
    user, _ = get_user_model().objects.get_or_create(username="bench-search")
    branches = [
        Branch.objects.get_or_create(
            name=f"搜索基准第{n}党支部", defaults={"kind": Branch.Kind.BRANCH}
        )[0]
        for n in range(BRANCHES)
    ]
    series, _ = Series.objects.get_or_create(
        slug="bench-search",
        defaults={"title": "「搜索基准」系列", "name": "搜索基准", "column": "基准"},
    )
    issue = Issue.objects.create(
        series=series,
        number=(Issue.objects.filter(series=series).count() + 1),
        status=Issue.Status.PUBLISHED,
        scheduled_at=timezone.now(),
        published_at=timezone.now(),
        created_by=user,
    )
    cases = Case.objects.bulk_create(
        (
            Case(
                branch=branches[n % BRANCHES],
                title=f"搜索基准{n}",
                status=Case.Status.PUBLISHED,
                created_by=user,
                last_edited_by=user,
            )
            for n in range(CASES)
        ),
        batch_size=2000,
    )
    SearchEntry.objects.bulk_create(
        entries(rng, vocabulary(), cases, issue, series, branches), batch_size=1000
    )
    return [case.pk for case in cases], issue.pk


def data_drop(case_ids, issue_id) -> None:
    with transaction.atomic():
        SearchEntry.objects.filter(issue_id=issue_id).delete()
        Issue.objects.filter(pk=issue_id).delete()
        Case.objects.filter(pk__in=case_ids).delete()


def main():
    rng = random.Random(16)  # noqa: S311 (the same synthetic cases every run)
    with transaction.atomic():
        case_ids, issue_id = data_make(rng)
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE showcase_searchentry")
        search.dictionary_refresh()
        timings = []
        by_query = {raw: [] for raw in QUERIES}
        found = {}
        for _ in range(ROUNDS):
            for raw in QUERIES:
                query = search.query_normalise(raw)
                started = time.perf_counter()
                page, _results = search.search_page(query=query)
                by_query[raw].append((time.perf_counter() - started) * 1000)
                found[raw] = page.paginator.count
        timings = [ms for runs in by_query.values() for ms in runs]
    finally:
        if not os.environ.get("BENCH_SEARCH_KEEP"):
            data_drop(case_ids, issue_id)
    if os.environ.get("BENCH_VERBOSE"):
        print(f"# {CASES} cases on {connection.vendor}")
        for raw, runs in by_query.items():
            print(f"# {raw}: {found[raw]} found, {statistics.median(runs):.1f} ms")
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    print(f"search_p50_ms={statistics.median(timings):.1f}")
    print(f"search_p95_ms={p95:.1f}")


if __name__ == "__main__":
    main()
