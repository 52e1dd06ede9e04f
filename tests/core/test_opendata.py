"""The bulk open-data export: its files, its manifest, its publication and its memory."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tracemalloc
import zlib
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.utils import timezone

from core.locks import exclusive
from core.models import AuditEvent
from core.opendata import services, store
from core.opendata.datasets import DATASETS, Dataset, petition_rows
from core.opendata.writers import LIST_SEPARATOR
from petitions.models import (
    Country,
    CountryCount,
    HourlyCount,
    Petition,
    Region,
    RegionCount,
    Topic,
)
from responses.models import Department, Response
from tests.factories import UserFactory
from tests.petitions.conftest import make_petition, make_signature

pytestmark = pytest.mark.django_db

# Personal data seeded below; none of it may appear in any file.
SIGNER_EMAIL = "zoe.secret-signer@example.org"
SIGNER_NAME = "Zoé Signername"
SIGNER_IP = "203.0.113.77"
SIGNER_POSTCODE = "75011"
CREATOR_EMAIL = "camille.creator@example.org"
CREATOR_NAME = "Camille Creatorname"
DEPARTMENT_EMAIL = "petitions-desk@ecology.example.gov"
DRAFTER_EMAIL = "officer.drafter@example.gov"
PERSONAL = [
    SIGNER_EMAIL,
    SIGNER_NAME,
    SIGNER_IP,
    SIGNER_POSTCODE,
    CREATOR_EMAIL,
    CREATOR_NAME,
    DEPARTMENT_EMAIL,
    DRAFTER_EMAIL,
]


@pytest.fixture(autouse=True)
def open_data_root(settings, tmp_path):
    settings.OPEN_DATA_ROOT = str(tmp_path / "open-data")
    settings.SITE_URL = "https://petitions.example.org"
    return Path(settings.OPEN_DATA_ROOT)


class World:
    """What ``world`` seeded: public and non-public rows side by side."""

    open: Petition
    closed: Petition
    offensive: Petition
    not_public: list[Petition]
    response: Response
    draft_response: Response
    department: Department
    topic: Topic


@pytest.fixture
def world(db) -> World:
    w = World()
    france = Country.objects.create(code="FR", name_en="France", name_fr="France")
    paris = Region.objects.create(
        kind="fr-departement", code="75", name="Paris", country=france, population=2_100_000
    )
    w.department = Department.objects.create(
        name_en="Ministry of Ecology",
        name_fr="Ministère de l'Écologie",
        slug="ecology",
        acronym="ECO",
        contact_email=DEPARTMENT_EMAIL,
    )
    w.topic = Topic.objects.create(
        slug="environment",
        name_en="Environment",
        name_fr="Environnement",
        lead_department=w.department,
    )
    creator = UserFactory(email=CREATOR_EMAIL, display_name=CREATOR_NAME)
    now = timezone.now()
    w.open = make_petition(
        title="Plant more trees, “now”, please",
        summary='Shade, cooler streets, "clean" air;\nand a second line.',
        creator=creator,
        creator_name=CREATOR_NAME,
        signature_count=3,
    )
    w.open.topics.add(w.topic)
    w.closed = make_petition(
        title="Closed one", state=Petition.State.CLOSED, closed_at=now, creator=creator
    )
    w.offensive = make_petition(
        title="Rejected and hidden text",
        summary="Something offensive",
        state=Petition.State.REJECTED,
        rejection_reason=Petition.RejectionReason.OFFENSIVE,
        rejected_at=now,
        creator=creator,
    )
    w.not_public = [
        make_petition(title=f"Not public {state}", summary=f"Secret {state}", state=state)
        for state in (
            Petition.State.DRAFT,
            Petition.State.COLLECTING_SUPPORTERS,
            Petition.State.AWAITING_MODERATION,
            Petition.State.HIDDEN,
            Petition.State.REMOVED,
        )
    ]
    hidden = w.not_public[3]
    for petition in (w.open, hidden):
        make_signature(
            petition,
            SIGNER_EMAIL,
            name=SIGNER_NAME,
            postcode=SIGNER_POSTCODE,
            ip_address=SIGNER_IP,
            region=paris,
            listed_publicly=True,
        )
        RegionCount.objects.create(petition=petition, region=paris, count=3)
        CountryCount.objects.create(petition=petition, country="FR", count=3)
        # 10:00 and 11:00 UTC on 1 March, and 23:30 UTC on 1 March, which is 2 March in Paris.
        for hour, count in ((10, 1), (11, 1), (23, 1)):
            HourlyCount.objects.create(
                petition=petition, hour=datetime(2026, 3, 1, hour, 0, tzinfo=UTC), count=count
            )
    drafter = UserFactory(email=DRAFTER_EMAIL)
    w.response = Response.objects.create(
        department=w.department,
        title="Our response",
        body="We **agree**: trees & shade.\n\n- one\n- two",
        state=Response.State.PUBLISHED,
        published_at=now,
        drafter=drafter,
    )
    w.response.petitions.add(w.open, hidden)
    w.draft_response = Response.objects.create(
        department=w.department, title="Draft answer", body="Not yet", drafter=drafter
    )
    w.draft_response.petitions.add(w.closed)
    return w


@contextmanager
def export_lock_held_elsewhere():
    """Another process's export: on PostgreSQL another session (the same one re-enters)."""
    if connection.vendor != "postgresql":
        with exclusive(services.LOCK_NAME) as acquired:
            assert acquired
            yield
        return
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [zlib.crc32(services.LOCK_NAME.encode())])
        yield
    finally:
        other.close()  # the session's end releases its advisory lock


