"""The operations console runs under a strict Content-Security-Policy: no inline script or style."""

import re

from services.monitoring.entrypoints.http import CONSOLE_POLICY, PAGE


def test_the_console_page_has_no_inline_script_style_or_handler_and_its_policy_allows_none() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert not re.search(r"\son[a-z]+=", page)
    assert '<script src="/console/console.js">' in page
    assert "script-src 'self';" in CONSOLE_POLICY and "unsafe" not in CONSOLE_POLICY
