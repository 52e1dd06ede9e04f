"""Bulk seeding for the open-data benchmark: petitions, signatures and their stored counts.

Rows stream into PostgreSQL with COPY FROM STDIN from generators, so memory stays flat
whatever the size. COPY bypasses Django (no defaults, no ``auto_now_add``), so every NOT
NULL column is written here, and ``check_columns`` fails loudly when a migration adds one
this module does not know about. The stored counts (the petition's, by region with the
parents rolled up, by country, by hour) are then aggregated in SQL from the signatures
actually written, as the counting task would have left them.

The data is deterministic for a given seed: the same sizes give the same rows.
"""

from __future__ import annotations

import io
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.stack import BenchError, say

NULL = "\\N"
HOUR = 3600.0
DAY = 24 * HOUR
OPEN_DAYS = 182  # petitions are open six months
HISTORY_DAYS = 3 * 365

# Thresholds of a site a little smaller than a national one, so that a few per cent of the
# signed petitions await or have a response and the responses endpoints have data.
RESPONSE_THRESHOLD = 500
CONSIDERATION_THRESHOLD = 5_000
RESPONDED_SHARE = 0.8  # of the petitions over the response threshold

# (state, share of petitions). Only open and closed petitions ever collected signatures.
PETITION_STATES = (
    ("open", 0.30),
    ("closed", 0.55),
    ("rejected", 0.12),
    ("awaiting_moderation", 0.03),
)
REJECTION_REASONS = ("duplicate", "not_responsible", "unclear", "already_done", "offensive")
# (state, share of signatures): counted rows are exactly the confirmed ones.
SIGNATURE_STATES = (("confirmed", 0.93), ("pending", 0.05), ("withdrawn", 0.02))
# (country, share of signatures); FR and US postcodes map to a region through the prefixes.
COUNTRIES = (
    ("FR", 0.88), ("BE", 0.02), ("CH", 0.015), ("DE", 0.015), ("ES", 0.015), ("GB", 0.015),
    ("US", 0.02), ("CA", 0.01), ("IT", 0.01),
)  # fmt: skip

WORDS_FR = (
    "vélo", "piste", "école", "santé", "hôpital", "retraite", "climat", "forêt", "eau",
    "énergie", "transport", "train", "logement", "loyer", "étudiant", "bourse",
    "agriculture", "paysan", "pesticide", "abeille", "océan", "plastique", "recyclage",
    "impôt", "salaire", "emploi", "handicap", "accessibilité", "culture", "bibliothèque",
    "musée", "sport", "piscine", "sécurité", "route", "village", "commune", "métropole",
    "internet", "fibre", "démocratie", "référendum", "vote", "justice", "prison", "police",
    "animaux", "chasse", "pêche", "montagne", "littoral",
)  # fmt: skip
WORDS_EN = (
    "cycling", "school", "health", "hospital", "pension", "climate", "forest", "water",
    "energy", "transport", "rail", "housing", "rent", "student", "grant", "farming",
    "pesticide", "bees", "ocean", "plastic", "recycling", "tax", "wages", "jobs",
    "disability", "access", "culture", "library", "museum", "sport", "swimming", "safety",
    "roads", "village", "internet", "broadband", "democracy", "referendum", "vote",
    "justice", "prison", "police", "animals", "fishing",
)  # fmt: skip
FIRST_NAMES = (
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Lucas", "Hugo", "Louis", "Jules", "Nathan",
    "Sarah", "Emma", "Paul", "Anna", "Yanis",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent",
)  # fmt: skip

TOPICS = (
    ("environnement", "Environment", "Environnement"),
    ("sante", "Health", "Santé"),
    ("education", "Education", "Éducation"),
    ("transports", "Transport", "Transports"),
    ("logement", "Housing", "Logement"),
    ("agriculture", "Agriculture", "Agriculture"),
    ("economie", "Economy", "Économie"),
    ("justice", "Justice", "Justice"),
    ("culture", "Culture", "Culture"),
    ("numerique", "Digital", "Numérique"),
    ("institutions", "Institutions", "Institutions"),
    ("social", "Social affairs", "Affaires sociales"),
)


@dataclass
class SeedSize:
    petitions: int
    signatures: int
    seed: int = 20261206


