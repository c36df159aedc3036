"""The built-in checks: numbering, punctuation, repeated characters and words.

Each returns findings in the visible text, all in the severity its
BuiltinCheck mode gives. Each is one pass of a regular expression over the
text (or over its marks), so its cost is linear in the text.

Numbering. Level-1 headings 一、二、 at the start of a line, level-2
（一）（二） (numbering again from （一） under each new level-1 heading) and
points 一是 二是 (numbering again under each new heading of either level; a
point starts a line or follows 。；： or ！？). A numeral that is not the one
after the previous (a gap: 一、二、四、; a repeat: （一）（一）) is a finding
with the expected numeral as suggestion; counting goes on from the numeral
found, so one gap is one finding. 一是 always starts a new run of points:
a paragraph may list its own.

Punctuation. A half-width , : ; ? ! ( ) between two Chinese characters (one
space allowed on each side; one neighbour may be full-width punctuation), and
a half-width pair (…) opened after a Chinese character with Chinese inside;
the same full-width mark twice or more (。。 ，，, never …… or ——); a quote,
book-title mark or bracket with no partner in its line (“” ‘’ 《》 （） 【】).

Repeats. Chinese reduplicates on purpose (常常 人人 一一 看看 谢谢 研究研究),
so a repeat is flagged only where reduplication is not how the language
works:
(a) a doubled character only when it is a function character (的 了 是 在 …,
    FUNCTION_CHARACTERS), which Chinese does not reduplicate; and not when
    the pair straddles a word (现在在, 为了了解, 目的的, 的的确确: the first
    ends a word or the second starts one, WORD_EDGES), nor in an AABB form
    (是是非非, 实实在在), nor after 一 where the character is a measure word
    (一把把, 一对对);
(b) a unit of 2–4 characters written twice (我们我们, 进一步进一步) unless
    the unit is a word that reduplicates as ABAB (ABAB_WORDS: 研究研究,
    雪白雪白), or "one by one" (一步一步, 一个一个), or one character twice
    (that is (a)'s case).
"""

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Full-width punctuation may stand next to a half-width mark on one side.
CJK_PUNCTUATION = "\u3001-\u3003\u3008-\u3011\u3014-\u301f\uff01-\uff5e\u201c\u201d"

DIGITS = "一二三四五六七八九"
NUMERAL = "[一二三四五六七八九十]{1,3}"


def words(text: str) -> frozenset[str]:
    """A word list written as text, one space or line break between words."""
    return frozenset(text.split())


# A finding before it is made one: (kind, start, end, term, suggestion, message).
Raw = tuple[str, int, int, str, str, str]


def numeral_value(numeral: str) -> int | None:
    """一 … 九十九 as a number; None for anything that is not a numeral."""
    if len(numeral) == 1:
        if numeral == "十":
            return 10
        return DIGITS.index(numeral) + 1 if numeral in DIGITS else None
    tens, _, units = numeral.partition("十")
    if "十" not in numeral or "十" in units or len(tens) > 1:
        return None
    if tens and tens not in DIGITS[1:]:
        return None
    if units and (len(units) != 1 or units not in DIGITS):
        return None
    value = (DIGITS.index(tens) + 1 if tens else 1) * 10
    return value + (DIGITS.index(units) + 1 if units else 0)


def numeral_text(value: int) -> str:
    tens, units = divmod(value, 10)
    text = "" if tens == 0 else ("十" if tens == 1 else DIGITS[tens - 1] + "十")
    return text + (DIGITS[units - 1] if units else "")


NUMBERING = re.compile(
    rf"^[ \t\u3000]*(?P<level1>{NUMERAL})、"
    rf"|^[ \t\u3000]*[（(](?P<level2>{NUMERAL})[）)]"
    rf"|(?:^|(?<=[。；：！？]))[ \t\u3000]*(?P<point>{NUMERAL})是",
    re.MULTILINE,
)
NUMBERING_FORMS = {"level1": "%s、", "level2": "（%s）", "point": "%s是"}


def numbering_findings(text: str) -> list[Raw]:
    # Translated once a call, not once a finding: a long text has many.
    message = _(
        "The numbering skips or repeats: write “%(right)s” here, not “%(wrong)s”."
    )
    expected = {"level1": 1, "level2": 1, "point": 1}
    found = []
    for match in NUMBERING.finditer(text):
        level = match.lastgroup
        value = numeral_value(match.group(level))
        if value is None or value > 99:
            continue
        if level == "level1":
            expected["level2"] = expected["point"] = 1
        elif level == "level2":
            expected["point"] = 1
        if level == "point" and value == 1:
            expected["point"] = 2
            continue
        if value != expected[level] and expected[level] <= 99:
            form = NUMBERING_FORMS[level]
            right = numeral_text(expected[level])
            found.append(
                (
                    "numbering",
                    match.start(level),
                    match.end(level),
                    match.group(level),
                    right,
                    message
                    % {"right": form % right, "wrong": form % match.group(level)},
                )
            )
        expected[level] = value + 1
    return found


