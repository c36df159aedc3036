import pytest

from casehub.richtext import sanitize_html

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