@dataclass
class SeedReport:
    """What was written and how long each step took (seconds)."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    top_petition: int = 0
    top_count: int = 0

    def describe(self) -> list[str]:
        rows = ", ".join(f"{table} {n:,}" for table, n in self.rows.items())
        steps = ", ".join(f"{step} {s:.1f} s" for step, s in self.seconds.items())
        return [f"rows: {rows}", f"steps: {steps}"]


# --- Streaming COPY ------------------------------------------------------------------------


class LineStream(io.RawIOBase):
    """A file-like object over an iterator of COPY text lines, for ``copy_expert``.

    psycopg2 calls ``read(size)`` until it gets b"": the lines are encoded and handed out in
    pieces of at most ``size`` bytes, so at most one batch is ever held in memory.
    """

    def __init__(self, lines: Iterable[str], on_rows: Callable[[int], None]) -> None:
        self.lines = iter(lines)
        self.on_rows = on_rows
        self.buffer = b""
        self.interrupted = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            return self._read(size)
        except KeyboardInterrupt:
            # psycopg2 turns an exception in read() into QueryCanceled: remember the cause.
            self.interrupted = True
            raise

    def _read(self, size: int) -> bytes:
        while len(self.buffer) < max(size, 1):
            batch = [line for _, line in zip(range(2000), self.lines, strict=False)]
            if not batch:
                break
            self.buffer += "".join(batch).encode()
            self.on_rows(len(batch))
        if size < 0:
            size = len(self.buffer)
        piece, self.buffer = self.buffer[:size], self.buffer[size:]
        return piece


class Progress:
    """Rows per second as a bar redrawn in place on a terminal, a line every 10 s elsewhere."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total = label, max(total, 1)
        self.rows = 0
        self.started = time.monotonic()
        self.shown = 0.0
        self.tty = sys.stdout.isatty()

    def advance(self, rows: int) -> None:
        self.rows += rows
        now = time.monotonic()
        if now - self.shown < (0.2 if self.tty else 10.0):
            return
        self.shown = now
        if self.tty:
            print(f"\r\x1b[2K{self.line(now)}", end="", flush=True)
        else:
            say(self.line(now))

    def line(self, now: float) -> str:
        done = min(self.rows, self.total)
        width = 30
        filled = done * width // self.total
        rate = self.rows / max(now - self.started, 1e-6)
        return (
            f"{self.label:<12} [{'#' * filled}{'.' * (width - filled)}] "
            f"{done * 100 // self.total:>3}%  {self.rows:,}/{self.total:,} rows  {rate:,.0f} rows/s"
        )

    def finish(self) -> float:
        elapsed = time.monotonic() - self.started
        if self.tty:
            print("\r\x1b[2K", end="", flush=True)
        say(
            f"{self.label}: {self.rows:,} rows in {elapsed:.1f} s "
            f"({self.rows / max(elapsed, 1e-6):,.0f} rows/s)"
        )
        return elapsed


def copy_rows(
    cursor: Any, table: str, columns: list[str], lines: Iterable[str], total: int
) -> float:
    progress = Progress(table.split("_", 1)[-1], total)
    stream = LineStream(lines, progress.advance)
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        cursor.copy_expert(sql, stream, size=1 << 20)
    except Exception as error:
        if stream.interrupted:  # Ctrl-C or SIGTERM while streaming: clean up as for any other
            raise KeyboardInterrupt from error
        raise
    return progress.finish()


def text(value: object) -> str:
    """One COPY text field; the generated values never hold tabs, newlines or backslashes."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def line(*values: object) -> str:
    return "\t".join(map(text, values)) + "\n"


def check_columns(cursor: Any, table: str, written: list[str]) -> None:
    """COPY leaves out what Django would fill in: fail if a NOT NULL column is not written."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
        [table],
    )
    missing = sorted({row[0] for row in cursor.fetchall()} - set(written) - {"id"})
    if missing:
        raise BenchError(f"bench.seed does not write {table}.{', '.join(missing)}: update it")


def reset_sequence(cursor: Any, table: str) -> None:
    """Rows were written with explicit ids: the next id the site makes must follow them."""
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our table names
        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
    )


# --- The plan: who gets how many signatures --------------------------------------------------


@dataclass
class PetitionPlan:
    pk: int
    state: str
    language: str
    created_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    deadline: datetime | None
    signatures: int = 0


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    roll, total = rng.random(), 0.0
    for value, share in weighted:
        total += share
        if roll < total:
            return value
    return weighted[-1][0]