HALF_TO_FULL = {
    ",": "，",
    ":": "：",
    ";": "；",
    "?": "？",
    "!": "！",
    "(": "（",
    ")": "）",
}
HALF_WIDTH = re.compile(
    rf"(?<=[{CJK}]) ?[,:;?!()] ?(?=[{CJK}{CJK_PUNCTUATION}])"
    rf"|(?<=[{CJK_PUNCTUATION}]) ?[,:;?!()] ?(?=[{CJK}])"
)
HALF_PAIR = re.compile(rf"(?<=[{CJK}])\((?=[^()\n]*[{CJK}])[^()\n]*\)")
DOUBLED = re.compile(r"([。，、；：！？])\1+")
PAIRS = {"“": "”", "‘": "’", "《": "》", "（": "）", "【": "】"}
CLOSERS = {closing: opening for opening, closing in PAIRS.items()}
PAIR_MARKS = re.compile("[“”‘’《》（）【】\n]")
LATIN = re.compile(r"[A-Za-z0-9]")


def punctuation_findings(text: str) -> list[Raw]:
    half_width = _(
        "Half-width “%(wrong)s” in Chinese text: write the full-width “%(right)s”."
    )
    doubled = _("“%(mark)s” is written %(count)d times: keep one.")
    found = []
    marks = {}
    covered = set()
    for match in HALF_WIDTH.finditer(text):
        marks[match.start()] = (match.start(), match.end(), match.group())
        covered.update(range(match.start(), match.end()))
    for match in HALF_PAIR.finditer(text):
        for position in (match.start(), match.end() - 1):
            if position not in covered:
                marks[position] = (position, position + 1, text[position])
                covered.add(position)
    for start, end, term in marks.values():
        right = HALF_TO_FULL[term.strip()]
        found.append(
            (
                "punctuation",
                start,
                end,
                term,
                right,
                half_width % {"wrong": term.strip(), "right": right},
            )
        )
    for match in DOUBLED.finditer(text):
        mark = match.group(1)
        found.append(
            (
                "punctuation",
                match.start(),
                match.end(),
                match.group(),
                mark,
                doubled % {"mark": mark, "count": len(match.group())},
            )
        )
    found.extend(_unbalanced(text))
    return sorted(found, key=lambda raw: raw[1])


def _unbalanced(text: str) -> list[Raw]:
    not_closed = _("%(mark)s is not closed in this paragraph: add %(partner)s.")
    not_opened = _(
        "%(mark)s closes nothing in this paragraph: add %(partner)s before it "
        "or delete it."
    )
    found = []
    open_marks: dict[str, list[int]] = {opening: [] for opening in PAIRS}

    def line_end():
        for opening, positions in open_marks.items():
            for position in positions:
                found.append(_unmatched(position, opening, PAIRS[opening], not_closed))
            positions.clear()

    for match in PAIR_MARKS.finditer(text):
        mark, position = match.group(), match.start()
        if mark == "\n":
            line_end()
        elif mark == "’" and _between_latin(text, position):
            continue  # an apostrophe: it’s
        elif mark in PAIRS:
            open_marks[mark].append(position)
        elif open_marks[CLOSERS[mark]]:
            open_marks[CLOSERS[mark]].pop()
        else:
            found.append(_unmatched(position, mark, CLOSERS[mark], not_opened))
    line_end()
    return found


def _between_latin(text: str, position: int) -> bool:
    return (
        0 < position < len(text) - 1
        and LATIN.match(text[position - 1]) is not None
        and LATIN.match(text[position + 1]) is not None
    )


def _unmatched(position: int, mark: str, partner: str, message: str) -> Raw:
    return (
        "punctuation",
        position,
        position + 1,
        mark,
        "",
        message % {"mark": mark, "partner": partner},
    )


