"""No personal data in any answer of /api/v1/: walk the schema, call every GET path.

The seed data holds signers with emails, IP addresses, postcodes and names (some listed
publicly, some not), a department with a contact address, and petitions and a response
that are not public. Every path of the generated schema is called, detail paths once for
each real id the list gives, and no answer may contain any of it.
"""

from __future__ import annotations

import re

from django.conf import settings

from tests.api.data import EMAILS, IPS, LISTED_NAME, POSTCODES, UNLISTED_NAMES, OpenData

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
IPV4 = re.compile(r"(?<![\d.])\d{1,3}(\.\d{1,3}){3}(?![\d.])")
PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def _fetch_all(api, path: str) -> list[tuple[str, str]]:
    """(address, body) of every page of a list."""
    answers = []
    url = f"{path}?page_size=100"
    while url:
        response = api.get(url)
        assert response.status_code == 200, (url, response.content)
        answers.append((url, response.content.decode()))
        url = response.json().get("next")
        if url:
            url = url.removeprefix(settings.SITE_URL).replace("http://testserver", "")
    return answers


def walk(api) -> list[tuple[str, str]]:
    schema = api.get("/api/schema/?format=json").json()
    answers: list[tuple[str, str]] = []
    paths = [path for path, item in schema["paths"].items() if "get" in item]
    for path in paths:
        match = PATH_PARAMETER.search(path)
        if match is None:
            response = api.get(path)
            assert response.status_code == 200, path
            if "results" in response.json():
                answers += _fetch_all(api, path)
            else:
                answers.append((path, response.content.decode()))
            continue
        # A detail path: fill it with every id (or slug) its list gives.
        list_path = path[: match.start()]
        assert list_path in schema["paths"], path
        field = match.group(1)
        keys = [row[field] for _, body in _fetch_all(api, list_path) for row in _rows(body)]
        assert keys, f"no data to fill {path}"
        for key in keys:
            url = path.replace(match.group(0), str(key))
            response = api.get(url)
            assert response.status_code == 200, url
            answers.append((url, response.content.decode()))
    return answers


def _rows(body: str) -> list[dict]:
    import json

    return json.loads(body)["results"]


def test_no_answer_of_the_api_holds_personal_data(api, data: OpenData):
    answers = walk(api)
    assert len(answers) >= 11 + len(data.public)
    forbidden = [*EMAILS, *IPS, *UNLISTED_NAMES, LISTED_NAME, "secret"]
    for url, body in answers:
        lowered = body.lower()
        for value in forbidden:
            assert value.lower() not in lowered, (url, value)
        assert EMAIL.search(body) is None, (url, EMAIL.search(body))
        without_site = body.replace(settings.SITE_URL, "")
        assert IPV4.search(without_site) is None, (url, IPV4.search(without_site))
        for postcode in POSTCODES:
            assert re.search(rf"(?<!\d){postcode}(?!\d)", body) is None, (url, postcode)
        for word in ("email", "ip_address", "postcode", "signer", "creator"):
            assert f'"{word}' not in lowered, (url, word)


def test_the_walk_reaches_the_data_it_checks(api, data: OpenData):
    """The walk calls the detail of every public petition, so the check above bites."""
    urls = [url for url, _ in walk(api)]
    for petition in data.public:
        assert f"/api/v1/petitions/{petition.pk}/" in urls
    assert f"/api/v1/responses/{data.response.pk}/" in urls
    assert "/api/v1/departments/ecology/" in urls