def plan_petitions(size: SeedSize, now: datetime) -> list[PetitionPlan]:
    """States and dates of every petition, and its number of signatures.

    Signatures follow a Zipf law (exponent 1.1) over the petitions that opened, in a random
    order: at 100,000 petitions and 10,000,000 signatures the largest has about 1.4 million,
    the hundredth about 8,000, and most a handful, as on real petition sites. (A plan is
    small: a few dozen bytes per petition.)
    """
    rng = random.Random(  # noqa: S311 - reproducible data, not secrets
        size.seed
    )
    plans: list[PetitionPlan] = []
    for pk in range(1, size.petitions + 1):
        state = pick(rng, PETITION_STATES)
        language = "fr" if rng.random() < 0.85 else "en"
        opened = closed = deadline = None
        if state == "open":
            opened = now - timedelta(seconds=rng.uniform(DAY, (OPEN_DAYS - 1) * DAY))
        elif state == "closed":
            opened = now - timedelta(seconds=rng.uniform((OPEN_DAYS + 1) * DAY, HISTORY_DAYS * DAY))
        if opened is not None:
            deadline = opened + timedelta(days=OPEN_DAYS)
            closed = deadline if state == "closed" else None
            created = opened - timedelta(days=rng.uniform(1, 10))
        else:
            created = now - timedelta(seconds=rng.uniform(DAY, HISTORY_DAYS * DAY))
        plans.append(PetitionPlan(pk, state, language, created, opened, closed, deadline))
    signed = [plan for plan in plans if plan.opened_at is not None]
    rng.shuffle(signed)
    weights = [1 / (rank**1.1) for rank in range(1, len(signed) + 1)]
    scale = size.signatures / sum(weights) if weights else 0.0
    for plan, weight in zip(signed, weights, strict=True):
        plan.signatures = math.floor(weight * scale)
    if signed:  # what the rounding left over goes to the largest
        signed[0].signatures += size.signatures - sum(plan.signatures for plan in signed)
    return plans


# --- The rows ------------------------------------------------------------------------------


SYLLABLES = (
    "ba", "be", "bi", "bo", "bu", "da", "de", "di", "do", "du", "fa", "fe", "fi", "fo",
    "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "ni", "no", "ra", "re",
    "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti", "to", "va", "ve", "vi", "vo",
)  # fmt: skip


def filler_words(rng: random.Random, count: int) -> list[str]:
    """Words of three syllables (about 74,000 of them): text that full-text search indexes
    like any other, but that no query of the benchmark matches."""
    return ["".join(rng.choices(SYLLABLES, k=3)) for _ in range(count)]


def petition_lines(plans: list[PetitionPlan], seed: int) -> Iterator[str]:
    """Titles of two topical words among fillers, one more in the summary: a search word
    matches about one petition in twenty of its language, as a common word would."""
    rng = random.Random(  # noqa: S311 - reproducible data, not secrets
        seed + 1
    )
    for plan in plans:
        words = WORDS_FR if plan.language == "fr" else WORDS_EN
        title = " ".join([*rng.sample(words, 2), *filler_words(rng, 3)]).capitalize()
        summary = " ".join([*filler_words(rng, 15), rng.choice(words), *filler_words(rng, 14)])
        details = " ".join(filler_words(rng, 90))
        rejected = plan.state == "rejected"
        yield line(
            plan.pk, title, summary.capitalize() + ".", details.capitalize() + ".", plan.language,
            f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", plan.state, plan.created_at,
            plan.created_at + timedelta(hours=2), plan.opened_at, plan.closed_at,
            plan.created_at + timedelta(days=2) if rejected else None, plan.deadline,
            rng.choice(REJECTION_REASONS) if rejected else "",
            "Voir la pétition existante." if rejected else "",
            f"bench-{plan.pk:09d}-{rng.getrandbits(64):016x}", 5,
            RESPONSE_THRESHOLD, CONSIDERATION_THRESHOLD, "none", "none", 0,
        )  # fmt: skip


PETITION_COLUMNS = [
    "id", "title", "summary", "details", "language", "creator_name", "state", "created_at",
    "moderation_requested_at", "opened_at", "closed_at", "rejected_at", "deadline",
    "rejection_reason", "rejection_details", "supporter_token", "supporters_needed",
    "response_threshold", "consideration_threshold", "response_state", "consideration_state",
    "signature_count",
]  # fmt: skip


