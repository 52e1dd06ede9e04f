"""PostgreSQL only: stored search documents, and indexes for the lists' sorts and totals.

Search. Ranking matches read the weighted document of every match; computed on the fly
(migration 0002's expression indexes) that meant parsing each matching petition's full
text again for every search, half a second for a common word over 100,000 petitions. The
document is now a generated column with one GIN index, in each petition's own language's
configuration as before; matches are found in it and ranked on a second, small one (the
title and summary), so a match in the title comes first, then in the summary, then in the
details (rank 0), each group by signatures.

Sorts. The open-data API's and the site's orderings with nulls last (a petition not yet
opened, closed or answered has no date), newest first, so that a page is read in index
order instead of sorting every public petition.

Totals. A list's total counts the public petitions that pass its filters; on the petitions
table, whose rows carry their full text, that meant reading most of it (40 to 140 ms at
100,000 petitions). These indexes hold what the count needs, for index-only scans: the
columns of the public-petition test, a petition's signatures by region (signed there:
``count > 0``), and the petitions of a topic.
"""

from django.db import migrations

PARTS = {"A": "title", "B": "summary", "C": "details"}


def document(config: str, weights: str) -> str:
    return " || ".join(
        f"setweight(to_tsvector('{config}'::regconfig, coalesce({PARTS[weight]}, '')), "
        f"'{weight}')"
        for weight in weights
    )


def by_language(weights: str) -> str:
    french, english = document("french", weights), document("english", weights)
    return f"(CASE WHEN language = 'fr' THEN {french} ELSE {english} END)"


FORWARD = [
    "DROP INDEX IF EXISTS petition_search_fr",
    "DROP INDEX IF EXISTS petition_search_en",
    "ALTER TABLE petitions_petition "
    f"ADD COLUMN search_document tsvector GENERATED ALWAYS AS {by_language('ABC')} STORED, "
    f"ADD COLUMN search_heading tsvector GENERATED ALWAYS AS {by_language('AB')} STORED",
    "CREATE INDEX petition_search ON petitions_petition USING gin (search_document)",
    "CREATE INDEX petition_created ON petitions_petition (created_at DESC, id DESC)",
    "CREATE INDEX petition_opened ON petitions_petition (opened_at DESC NULLS LAST, id DESC)",
    "CREATE INDEX petition_closed ON petitions_petition (closed_at DESC NULLS LAST, id DESC)",
    "CREATE INDEX petition_responded ON petitions_petition "
    "(responded_at DESC NULLS LAST, id DESC)",
    "CREATE INDEX petition_count_id ON petitions_petition (signature_count DESC, id DESC)",
    "CREATE INDEX petition_public_test ON petitions_petition (state, rejection_reason) "
    "INCLUDE (id, signature_count)",
    "CREATE INDEX regioncount_signed_there ON petitions_regioncount (region_id, petition_id) "
    "WHERE count > 0",
    "CREATE INDEX petition_topics_by_topic ON petitions_petition_topics (topic_id, petition_id)",
]

BACKWARD = [
    "DROP INDEX IF EXISTS petition_topics_by_topic",
    "DROP INDEX IF EXISTS regioncount_signed_there",
    "DROP INDEX IF EXISTS petition_public_test",
    "DROP INDEX IF EXISTS petition_count_id",
    "DROP INDEX IF EXISTS petition_responded",
    "DROP INDEX IF EXISTS petition_closed",
    "DROP INDEX IF EXISTS petition_opened",
    "DROP INDEX IF EXISTS petition_created",
    "DROP INDEX IF EXISTS petition_search",
    "ALTER TABLE petitions_petition DROP COLUMN IF EXISTS search_heading, "
    "DROP COLUMN IF EXISTS search_document",
    *(
        f"CREATE INDEX {name} ON petitions_petition USING gin (({document(config, 'ABC')})) "
        f"WHERE {condition}"
        for name, config, condition in (
            ("petition_search_fr", "french", "language = 'fr'"),
            ("petition_search_en", "english", "NOT (language = 'fr')"),
        )
    ),
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0008_claim_tokens_name_their_worker"),
    ]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