def export(root: Path | None = None, **kwargs) -> store.Manifest:
    return services.export_open_data(root=root, **kwargs)


def current_folder(root: Path) -> Path:
    manifest = store.read_manifest(root)
    assert manifest is not None
    return store.set_folder(root, manifest.set)


def streamed_json(response):
    return json.loads(b"".join(response.streaming_content))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_json(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))


# --- The files ---------------------------------------------------------------------------------


def test_export_writes_every_data_set_as_csv_and_json_with_a_header_row(world, open_data_root):
    manifest = export()
    folder = current_folder(open_data_root)
    names = sorted(listed.name for listed in manifest.files)
    assert names == sorted(f"{d.name}.{fmt}" for d in DATASETS for fmt in ("csv", "json"))
    for dataset in DATASETS:
        with (folder / f"{dataset.name}.csv").open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == dataset.columns
        records = read_json(folder / f"{dataset.name}.json")
        assert all(list(record) == dataset.columns for record in records)


def test_csv_and_json_hold_the_same_rows(world, open_data_root):
    export()
    folder = current_folder(open_data_root)
    for dataset in DATASETS:
        from_csv = read_csv(folder / f"{dataset.name}.csv")
        from_json = read_json(folder / f"{dataset.name}.json")
        assert len(from_csv) == len(from_json)
        for row, record in zip(from_csv, from_json, strict=True):
            assert row["url" if "url" in row else dataset.columns[0]] == str(
                record["url" if "url" in record else dataset.columns[0]]
            )


def test_petitions_file_lists_the_public_petitions_only(world, open_data_root):
    export()
    folder = current_folder(open_data_root)
    rows = read_csv(folder / "petitions.csv")
    assert [int(row["id"]) for row in rows] == sorted(
        [world.open.pk, world.closed.pk, world.offensive.pk]
    )
    by_id = {int(row["id"]): row for row in rows}
    first = by_id[world.open.pk]
    assert first["title"] == "Plant more trees, “now”, please"
    assert first["summary"] == 'Shade, cooler streets, "clean" air;\nand a second line.'
    assert first["topics"] == "environment"
    assert first["signature_count"] == "3"
    assert first["state"] == "open"
    assert first["url"] == f"https://petitions.example.org/petitions/{world.open.pk}/"
    assert first["deadline"].endswith("Z")
    records = {record["id"]: record for record in read_json(folder / "petitions.json")}
    assert records[world.open.pk]["topics"] == ["environment"]
    assert records[world.open.pk]["closed_at"] is None
    assert records[world.open.pk]["response_threshold"] == 10


def test_a_rejection_whose_text_is_hidden_keeps_its_title_but_not_its_summary(
    world, open_data_root
):
    export()
    records = {r["id"]: r for r in read_json(current_folder(open_data_root) / "petitions.json")}
    offensive = records[world.offensive.pk]
    assert offensive["title"] == "Rejected and hidden text"
    assert offensive["summary"] == ""
    assert offensive["rejection_reason"] == "offensive"
    everything = (current_folder(open_data_root) / "petitions.csv").read_text(encoding="utf-8")
    assert "Something offensive" not in everything


