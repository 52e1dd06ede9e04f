"""The public pages in Chromium: keyboard, languages, accessibility (axe-core), phones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.integration.conftest import assert_accessible, collect_console_errors

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}


def open_page(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, f"{path} answered {response.status}"


def test_home_page_starts_with_a_skip_link_to_the_main_content(page: Page) -> None:
    open_page(page, "/")

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_home_page_loads_in_english_without_console_errors_or_serious_axe_violations(
    page: Page, console_errors: list[str]
) -> None:
    open_page(page, "/")

    assert page.locator("html").get_attribute("lang") == "en"
    assert_accessible(page)
    assert console_errors == []


def test_the_french_switcher_reloads_the_page_in_french_still_accessible(
    page: Page, console_errors: list[str]
) -> None:
    open_page(page, "/")

    page.get_by_role("button", name="Français").click()

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.wait_for_load_state("load")
    assert page.url.rstrip("/") == page.evaluate("location.origin")
    expect(page.get_by_role("button", name="English")).to_be_visible()
    assert_accessible(page)
    assert console_errors == []


def test_login_page_has_no_console_errors_or_serious_axe_violations(
    page: Page, console_errors: list[str]
) -> None:
    open_page(page, "/accounts/login/")

    expect_fields(page, ["email", "password"])
    assert_accessible(page)
    assert console_errors == []


def test_an_empty_signup_shows_a_focused_error_summary_and_stays_accessible(
    page: Page, console_errors: list[str]
) -> None:
    open_page(page, "/accounts/signup/")
    assert_accessible(page)

    page.locator("main form button[type=submit]").first.click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.locator("a[href='#id_email']")).to_be_visible()
    assert_accessible(page)
    assert console_errors == []


def expect_fields(page: Page, types: list[str]) -> None:
    for input_type in types:
        expect(page.locator(f"main input[type={input_type}]")).to_be_visible()


@pytest.fixture
def phone(browser: Browser, live_server: Any) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
        extra_http_headers={"Accept-Language": "fr-FR,fr;q=0.9"},
    )
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/"])
def test_on_a_phone_pages_fit_the_screen_without_horizontal_scrolling(
    phone: Page, path: str
) -> None:
    errors = collect_console_errors(phone)
    open_page(phone, path)

    assert phone.evaluate("window.innerWidth") == PHONE["width"]
    widths = phone.evaluate(
        "({page: document.documentElement.scrollWidth, screen: window.innerWidth})"
    )
    assert widths["page"] <= widths["screen"], f"{path} scrolls sideways: {widths}"
    assert errors == []
