"""The cost of the text check (错敏检测) against a large dictionary.

Run by bench/run; prints text_check_mb_per_s=… for 1 MB (UTF-8) of Chinese
text checked against 50,000 terms, and text_check_case_ms=…, the median of
BENCH_TEXTCHECK_RUNS runs (default 20) of `text_check(html=…)` on a 10 KB
case body. The terms are imported through the service in a transaction
rolled back at the end; the automaton is built once, before the timing, as
the first check in a process builds it.
"""

import os
import random
import statistics
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casehub.settings")
django.setup()

from django.db import transaction  # noqa: E402

from textcheck.check import dictionary_load  # noqa: E402
from textcheck.services import terms_import, text_check  # noqa: E402

RUNS = int(os.environ.get("BENCH_TEXTCHECK_RUNS", "20"))
TERMS = 50_000
# Characters the synthetic terms and text are made of: frequent ones, so the
# automaton meets many partial and whole matches, as real text would.
CHARACTERS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    "同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自"
    "二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日"
    "那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变"
    "条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
    "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器"
    "压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安"
    "场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集"
    "温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连"
)
SENTENCE = (
    "支部坚持把党建工作与科研任务同谋划、同部署、同推进，"
    "推动党员在攻坚一线发挥先锋模范作用。"
)


def terms(rng: random.Random) -> list[dict]:
    found = {}
    while len(found) < TERMS:
        term = "".join(rng.choices(CHARACTERS, k=rng.randint(2, 6)))
        found.setdefault(
            term,
            {
                "kind": "sensitive" if len(found) % 2 else "expression",
                "term": term,
                "replacement": f"标准{term}",
                "severity": "warn",
                "note": "测速",
            },
        )
    return list(found.values())


def chinese_text(rng: random.Random, size: int) -> str:
    """About `size` bytes of UTF-8: sentences of the pool, in paragraphs."""
    parts, length = [], 0
    while length < size:
        sentence = "".join(rng.choices(CHARACTERS, k=rng.randint(12, 40)))
        sentence += rng.choice("，。；。！")
        if rng.random() < 0.1:
            sentence += "\n"
        parts.append(sentence)
        length += len(sentence.encode("utf-8"))
    return "".join(parts)


def case_body(size: int) -> str:
    numerals = "一二三四五六七八九十"
    parts, length, section = [], 0, 0
    while length < size:
        heading = f"<h2>{numerals[section % 10]}、把支部建在课题组上</h2>"
        points = "".join(
            f"<p>{numerals[point]}是{SENTENCE * 2}</p>" for point in range(3)
        )
        parts.append(heading + points)
        length += len((heading + points).encode("utf-8"))
        section += 1
    return "".join(parts)


def main():
    rng = random.Random(15)  # noqa: S311 (the same synthetic text every run)
    text = chinese_text(rng, 1024 * 1024)
    body = case_body(10 * 1024)
    with transaction.atomic():
        terms_import(rows=terms(rng), acting_user=None)
        started = time.perf_counter()
        dictionary_load()
        build_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        findings = text_check(text=text)
        seconds = time.perf_counter() - started
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            text_check(html=body)
            timings.append((time.perf_counter() - started) * 1000)
        transaction.set_rollback(True)
    if os.environ.get("BENCH_VERBOSE"):
        print(
            f"# {len(text.encode('utf-8')) / 2**20:.2f} MB, {len(findings)} findings, "
            f"automaton built in {build_ms:.0f} ms"
        )
    megabytes = len(text.encode("utf-8")) / 2**20
    print(f"text_check_mb_per_s={megabytes / seconds:.2f}")
    print(f"text_check_case_ms={statistics.median(timings):.1f}")


if __name__ == "__main__":
    main()