def test_non_public_petitions_and_unpublished_responses_are_in_no_file(world, open_data_root):
    export()
    folder = current_folder(open_data_root)
    hidden_ids = {p.pk for p in world.not_public}
    for name in ("signatures-by-region", "signatures-by-country", "signatures-by-day"):
        ids = {int(row["petition_id"]) for row in read_csv(folder / f"{name}.csv")}
        assert ids == {world.open.pk}, name
    responses = read_json(folder / "responses.json")
    assert [r["id"] for r in responses] == [world.response.pk]
    assert responses[0]["petitions"] == [world.open.pk]  # not the hidden one it also answers
    everything = "".join(p.read_text(encoding="utf-8") for p in folder.iterdir())
    assert "Not public" not in everything
    assert "Secret" not in everything
    assert "Draft answer" not in everything
    assert not hidden_ids & {int(r["id"]) for r in read_csv(folder / "petitions.csv")}


def test_files_hold_no_personal_data(world, open_data_root):
    export()
    root_files = [path for path in open_data_root.rglob("*") if path.is_file()]
    assert len(root_files) > len(DATASETS) * 2
    for path in root_files:
        text = path.read_text(encoding="utf-8")
        for value in PERSONAL:
            assert value not in text, f"{value} found in {path.name}"
        assert "@" not in text, path.name  # no email address of any kind


def test_responses_carry_markdown_and_plain_text(world, open_data_root):
    export()
    row = read_csv(current_folder(open_data_root) / "responses.csv")[0]
    assert row["body"] == "We **agree**: trees & shade.\n\n- one\n- two"
    assert "**" not in row["body_plain"]
    assert "We agree: trees & shade." in row["body_plain"]
    assert row["department"] == "ecology"
    assert row["petitions"] == str(world.open.pk)
    assert row["updated_at"] == row["published_at"]


def test_departments_and_topics_are_exported_without_contact_addresses(world, open_data_root):
    export()
    folder = current_folder(open_data_root)
    [department] = read_json(folder / "departments.json")
    assert department["slug"] == "ecology"
    assert department["name_fr"] == "Ministère de l'Écologie"
    assert department["response_target_days"] == 30
    assert department["petitions_routed"] == 0
    assert "contact_email" not in department
    [topic] = read_json(folder / "topics.json")
    assert topic == {
        "slug": "environment",
        "name_en": "Environment",
        "name_fr": "Environnement",
        "lead_department": "ecology",
    }


def test_counts_by_region_and_country(world, open_data_root):
    export()
    folder = current_folder(open_data_root)
    assert read_json(folder / "signatures-by-region.json") == [
        {
            "petition_id": world.open.pk,
            "region_kind": "fr-departement",
            "region_code": "75",
            "region_name": "Paris",
            "region_population": 2_100_000,
            "count": 3,
        }
    ]
    assert read_json(folder / "signatures-by-country.json") == [
        {"petition_id": world.open.pk, "country": "FR", "count": 3}
    ]


def test_counts_by_day_add_up_the_hours_of_each_day_in_the_site_time_zone(world, open_data_root):
    export()
    days = read_json(current_folder(open_data_root) / "signatures-by-day.json")
    assert days == [
        {"petition_id": world.open.pk, "date": "2026-03-01", "count": 2},
        {"petition_id": world.open.pk, "date": "2026-03-02", "count": 1},  # 23:30 UTC
    ]


def test_an_empty_site_exports_files_with_only_their_headers(db, open_data_root):
    manifest = export()
    folder = current_folder(open_data_root)
    assert all(listed.rows == 0 for listed in manifest.files)
    assert read_json(folder / "petitions.json") == []
    assert (folder / "petitions.csv").read_text(encoding="utf-8").startswith("id,title,")


# --- The manifest ------------------------------------------------------------------------------


