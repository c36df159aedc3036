import time

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from casehub.richtext import (
    media_path,
    richtext_bounds_check,
    richtext_clean,
    sanitize_html,
    validate_richtext,
)

HOSTILE = [
    "<script>alert(1)</script><p>正文</p>",
    '<p onclick="alert(1)">点击</p>',
    '<img src="/media/uploads/a.png" onerror="alert(1)">',
    '<a href="javascript:alert(1)">链接</a>',
    '<a href="JaVaScRiPt:alert(1)">链接</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<iframe src="https://example.org"></iframe>',
    '<style>body{display:none}</style><p style="color:red">样式</p>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="/x"><input name="a"></form>',
    '<p><a href="https://example.org" target="_blank" onmouseover="alert(1)">x</a></p>',
    "<div><template><script>alert(1)</script></template></div>",
    '<img src="https://evil.example/track.png">',
    '<img src="//evil.example/track.png">',
    "<<script>script>alert(1)<</script>/script>",
    "<!--<script>alert(1)</script>-->",
]
FORBIDDEN = [
    "<script",
    "onerror",
    "onclick",
    "onload",
    "onmouseover",
    "javascript:",
    "data:",
    "<svg",
    "<math",
    "<iframe",
    "<style",
    "style=",
    "<object",
    "<embed",
    "<form",
    "<input",
    "evil.example",
    "<template",
]


class SanitizeHtmlTests:
    @pytest.mark.parametrize("payload", HOSTILE)
    def test_hostile_markup_is_removed(self, payload):
        cleaned = sanitize_html(payload).lower()
        for marker in FORBIDDEN:
            assert marker not in cleaned, (payload, cleaned)

    def test_script_content_is_dropped_not_kept_as_text(self):
        assert sanitize_html("<script>alert(1)</script><p>正文</p>") == "<p>正文</p>"

    def test_editor_output_survives(self):
        html = (
            "<h2>一、筑基</h2><p><strong>一是</strong>加强<em>组织</em>建设。</p>"
            "<ol><li>第一</li></ol><ul><li>要点</li></ul><blockquote><p>引文</p></blockquote>"
            '<figure class="image"><img src="/media/uploads/2026/11/a.png" alt="合影">'
            "<figcaption>支部合影</figcaption></figure>"
            '<figure class="table"><table><tbody><tr><td colspan="2">表格</td></tr>'
            "</tbody></table></figure>"
        )
        assert sanitize_html(html) == html

    def test_links_keep_their_address_and_get_a_safe_rel(self):
        cleaned = sanitize_html('<a href="https://example.org/a">来源</a>')
        assert 'href="https://example.org/a"' in cleaned
        assert 'rel="noopener noreferrer"' in cleaned

    def test_unknown_classes_are_dropped(self):
        cleaned = sanitize_html(
            '<figure class="image evil"><img src="/media/a.png"></figure>'
        )
        assert 'class="image"' in cleaned

    def test_empty_input(self):
        assert sanitize_html("") == ""
        assert sanitize_html(None) == ""


def _refusal(html) -> tuple[str, float]:
    """The code of the refusal of `html`, and how long sanitising it took."""
    started = time.perf_counter()
    with pytest.raises(ValidationError) as refused:
        sanitize_html(html)
    return refused.value.code, time.perf_counter() - started


# What CKEditor 5 with our toolbar produces at its most nested: a table in a
# list five levels deep, a figure with its caption, formatting inside links.
EDITOR_NESTED = (
    "<ul><li>一<ul><li>二<ul><li>三<ul><li>四<ul><li>五"
    '<figure class="table"><table><thead><tr><th>项目</th></tr></thead>'
    "<tbody><tr><td><p><strong><em>表格</em></strong></p><ol><li>要点</li></ol>"
    "</td></tr></tbody></table></figure></li></ul></li></ul></li></ul></li></ul>"
    "</li></ul>"
    '<figure class="image"><img src="/media/uploads/2026/11/a.png" alt="合影">'
    "<figcaption>支部<strong>合影</strong></figcaption></figure>"
    '<p><a href="https://example.org/a" rel="noopener noreferrer">'
    "<strong>来源</strong></a><br>下一行</p>"
)


