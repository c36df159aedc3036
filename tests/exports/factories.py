"""Published issues whose cases carry the things a Word export must keep."""

from io import BytesIO
from pathlib import Path

import docx
from django.conf import settings

from review import workflow as review
from tests.images import image_bytes
from tests.review.factories import decide, draft
from tests.showcase.factories import published_issue, series

BODY = (
    "<h2>一、筑基：把支部建在攻关一线</h2>"
    "<p>一是<strong>强化政治引领</strong>，坚持<em>“第一议题”</em>制度。</p>"
    "<ol><li>建强组织体系</li><li>完善议事规则</li></ol>"
    "<h3>（一）党员先锋岗</h3>"
    "<ul><li>设立先锋岗</li><li>亮身份、作表率</li></ul>"
    '<figure class="image"><img src="/media/uploads/2024/05/lab.png" alt="实验室">'
    "<figcaption>攻关现场</figcaption></figure>"
    "<blockquote><p>把支部建在攻关一线。</p></blockquote>"
    "<h2>二、创新：项目化推进</h2>"
    "<ol><li>第一项</li><li>第二项</li><li>第三项</li></ol>"
)
IMAGE_PATH = "uploads/2024/05/lab.png"
IMAGE_SIZE = (2400, 1200)


def media_image(relative=IMAGE_PATH, *, size=IMAGE_SIZE, fmt="PNG") -> bytes:
    """An image file under MEDIA_ROOT, as an editor upload leaves one there."""
    data = image_bytes(fmt, size=size)
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def approved(who, **content):
    case = draft(who, **content)
    review.case_submit(case=case, acting_user=who.secretary)
    decide(case, "approve", who.reviewer1)
    decide(case, "approve", who.reviewer2)
    case.refresh_from_db()
    return case


def issue_with_cases(who, *contents, the_series=None):
    """A published issue of `the_series` with one case per content dict."""
    cases = [approved(who, **content) for content in contents]
    return published_issue(who, the_series or series(), cases=cases)


def two_case_issue(who):
    media_image()
    return issue_with_cases(
        who,
        {
            "title": "党建引领新篇章",
            "tagline": "筑基·创新·暖心",
            "author_name": "王宁",
            "lead": "先进制造计量研究中心党总支坚持党建引领。\n\n第二段导语。",
            "body": BODY,
        },
        {"title": "把支部建在攻关一线", "lead": "导语。", "body": "<p>正文。</p>"},
    )


def opened(content: bytes):
    return docx.Document(BytesIO(content))


def styled(document, style: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == style]