def test_manifest_rows_bytes_and_sha256_match_the_files(world, open_data_root):
    manifest = export()
    folder = current_folder(open_data_root)
    on_disk = json.loads((open_data_root / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["generated_at"].endswith("Z")
    assert on_disk["licence"]["name"] == "Licence Ouverte / Open Licence 2.0"
    assert {item["name"] for item in on_disk["files"]} == {f.name for f in manifest.files}
    for item in on_disk["files"]:
        data = (folder / item["name"]).read_bytes()
        assert item["bytes"] == len(data)
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        if item["format"] == "csv":
            assert item["rows"] == len(read_csv(folder / item["name"]))
            assert item["media_type"] == "text/csv; charset=utf-8"
        else:
            assert item["rows"] == len(json.loads(data))
        assert item["description"]
        assert item["url"] == f"https://petitions.example.org/data/{item['name']}"
    assert on_disk == json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def test_petitions_rows_in_the_manifest_count_the_public_petitions(world):
    manifest = export()
    listed = manifest.file("petitions.csv")
    assert listed is not None
    assert listed.rows == 3


def test_the_export_is_recorded_in_the_audit_log(world):
    manifest = export()
    event = AuditEvent.objects.get(action="open_data.exported")
    assert event.data["set"] == manifest.set
    assert event.data["files"]["petitions.json"] == 3


# --- Publishing a set at once ------------------------------------------------------------------


def test_the_previous_set_is_served_until_the_new_one_is_complete(world, client, open_data_root):
    first = export()
    old_sha = first.file("petitions.csv").sha256
    make_petition(title="Opened during the night")
    seen = {}

    def rows_then_look(chunk_size: int):
        yield from petition_rows(chunk_size)
        # The new petitions file is written, the set is not published: readers see the old.
        manifest = streamed_json(client.get("/data/manifest.json"))
        seen["set"] = manifest["set"]
        seen["etag"] = client.get("/data/petitions.csv")["ETag"]

    looking = Dataset("petitions", "", "", DATASETS[0].fields, DATASETS[0].count, rows_then_look)
    second = export(datasets=[looking, *DATASETS[1:]])
    assert seen == {"set": first.set, "etag": f'"{old_sha}"'}
    assert streamed_json(client.get("/data/manifest.json"))["set"] == second.set
    assert client.get("/data/petitions.csv")["ETag"] == f'"{second.file("petitions.csv").sha256}"'
    assert second.file("petitions.csv").rows == 4


def test_a_failed_export_leaves_the_current_set_and_no_partial_files(world, open_data_root):
    first = export()

    def broken(chunk_size: int):
        yield from petition_rows(chunk_size)
        raise RuntimeError("database went away")

    failing = Dataset("petitions", "", "", DATASETS[0].fields, DATASETS[0].count, broken)
    with pytest.raises(RuntimeError):
        export(datasets=[*DATASETS[1:], failing])
    assert store.read_manifest(open_data_root).set == first.set
    sets = sorted(path.name for path in (open_data_root / "sets").iterdir())
    assert sets == [first.set]
    assert not list(open_data_root.rglob("*.partial"))


def test_two_previous_sets_are_kept_and_older_ones_removed(world, open_data_root):
    names = [export().set for _ in range(5)]
    kept = sorted(path.name for path in (open_data_root / "sets").iterdir())
    assert kept == names[-3:]
    assert store.read_manifest(open_data_root).set == names[-1]


def test_an_export_refuses_to_run_beside_another(world, open_data_root):
    with export_lock_held_elsewhere(), pytest.raises(services.ExportRunning):
        export()
    assert not (open_data_root / "manifest.json").exists()


# --- Memory ------------------------------------------------------------------------------------


def seed_petitions(count: int, prefix: str) -> None:
    creator = UserFactory()
    now = timezone.now()
    Petition.objects.bulk_create(
        Petition(
            title=f"Petition number {index} about something that matters",
            summary="A summary of a reasonable length, " * 8,
            language="en",
            creator=creator,
            creator_name="Someone",
            state=Petition.State.OPEN,
            opened_at=now,
            deadline=now + timedelta(days=30),
            signature_count=index,
            supporter_token=f"{prefix}-{index}",
        )
        for index in range(count)
    )


def peak_of_export(root: Path, chunk_size: int) -> tuple[int, int]:
    """(peak bytes allocated while exporting the petitions, bytes written)."""
    tracemalloc.start()
    try:
        manifest = export(root=root, datasets=[DATASETS[0]], chunk_size=chunk_size)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, sum(listed.bytes for listed in manifest.files)


def test_memory_stays_flat_as_the_data_grows(db, tmp_path):
    seed_petitions(200, "small")
    # A first run fills the one-time caches (templates, URL resolvers, query compilers).
    export(root=tmp_path / "warm-up", datasets=[DATASETS[0]], chunk_size=100)
    small_peak, small_bytes = peak_of_export(tmp_path / "small", chunk_size=100)
    seed_petitions(1800, "large")
    large_peak, large_bytes = peak_of_export(tmp_path / "large", chunk_size=100)
    # Ten times the data...
    assert large_bytes > 9 * small_bytes
    # ...in about the same memory, and far less than the data itself.
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    assert large_peak < large_bytes / 2, (large_peak, large_bytes)
    # The measure can tell: fetching everything in one chunk costs memory with the data.
    whole_peak, _bytes = peak_of_export(tmp_path / "whole", chunk_size=10_000)
    assert whole_peak > 3 * large_peak, (large_peak, whole_peak)


# --- The command and the task ------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_command_prints_the_manifest_summary(world, open_data_root):
    out = io.StringIO()
    call_command("export_open_data", stdout=out)
    text = out.getvalue()
    manifest = store.read_manifest(open_data_root)
    assert f"Published set {manifest.set}" in text
    assert "petitions: 3 rows" in text  # not a terminal: one line per data set, no bar
    assert "\r" not in text
    for listed in manifest.files:
        assert listed.name in text
        assert listed.sha256 in text
    assert str(open_data_root / "manifest.json") in text


def test_the_command_draws_a_progress_bar_on_a_terminal(world):
    out = Terminal()
    call_command("export_open_data", stdout=out)
    text = out.getvalue()
    assert "\r\x1b[2K" in text
    assert "petitions                [########################] 100%  3 / 3 rows" in text


def test_the_command_writes_into_the_output_folder(world, tmp_path, open_data_root):
    target = tmp_path / "elsewhere"
    call_command("export_open_data", "--output", str(target), stdout=io.StringIO())
    assert store.read_manifest(target) is not None
    assert not open_data_root.exists()


def test_the_command_fails_clearly_while_another_export_runs(world):
    with export_lock_held_elsewhere(), pytest.raises(CommandError, match="already running"):
        call_command("export_open_data", stdout=io.StringIO())


def test_the_task_runs_the_same_export(world, open_data_root):
    from core.opendata.tasks import export_open_data

    name = export_open_data.delay().get()
    manifest = store.read_manifest(open_data_root)
    assert manifest is not None
    assert manifest.set == name
    assert manifest.file("petitions.csv").rows == 3


def test_the_task_does_nothing_while_another_export_runs(world, open_data_root):
    from core.opendata.tasks import export_open_data

    with export_lock_held_elsewhere():
        assert export_open_data.delay().get() is None
    assert not (open_data_root / "manifest.json").exists()


def test_the_task_is_registered_with_celery_and_scheduled_nightly(settings):
    from config.celery import app

    app.loader.import_default_modules()
    assert "core.opendata.tasks.export_open_data" in app.tasks
    entry = settings.CELERY_BEAT_SCHEDULE["export-open-data"]
    assert entry["task"] == "core.opendata.tasks.export_open_data"
    assert entry["options"]["queue"] == "default"


# --- Serving /data/ ----------------------------------------------------------------------------


def test_a_file_is_served_with_its_type_name_validators_and_cache_headers(world, client):
    manifest = export()
    listed = manifest.file("petitions.csv")
    response = client.get("/data/petitions.csv", HTTP_ORIGIN="https://reuser.example.net")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == listed.sha256
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="petitions.csv"'
    assert response["Content-Length"] == str(listed.bytes)
    assert response["ETag"] == f'"{listed.sha256}"'
    assert response["Last-Modified"]
    assert "public" in response["Cache-Control"]
    assert "max-age=" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_json_files_are_served_as_json(world, client):
    export()
    response = client.get("/data/responses.json")
    assert response["Content-Type"] == "application/json"
    assert json.loads(b"".join(response.streaming_content))[0]["title"] == "Our response"


def test_a_current_copy_gets_a_304(world, client):
    export()
    first = client.get("/data/petitions.json")
    by_etag = client.get("/data/petitions.json", HTTP_IF_NONE_MATCH=first["ETag"])
    by_date = client.get("/data/petitions.json", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert by_etag.status_code == by_date.status_code == 304
    assert by_etag["ETag"] == first["ETag"]
    assert "public" in by_etag["Cache-Control"]
    stale = client.get("/data/petitions.json", HTTP_IF_NONE_MATCH='"something-else"')
    assert stale.status_code == 200


def test_the_manifest_is_served_as_json_with_validators(world, client):
    manifest = export()
    response = client.get("/data/manifest.json", HTTP_ORIGIN="https://reuser.example.net")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(b"".join(response.streaming_content))["set"] == manifest.set
    assert response["ETag"] == f'"{manifest.set}"'
    assert response["Access-Control-Allow-Origin"] == "*"
    again = client.get("/data/manifest.json", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_head_request_answers_the_headers(world, client):
    export()
    response = client.head("/data/petitions.csv")
    assert response.status_code == 200
    assert response["ETag"]


def test_writing_to_data_is_not_allowed(world, client):
    export()
    assert client.post("/data/petitions.csv").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/data/nothing.csv",
        "/data/..",
        "/data/%2e%2e",
        "/data/.manifest.json.partial",
        "/data/sets/",
        "/data/sets/x/petitions.csv",
        "/data/../manifest.json",
        "/data/%2e%2e%2fmanifest.json",
        "/data/..%2fsettings.py",
        "/data/petitions.csv/",
    ],
)
def test_unknown_names_and_traversal_attempts_get_a_json_404(world, client, path):
    export()
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "No such file."}


def test_only_the_current_sets_files_are_served_even_if_others_exist(world, client, open_data_root):
    export()
    (current_folder(open_data_root) / "extra.csv").write_text("secret", encoding="utf-8")
    assert client.get("/data/extra.csv").status_code == 404


def test_before_the_first_export_the_manifest_and_files_are_404(db, client):
    assert client.get("/data/manifest.json").status_code == 404
    assert client.get("/data/petitions.csv").status_code == 404


# --- The pages ---------------------------------------------------------------------------------


def test_the_open_data_page_describes_every_file_in_english_and_french(world, client):
    manifest = export()
    english = client.get("/open-data/", HTTP_ACCEPT_LANGUAGE="en")
    french = client.get("/open-data/", HTTP_ACCEPT_LANGUAGE="fr")
    assert english.status_code == french.status_code == 200
    assert '<html lang="en"' in english.text
    assert '<html lang="fr"' in french.text
    assert "<h1>Open data</h1>" in english.text
    assert "<h1>Données ouvertes</h1>" in french.text
    for page in (english.text, french.text):
        assert "Licence Ouverte / Open Licence 2.0" in page
        assert 'href="/api/docs/"' in page
        assert "<caption" in page
        assert 'scope="col"' in page
        for listed in manifest.files:
            assert f'href="/data/{listed.name}"' in page
            assert listed.sha256 in page
        for dataset in DATASETS:
            for field in dataset.fields:
                assert f"<code>{field.name}</code>" in page


def test_the_open_data_page_says_when_no_files_exist_yet(db, client):
    english = client.get("/open-data/", HTTP_ACCEPT_LANGUAGE="en")
    french = client.get("/open-data/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "No files have been published yet." in english.text
    assert "Aucun fichier n'a encore été publié." in french.text
    assert 'href="/data/petitions.csv"' not in english.text


def test_the_data_folder_lists_the_files(world, client):
    manifest = export()
    response = client.get("/data/")
    assert response.status_code == 200
    assert 'href="/data/manifest.json"' in response.text
    for listed in manifest.files:
        assert f'href="/data/{listed.name}"' in response.text


def test_the_footer_links_to_the_open_data_page(db, client):
    assert 'href="/open-data/"' in client.get("/").text


def test_lists_in_csv_use_the_documented_separator(world, open_data_root):
    world.offensive.topics.add(world.topic)
    second = Topic.objects.create(slug="cities", name_en="Cities", name_fr="Villes")
    world.open.topics.add(second)
    export()
    rows = {int(r["id"]): r for r in read_csv(current_folder(open_data_root) / "petitions.csv")}
    assert rows[world.open.pk]["topics"] == f"cities{LIST_SEPARATOR}environment"