def topic_lines(plans: list[PetitionPlan], topic_ids: list[int], seed: int) -> Iterator[str]:
    rng = random.Random(  # noqa: S311 - reproducible data, not secrets
        seed + 2
    )
    for plan in plans:
        for topic in rng.sample(topic_ids, 1 if rng.random() < 0.7 else 2):
            yield f"{plan.pk}\t{topic}\n"


@dataclass
class Places:
    """Postcode prefixes by country, each with its region: FR and US signers get a region."""

    prefixes: dict[str, list[tuple[str, int]]]

    def postcode(self, rng: random.Random, country: str) -> tuple[str, int | None]:
        known = self.prefixes.get(country)
        if not known:
            return f"{rng.randrange(10000, 99999)}", None
        prefix, region = rng.choice(known)
        digits = "".join(str(rng.randrange(10)) for _ in range(5 - len(prefix)))
        return prefix + digits, region


def signature_lines(
    plans: list[PetitionPlan], places: Places, now: datetime, seed: int
) -> Iterator[str]:
    """Each petition's signers are signer<n>@example.org, n = 0, 1, ...: unique per petition.

    Signing is heaviest just after a petition opens: the time of signature k follows the
    cube of a uniform draw over the petition's open period.
    """
    rng = random.Random(  # noqa: S311 - reproducible data, not secrets
        seed + 3
    )
    serial = 0
    for plan in plans:
        if not plan.signatures or plan.opened_at is None:
            continue
        opened = plan.opened_at
        span = ((plan.closed_at or now) - opened).total_seconds()
        for n in range(plan.signatures):
            serial += 1
            country = pick(rng, COUNTRIES)
            postcode, region = places.postcode(rng, country)
            state = pick(rng, SIGNATURE_STATES)
            signed = opened + timedelta(seconds=span * rng.random() ** 3)
            confirmed = signed + timedelta(seconds=rng.uniform(20, 900))
            email = f"signer{n}@example.org"
            yield line(
                plan.pk, f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", email, email,
                country, postcode, region, plan.language, state,
                f"b{serial:011x}{rng.getrandbits(96):024x}", n % 3 == 0, n % 2 == 0, "web",
                False, 1, state == "confirmed", signed,
                confirmed if state != "pending" else None,
                confirmed + timedelta(days=1) if state == "withdrawn" else None, "", "",
            )  # fmt: skip


SIGNATURE_COLUMNS = [
    "petition_id", "name", "email", "email_normalised", "country", "postcode", "region_id",
    "language", "state", "token", "wants_updates", "listed_publicly", "source",
    "is_supporter", "confirmation_emails_sent", "counted", "created_at", "confirmed_at",
    "withdrawn_at", "email_due", "email_claim_token",
]  # fmt: skip


# --- Indexes around the big load -------------------------------------------------------------


