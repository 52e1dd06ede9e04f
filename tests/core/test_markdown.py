from core.markdown import render_markdown


def test_markdown_renders_headings_lists_and_emphasis():
    html = render_markdown("## Why\n\n* one\n* **two**\n")
    assert "<h2>Why</h2>" in html
    assert "<li><strong>two</strong></li>" in html


def test_script_tags_and_event_handlers_are_removed():
    html = render_markdown('<script>alert(1)</script>\n\n<p onclick="x()">hi</p>')
    assert "<script" not in html
    assert "onclick" not in html
    assert "hi" in html


def test_javascript_links_lose_their_href_and_others_get_safe_rel():
    html = render_markdown("[bad](javascript:alert(1)) and [good](https://example.org)")
    assert "javascript:" not in html
    assert 'href="https://example.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_images_are_not_allowed():
    assert "<img" not in render_markdown("![tracker](https://example.org/pixel.gif)")
