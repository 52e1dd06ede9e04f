"""Reading the emails tests capture: decoded headers and the text of each part."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message


def decoded(value: object) -> str:
    """A header as a reader sees it: encoded words decoded, folding undone."""
    return " ".join(str(make_header(decode_header(str(value)))).split())


def parts(message: Message) -> dict[str, str]:
    """{content type: decoded text} of each leaf part."""
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode()
    return found