def drop_secondary(cursor: Any, table: str) -> list[str]:
    """Drop every constraint but the primary key, and every other index; return the DDL
    that re-creates them. Building an index once over sorted rows is several times faster
    than maintaining it row by row, and the foreign keys (deferred until commit, as Django
    makes them) would otherwise queue one check per row."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype <> 'p'",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    )
    indexes = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for name, definition in constraints
    ]


# --- Small tables through SQL ----------------------------------------------------------------


def seed_departments_and_topics(cursor: Any, now: datetime) -> list[int]:
    """One ministry per topic (its lead) and a fallback service; returns the topic ids."""
    topic_ids: list[int] = []
    for slug, name_en, name_fr in TOPICS:
        cursor.execute(
            "INSERT INTO responses_department (name_en, name_fr, acronym, slug, contact_email, "
            "kind, response_target_days, is_fallback, is_active, created_at) "
            "VALUES (%s, %s, '', %s, '', 'ministry', 60, false, true, %s) RETURNING id",
            [f"Ministry of {name_en}", f"Ministère : {name_fr}", f"ministere-{slug}", now],
        )
        department = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO petitions_topic (slug, name_en, name_fr, lead_department_id) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            [slug, name_en, name_fr, department],
        )
        topic_ids.append(cursor.fetchone()[0])
    cursor.execute(
        "INSERT INTO responses_department (name_en, name_fr, acronym, slug, contact_email, "
        "kind, response_target_days, is_fallback, is_active, created_at) VALUES "
        "('Petitions Service', 'Service des pétitions', 'SP', 'service-petitions', '', "
        "'service', 60, true, true, %s)",
        [now],
    )
    return topic_ids


def load_places(cursor: Any) -> Places:
    cursor.execute("SELECT country_id, prefix, region_id FROM petitions_postcodeprefix")
    prefixes: dict[str, list[tuple[str, int]]] = {}
    for country, prefix, region in cursor.fetchall():
        if prefix.isdigit() and len(prefix) <= 5:
            prefixes.setdefault(country, []).append((prefix, region))
    return Places(prefixes)


COUNT_SQL = [
    # The petition's count: confirmed rows, as the counting task keeps it.
    """UPDATE petitions_petition p SET signature_count = c.n, counted_at = %(now)s
       FROM (SELECT petition_id, count(*) AS n FROM petitions_signature
             WHERE state = 'confirmed' GROUP BY petition_id) c
       WHERE p.id = c.petition_id""",
    # By region, each region's count rolled up to its parents (région, then any above).
    """WITH RECURSIVE chain(region_id, ancestor_id) AS (
           SELECT id, id FROM petitions_region
           UNION ALL
           SELECT chain.region_id, r.parent_id FROM chain
           JOIN petitions_region r ON r.id = chain.ancestor_id WHERE r.parent_id IS NOT NULL
       ), direct AS (
           SELECT petition_id, region_id, count(*) AS n FROM petitions_signature
           WHERE state = 'confirmed' AND region_id IS NOT NULL GROUP BY 1, 2
       )
       INSERT INTO petitions_regioncount (petition_id, region_id, count)
       SELECT d.petition_id, chain.ancestor_id, sum(d.n) FROM direct d
       JOIN chain ON chain.region_id = d.region_id GROUP BY 1, 2""",
    """INSERT INTO petitions_countrycount (petition_id, country, count)
       SELECT petition_id, country, count(*) FROM petitions_signature
       WHERE state = 'confirmed' GROUP BY 1, 2""",
    """INSERT INTO petitions_hourlycount (petition_id, hour, count)
       SELECT petition_id, date_trunc('hour', confirmed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
              count(*)
       FROM petitions_signature WHERE state = 'confirmed' GROUP BY 1, 2""",
    # Thresholds crossed: the time is when the count got there, near enough for reading.
    """UPDATE petitions_petition SET response_state = 'awaiting_response',
           response_threshold_reached_at = opened_at + interval '3 days',
           response_routed_at = opened_at + interval '3 days',
           response_due_at = opened_at + interval '63 days'
       WHERE signature_count >= response_threshold""",
    """UPDATE petitions_petition SET consideration_state = 'awaiting_consideration',
           consideration_threshold_reached_at = opened_at + interval '5 days'
       WHERE signature_count >= consideration_threshold""",
    # The lead assignment of each petition awaiting or with a response: its topic's ministry.
    """INSERT INTO responses_assignment (petition_id, department_id, role, track, assigned_at,
           due_at, reason)
       SELECT p.id, (SELECT t.lead_department_id FROM petitions_petition_topics pt
                     JOIN petitions_topic t ON t.id = pt.topic_id
                     WHERE pt.petition_id = p.id ORDER BY t.id LIMIT 1),
              'lead', 'response', p.response_routed_at, p.response_due_at, ''
       FROM petitions_petition p WHERE p.response_state = 'awaiting_response'""",
]


def seed_responses(cursor: Any, seed: int, now: datetime) -> int:
    """A published response for most petitions over the threshold, by their lead ministry.

    Every tenth response answers two petitions of the same ministry (a duplicate answered
    together), as the back-office allows.
    """
    rng = random.Random(  # noqa: S311 - reproducible data, not secrets
        seed + 4
    )
    cursor.execute(
        "SELECT a.petition_id, a.department_id, a.assigned_at FROM responses_assignment a "
        "ORDER BY a.department_id, a.petition_id"
    )
    rows = [row for row in cursor.fetchall() if rng.random() < RESPONDED_SHARE]
    response_id = 0
    pairs: list[tuple[int, int]] = []
    responded: list[tuple[int, datetime]] = []
    previous: tuple[int, int] | None = None  # (department, response) open to a second petition
    for petition, department, assigned in rows:
        published = min(assigned + timedelta(days=rng.uniform(5, 90)), now - timedelta(hours=1))
        if previous is not None and previous[0] == department and rng.random() < 0.1:
            pairs.append((previous[1], petition))
            responded.append((petition, published))
            previous = None
            continue
        response_id += 1
        cursor.execute(
            "INSERT INTO responses_response (id, department_id, title, body, state, created_at, "
            "submitted_at, approved_at, published_at, version) "
            "VALUES (%s, %s, %s, %s, 'published', %s, %s, %s, %s, 1)",
            [
                response_id, department, f"Réponse à la pétition {petition}",
                "Le ministère a examiné la pétition.\n\n**Nos engagements** : un plan chiffré.",
                published - timedelta(days=3), published - timedelta(days=2),
                published - timedelta(days=1), published,
            ],
        )  # fmt: skip
        pairs.append((response_id, petition))
        responded.append((petition, published))
        previous = (department, response_id)
    cursor.executemany(
        "INSERT INTO responses_response_petitions (response_id, petition_id) VALUES (%s, %s)", pairs
    )
    cursor.executemany(
        "UPDATE petitions_petition SET response_state = 'responded', responded_at = %s "
        "WHERE id = %s",
        [(published, petition) for petition, published in responded],
    )
    reset_sequence(cursor, "responses_response")
    return response_id


# --- The whole seeding -----------------------------------------------------------------------


@contextmanager
def timed(report: SeedReport, step: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    report.seconds[step] = report.seconds.get(step, 0.0) + time.monotonic() - started


def seed(connection: Any, size: SeedSize) -> SeedReport:
    """Fill a migrated database with regions loaded; commits, then VACUUM ANALYZE."""
    report = SeedReport()
    now = datetime.now(UTC).replace(microsecond=0)
    plans = plan_petitions(size, now)
    connection.autocommit = False
    with connection.cursor() as cursor:
        # This session only: index builds and the count aggregations sort millions of rows,
        # in memory rather than in temporary files.
        cursor.execute("SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'")
        check_columns(cursor, "petitions_petition", PETITION_COLUMNS)
        check_columns(cursor, "petitions_signature", SIGNATURE_COLUMNS)
        with timed(report, "petitions"):
            topic_ids = seed_departments_and_topics(cursor, now)
            copy_rows(
                cursor, "petitions_petition", PETITION_COLUMNS,
                petition_lines(plans, size.seed), len(plans),
            )  # fmt: skip
            reset_sequence(cursor, "petitions_petition")
            copy_rows(
                cursor, "petitions_petition_topics", ["petition_id", "topic_id"],
                topic_lines(plans, topic_ids, size.seed), int(len(plans) * 1.3),
            )  # fmt: skip
            connection.commit()
        with timed(report, "drop indexes"):
            recreate = drop_secondary(cursor, "petitions_signature")
        with timed(report, "signatures"):
            copy_rows(
                cursor, "petitions_signature", SIGNATURE_COLUMNS,
                signature_lines(plans, load_places(cursor), now, size.seed), size.signatures,
            )  # fmt: skip
            connection.commit()
        say(f"re-creating {len(recreate)} indexes and constraints on petitions_signature")
        with timed(report, "signature indexes"):
            for statement in recreate:
                cursor.execute(statement)
            connection.commit()
        say("aggregating the stored counts (petition, region, country, hour) in SQL")
        with timed(report, "counts"):
            for statement in COUNT_SQL:
                cursor.execute(statement, {"now": now})
        with timed(report, "responses"):
            responses = seed_responses(cursor, size.seed, now)
            connection.commit()
        report.rows = table_rows(cursor)
        report.rows["responses_response"] = responses
        cursor.execute(
            "SELECT id, signature_count FROM petitions_petition "
            "ORDER BY signature_count DESC LIMIT 1"
        )
        report.top_petition, report.top_count = cursor.fetchone() or (0, 0)
        connection.commit()
    connection.autocommit = True  # VACUUM cannot run in a transaction
    say("VACUUM ANALYZE")
    with connection.cursor() as cursor, timed(report, "vacuum analyze"):
        cursor.execute("VACUUM ANALYZE")
    return report


def table_rows(cursor: Any) -> dict[str, int]:
    rows: dict[str, int] = {}
    for table in (
        "petitions_petition", "petitions_signature", "petitions_regioncount",
        "petitions_countrycount", "petitions_hourlycount", "responses_assignment",
    ):  # fmt: skip
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our table names
        rows[table] = cursor.fetchone()[0]
    return rows
