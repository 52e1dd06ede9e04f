"""/data/ (the bulk files, their manifest and an index) and the open-data page.

Only names listed in the current manifest are served, from the current set's folder, so
no request can reach any other file (``..``, slashes and unknown names are a JSON 404).
Files are streamed with ``FileResponse``; each carries its SHA-256 as a strong ETag and the
export time as Last-Modified, so clients and proxies revalidate with a 304.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from core.opendata import store
from core.opendata.datasets import DATASETS
from core.opendata.services import FORMATS

FILE_MAX_AGE = 3600  # a new set appears once a night; revalidation is cheap (ETag)
MANIFEST_MAX_AGE = 300


def not_found_json() -> JsonResponse:
    return JsonResponse({"detail": _("No such file.")}, status=404)


def _serve(
    request: HttpRequest,
    path: Path,
    *,
    etag: str,
    last_modified: datetime,
    media_type: str,
    attachment: bool,
    max_age: int,
) -> HttpResponseBase:
    """A 304 (or 412) when the client's copy is current, else the file, streamed."""
    modified = int(last_modified.timestamp())
    response: HttpResponseBase | None = get_conditional_response(
        request, etag=etag, last_modified=modified
    )
    if response is None:
        try:
            handle = path.open("rb")
        except FileNotFoundError:  # listed but gone: the set was pruned under this request
            return not_found_json()
        response = FileResponse(
            handle, content_type=media_type, as_attachment=attachment, filename=path.name
        )
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified)
    patch_cache_control(response, public=True, max_age=max_age)
    return response


@require_safe
def data_file(request: HttpRequest, name: str) -> HttpResponseBase:
    manifest = store.read_manifest()
    listed = manifest.file(name) if manifest is not None else None
    if manifest is None or listed is None:
        return not_found_json()
    return _serve(
        request,
        store.file_path(store.default_root(), manifest, listed),
        etag=f'"{listed.sha256}"',
        last_modified=manifest.generated_at,
        media_type=listed.media_type,
        attachment=True,
        max_age=FILE_MAX_AGE,
    )


@require_safe
def manifest_file(request: HttpRequest) -> HttpResponseBase:
    """The current manifest, from the set's own copy (it never changes once written)."""
    manifest = store.read_manifest()
    if manifest is None:
        return not_found_json()
    return _serve(
        request,
        store.set_folder(store.default_root(), manifest.set) / store.MANIFEST,
        etag=f'"{manifest.set}"',
        last_modified=manifest.generated_at,
        media_type="application/json",
        attachment=False,
        max_age=MANIFEST_MAX_AGE,
    )


@require_safe
def not_found(request: HttpRequest, rest: str) -> JsonResponse:
    """Anything else under /data/ (sub-folders, traversal attempts): a JSON 404."""
    return not_found_json()


def _files_by_dataset(manifest: store.Manifest | None) -> list[dict[str, object]]:
    sections = []
    for dataset in DATASETS:
        files = []
        if manifest is not None:
            for file_format in FORMATS:
                listed = manifest.file(dataset.file_name(file_format))
                if listed is not None:
                    files.append(listed)
        sections.append({"dataset": dataset, "files": files})
    return sections


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """/data/: the files of the current set, as a plain list of links."""
    manifest = store.read_manifest()
    return render(request, "core/open_data_index.html", {"manifest": manifest})


@require_safe
def page(request: HttpRequest) -> HttpResponse:
    """The open-data page: the files, their fields, the licence, and the API."""
    manifest = store.read_manifest()
    return render(
        request,
        "core/open_data.html",
        {"manifest": manifest, "sections": _files_by_dataset(manifest)},
    )