class RichTextBoundsTests:
    @pytest.mark.parametrize(
        "payload, code",
        [
            ("<div>" * 100000 + "x", "richtext_too_large"),
            ("<ul><li>" * 60000, "richtext_too_large"),
            ("<p>一是加强组织建设。</p>" * 20000, "richtext_too_large"),
            # Within the size, too deep: unclosed, void-free and closed in vain.
            ("<div>" * 257 + "x", "richtext_too_deep"),
            ("<ul><li>" * 129, "richtext_too_deep"),
            ("<div></span>" * 300, "richtext_too_deep"),
            ('<div title="</div>">' * 300, "richtext_too_deep"),
            ("<div><!--</div>-->" * 300, "richtext_too_deep"),
            ("<div><script></div></script>" * 300, "richtext_too_deep"),
            ("<table><td>" * 70, "richtext_too_deep"),
            ("<DIV>" * 257, "richtext_too_deep"),
        ],
    )
    def test_hostile_input_is_refused_before_the_parser(self, payload, code):
        refused, seconds = _refusal(payload)
        assert refused == code
        assert seconds < 0.5

    def test_formatting_the_parser_would_reopen_everywhere_is_refused(self):
        # Left open inside a closed block, the <b>s are rebuilt by the parser
        # around every later paragraph: 99 of them would take nh3 seconds.
        opened = "".join(f"<b a={index}>" for index in range(30))
        payload = f"<div>{opened}</div>" + "<p>x</p>" * 30000
        refused, seconds = _refusal(payload)
        assert refused == "richtext_too_complex"
        assert seconds < 0.5

    def test_a_tag_with_thousands_of_attributes_is_refused(self):
        attributes = " ".join(f"a{index}" for index in range(2000))
        refused, _seconds = _refusal(f"<p {attributes}>x</p>")
        assert refused == "richtext_too_complex"

    def test_the_editors_output_passes_untouched(self):
        richtext_bounds_check(EDITOR_NESTED)
        assert sanitize_html(EDITOR_NESTED) == EDITOR_NESTED

    def test_unbalanced_but_shallow_markup_passes(self):
        html = "<p>一<p>二<br><img src='/media/a.png'><hr>" * 20
        assert sanitize_html(html).count("<p>") == 40

    def test_the_largest_and_deepest_allowed_text_is_cleaned_fast(self, settings):
        depth = settings.CASEHUB_RICHTEXT_MAX_DEPTH
        opened = "<div>" * (depth - 1)
        body = "<p>一是加强组织建设。</p>"
        room = settings.CASEHUB_RICHTEXT_MAX_BYTES - len(opened.encode())
        html = opened + body * (room // len(body.encode()))
        richtext_bounds_check(html)
        started = time.perf_counter()
        sanitize_html(html)
        assert time.perf_counter() - started < 1.5

    def test_limits_come_from_the_settings(self, settings):
        settings.CASEHUB_RICHTEXT_MAX_DEPTH = 3
        assert _refusal("<div><div><div><div>x")[0] == "richtext_too_deep"
        settings.CASEHUB_RICHTEXT_MAX_BYTES = 10
        assert _refusal("<p>一二三四</p>")[0] == "richtext_too_large"

    def test_the_message_says_the_limit_in_the_users_language(self, settings):
        with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
            sanitize_html("<div>" * 257)
        assert "嵌套超过 256 层" in refused.value.messages[0]
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            sanitize_html("x" * (settings.CASEHUB_RICHTEXT_MAX_BYTES + 1))
        assert "at most 256 KB" in refused.value.messages[0]

    def test_text_whose_cleaned_form_is_too_long_is_refused(self, settings):
        # Each "<" becomes "&lt;": the stored text must itself be within bounds.
        html = "<" * (settings.CASEHUB_RICHTEXT_MAX_BYTES // 2)
        assert _refusal(html)[0] == "richtext_too_large"


class MediaImageTests:
    @pytest.mark.parametrize(
        "src",
        [
            "/media/../inbox/3/",
            "/media/%2e%2e/inbox/3/",
            "/media/%2E%2E/lang/en/?next=/",
            "/media/.%2e/inbox/3/",
            "/media/%252e%252e/inbox/3/",
            "/media/..%2finbox/3/",
            "/media/..%5cinbox/3/",
            "/media\\..\\inbox/3/",
            "/media/..\\inbox/3/",
            "/media/.\t./inbox/3/",
            "/media/uploads/../../inbox/3/",
            "/media/",
            "/media",
            "//evil.example/media/a.png",
            "/\\evil.example/media/a.png",
            "\\\\evil.example/a.png",
            " /media/../inbox/3/",
        ],
    )
    def test_an_address_that_leaves_the_media_folder_is_dropped(self, src):
        cleaned = sanitize_html(f'<p><img src="{src}" alt="x"></p>')
        assert "src=" not in cleaned, cleaned
        assert media_path(src) is None

    @pytest.mark.parametrize(
        "src, kept",
        [
            ("/media/uploads/x.png", "/media/uploads/x.png"),
            (
                "/media/uploads/2026/11/合影.png",
                "/media/uploads/2026/11/%E5%90%88%E5%BD%B1.png",
            ),
            ("/media/uploads/%E5%90%88.png", "/media/uploads/%E5%90%88.png"),
            ("/media/uploads/./x.png", "/media/uploads/x.png"),
            ("/media/uploads/a/../x.png", "/media/uploads/x.png"),
        ],
    )
    def test_an_image_of_ours_keeps_working(self, src, kept):
        cleaned = sanitize_html(f'<img src="{src}">')
        assert cleaned == f'<img src="{kept}">'


class RichTextCleanSizeTests:
    """The size limit is on what was sent; the normaliser may make it longer."""

    def test_plain_lines_within_the_limit_are_stored_as_paragraphs(self, settings):
        sent = "x\n" * 128000  # 250 KB, a paragraph of 8 bytes for every 2
        assert len(sent.encode()) <= settings.CASEHUB_RICHTEXT_MAX_BYTES
        validate_richtext(sent)
        assert richtext_clean(sent) == "<p>x</p>" * 128000  # 1000 KB

    def test_numbered_lines_within_the_limit_are_stored_as_headings(self, settings):
        sent = "<p>一、标题</p>" * (140000 // len("<p>一、标题</p>"))
        assert len(sent.encode()) <= settings.CASEHUB_RICHTEXT_MAX_BYTES
        validate_richtext(sent)
        stored = richtext_clean(sent)
        assert stored == sent.replace("p>", "h2>")
        assert len(stored.encode()) > settings.CASEHUB_RICHTEXT_MAX_BYTES

    @pytest.mark.parametrize(
        "sent", ["x\n" * 2000, "<p>一、标题</p>" * 210], ids=["plain", "numbered"]
    )
    def test_stored_text_beyond_the_limit_is_cleaned_again(self, settings, sent):
        # A case is saved, and its body cleaned, at every step of its review;
        # sent again through a form it counts as sent.
        settings.CASEHUB_RICHTEXT_MAX_BYTES = 4 * 1024
        validate_richtext(sent)
        stored = richtext_clean(sent)
        assert len(stored.encode()) > settings.CASEHUB_RICHTEXT_MAX_BYTES
        assert richtext_clean(stored) == stored
        with pytest.raises(ValidationError) as refused:
            validate_richtext(stored)
        assert refused.value.code == "richtext_too_large"

    @pytest.mark.parametrize(
        "sent, normalised",
        [
            ("x\n" * 132100, True),
            ("<p>一、标题</p>" * 13906, True),
            ("<p>正文。</p>" * 17000, False),
        ],
        ids=["plain-lines", "numbered-lines", "text-the-normaliser-leaves"],
    )
    def test_the_refusal_says_the_size_sent(self, settings, sent, normalised):
        size = len(sent.encode())
        assert size > settings.CASEHUB_RICHTEXT_MAX_BYTES
        # Text the normaliser leaves may be stored text cleaned again.
        for check in [validate_richtext, richtext_clean][: 2 if normalised else 1]:
            with translation.override("en"), pytest.raises(ValidationError) as refused:
                check(sent)
            assert refused.value.code == "richtext_too_large"
            message = refused.value.messages[0]
            assert f"too long: {-(-size // 1024)} KB with its formatting" in message
            assert "at most 256 KB" in message

    def test_growth_beyond_what_may_be_stored_is_refused_with_both_sizes(self):
        sent = "&\n" * 131072  # 256 KB, written "<p>&amp;</p>": six times as long
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            validate_richtext(sent)
        assert refused.value.code == "richtext_too_large"
        assert "the 256 KB sent become 1536 KB" in refused.value.messages[0]
        assert "at most 1024 KB can be stored" in refused.value.messages[0]