# Characters Chinese does not reduplicate: particles, prepositions,
# conjunctions, pronouns. 等等 is a word (WORD_EDGES).
FUNCTION_CHARACTERS = (
    "的了地得是在和与及对把被将从向为以于或而并等也都就其之所这那该由让使"
)
# Common words that end or start with one of those characters: a pair whose
# first character ends such a word, or whose second starts one, is two words
# side by side (现在|在, 为了|了解, 目的|的), not a slip.
WORD_EDGES = words(
    """
    目的 有的 别的 似的 是的 的确 的士
    为了 除了 罢了 算了 好了 对了 极了 得了 完了 了解 了结 了却 了然
    土地 当地 各地 基地 阵地 园地 本地 就地 外地 实地 天地 大地 场地 特地 产地 山地
    耕地 林地 用地 田地 腹地 领地 高地 内地 异地 落地 属地 驻地 扎地 地方 地区 地位
    地点 地道 地域 地图 地面 地下 地球 地理 地质 地震 地块 地址 地铁 地表 地势
    懂得 获得 取得 记得 觉得 值得 显得 晓得 难得 舍得 使得 免得 省得 得到 得以 得益 得力
    就是 但是 还是 总是 只是 可是 于是 凡是 正是 而是 或是 若是 要是 真是 倒是 算是
    像是 即是 便是 乃是 不是 也是 都是 却是 又是 硬是 老是 别是
    是非 是否 是的
    现在 存在 正在 实在 所在 自在 内在 外在 潜在 好在 在于 在场 在职 在校 在岗 在线
    平和 温和 总和 共和 缓和 调和 附和 随和 柔和 饱和 和平 和谐 和睦 和解 和美
    参与 给与 与会 与其 与否 以及 涉及 普及 波及 危及 及时 及其 及早 及格
    针对 面对 相对 绝对 应对 反对 核对 比对 配对 对于 对象 对话 对照 对接 对标 对口
    一把 火把 把握 把关 把手 被子 被告 被动 即将 必将 终将 将来 将军 将近 将要
    服从 自从 无从 从而 从事 从来 从严 从中 从此 从业 方向 走向 面向 导向 趋向 指向
    向上 向前 向着 向来 作为 认为 成为 行为 因为 以为 称为 视为 难为 为何 为主 为止
    所以 可以 难以 得以 加以 予以 足以 给以 借以 用以 以后 以来 以上 以下 以便 以往
    以前 以内 以外 至于 由于 关于 对于 属于 基于 终于 等于 便于 善于 勇于 敢于 陷于
    于是 或者 或许 然而 因而 进而 从而 继而 反而 并且 并非 并不 合并 兼并 等等 等于
    等待 等级 相等 平等 同等 也许 首都 都市 成就 造就 将就 就业 就是 就地 就近
    尤其 其中 其他 其实 其余 其次 总之 之后 之前 之间 之外 之中 之一 场所
    住所 处所 诊所 所有 所以 所在 所得 所属 所长 这里 这样 这些 这个 那里 那样 那些
    那个 应该 该项 理由 自由 经由 由于 由此 转让 出让 让步 让利 迫使 促使 致使 假使
    使用 使命 使得 大使
    """
)
# Measure words among them: 一把把, 一对对, 一所所 say "each one".
MEASURE_WORDS = frozenset("把对所")
# Words that reduplicate as ABAB: verbs of trying or doing a while
# (研究研究), and intensified adjectives (雪白雪白).
ABAB_WORDS = words(
    """
    研究 讨论 学习 商量 考虑 休息 了解 交流 检查 整理 锻炼 打扫 活动 收拾 准备 思考
    琢磨 比较 打听 介绍 练习 复习 调查 尝试 体验 放松 清理 沟通 协商 核对 打理 盘算
    合计 溜达 认识 指点 锻造 安排 欣赏 观察 回忆 总结 分析 表扬 教育 照顾 帮助 关心
    雪白 通红 笔直 冰凉 滚烫 碧绿 漆黑 火热 崭新 透亮 湛蓝 金黄 鲜红 乌黑 粉碎 稀烂
    哪里 好的 是的 对的
    """
)
DOUBLED_FUNCTION = re.compile(f"([{FUNCTION_CHARACTERS}])\\1+")
REPEATED_UNIT = re.compile(f"([{CJK}]{{2,4}})\\1")
IDEOGRAPH = re.compile(f"[{CJK}]")


def repeat_findings(text: str) -> list[Raw]:
    message = _("“%(wrong)s” looks repeated by mistake: write “%(right)s”.")
    found = []
    taken = []
    for match in REPEATED_UNIT.finditer(text):
        unit = _shortest_period(match.group(1))
        if len(unit) == 1 or unit in ABAB_WORDS or unit.startswith("一"):
            continue
        taken.append((match.start(), match.end()))
        found.append(_repeat(match.start(), match.end(), match.group(), unit, message))
    for match in DOUBLED_FUNCTION.finditer(text):
        start, end = match.start(), match.end()
        if any(left < end and start < right for left, right in taken):
            continue
        if end - start == 2 and _doubling_intended(text, start):
            continue
        found.append(_repeat(start, end, match.group(), match.group(1), message))
    return sorted(found, key=lambda raw: raw[1])


def _shortest_period(unit: str) -> str:
    for size in range(1, len(unit)):
        if len(unit) % size == 0 and unit[:size] * (len(unit) // size) == unit:
            return unit[:size]
    return unit


def _doubling_intended(text: str, start: int) -> bool:
    character = text[start]
    before = text[start - 1] if start > 0 else ""
    after = text[start + 2] if start + 2 < len(text) else ""
    if character * 2 in WORD_EDGES:
        return True  # 等等
    if before + character in WORD_EDGES or character + after in WORD_EDGES:
        return True
    if before == "一" and character in MEASURE_WORDS:
        return True
    # AABB: 是是非非 (this pair first) or 实实在在 (this pair second).
    if after and after != character and text[start + 3 : start + 4] == after:
        return IDEOGRAPH.match(after) is not None
    second_before = text[start - 2] if start > 1 else ""
    return bool(
        before
        and before == second_before
        and before != character
        and IDEOGRAPH.match(before)
    )


def _repeat(start: int, end: int, term: str, right: str, message: str) -> Raw:
    return (
        "repeat",
        start,
        end,
        term,
        right,
        message % {"wrong": term, "right": right},
    )


BUILTIN_CHECKS: dict[str, Callable[[str], list[Raw]]] = {
    "numbering": numbering_findings,
    "punctuation": punctuation_findings,
    "repeat": repeat_findings,
}
