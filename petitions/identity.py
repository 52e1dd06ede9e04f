"""Who signed: email normalisation, so one person signs a petition only once."""

from __future__ import annotations

# Providers that deliver a+b@ and a@ to the same mailbox, and those that also ignore dots.
IGNORES_DOTS = frozenset({"gmail.com", "googlemail.com"})
IGNORES_PLUS = IGNORES_DOTS | frozenset(
    {
        "outlook.com", "outlook.fr", "hotmail.com", "hotmail.fr", "live.com", "live.fr",
        "msn.com", "icloud.com", "me.com", "mac.com", "fastmail.com", "fastmail.fm",
        "protonmail.com", "proton.me", "pm.me", "yandex.ru", "yandex.com",
    }
)  # fmt: skip
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}


def normalise_email(email: str) -> str:
    """The form of ``email`` used to recognise the same person.

    Lower case everywhere (mailbox names are case-insensitive in practice); for providers
    known to ignore them, the ``+tag`` part and the dots are taken out of the local part.
    """
    local, _, domain = email.strip().lower().rpartition("@")
    domain = DOMAIN_ALIASES.get(domain, domain)
    if domain in IGNORES_PLUS:
        local = local.split("+", 1)[0]
    if domain in IGNORES_DOTS:
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_domain(email: str) -> str:
    return email.strip().lower().rpartition("@")[2]
