"""PostgreSQL only: a stored search document, and indexes for the lists' sorts.

Ranking search matches read the weighted document of every match; computed on the fly
(migration 0002's expression indexes) that meant parsing each matching petition's full
text again for every search, half a second for a common word over 100,000 petitions. The
document is now a generated column, written when a petition's text changes, with one GIN
index; each petition's document uses its own language's configuration, as before.

The sort indexes serve the open-data API's and the site's orderings with nulls last (a
petition not yet opened, closed or answered has no date), newest first, so that a page is
read in index order instead of sorting every public petition.
"""

from django.db import migrations


def document(config: str) -> str:
    return (
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(title, '')), 'A') || "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(summary, '')), 'B') || "
        f"setweight(to_tsvector('{config}'::regconfig, coalesce(details, '')), 'C')"
    )


FORWARD = [
    "DROP INDEX IF EXISTS petition_search_fr",
    "DROP INDEX IF EXISTS petition_search_en",
    "ALTER TABLE petitions_petition ADD COLUMN search_document tsvector GENERATED ALWAYS AS "
    f"(CASE WHEN language = 'fr' THEN {document('french')} ELSE {document('english')} END) "
    "STORED",
    "CREATE INDEX petition_search ON petitions_petition USING gin (search_document)",
    "CREATE INDEX petition_created ON petitions_petition (created_at DESC, id DESC)",
    "CREATE INDEX petition_opened ON petitions_petition (opened_at DESC NULLS LAST, id DESC)",
    "CREATE INDEX petition_closed ON petitions_petition (closed_at DESC NULLS LAST, id DESC)",
    "CREATE INDEX petition_responded ON petitions_petition "
    "(responded_at DESC NULLS LAST, id DESC)",
    "CREATE INDEX petition_count_id ON petitions_petition (signature_count DESC, id DESC)",
]

BACKWARD = [
    "DROP INDEX IF EXISTS petition_count_id",
    "DROP INDEX IF EXISTS petition_responded",
    "DROP INDEX IF EXISTS petition_closed",
    "DROP INDEX IF EXISTS petition_opened",
    "DROP INDEX IF EXISTS petition_created",
    "DROP INDEX IF EXISTS petition_search",
    "ALTER TABLE petitions_petition DROP COLUMN IF EXISTS search_document",
    *(
        f"CREATE INDEX {name} ON petitions_petition USING gin (({document(config)})) "
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
