"""Full-text indexes over a `search_text` column (jieba tokens), one kind per database, for
the models knowledge.search.ranked_search serves (articles, cases).

PostgreSQL: a GIN index on to_tsvector('simple', search_text), built from the same Django
expression the search filters on, so the planner uses it. SQLite: an FTS5 table kept in step
by triggers (when the build has FTS5; the search falls back to LIKE otherwise). Neither can
live in Meta.indexes: a GIN index breaks `migrate` on SQLite. Used by migrations through
`search_index_operations`.
"""


def _gin_index(index_name):
    from django.contrib.postgres.indexes import GinIndex
    from django.contrib.postgres.search import SearchVector

    return GinIndex(SearchVector("search_text", config="simple"), name=index_name)


def _sqlite_has_fts5(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')")
        return bool(cursor.fetchone()[0])


def _sqlite_forward(table, fts):
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5(search_text, tokenize = 'unicode61')",
        *_sqlite_triggers(table, fts),
        f"INSERT INTO {fts}(rowid, search_text) SELECT id, search_text FROM {table}",
    ]


def _sqlite_triggers(table, fts):
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {table} BEGIN
            INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {table} BEGIN
            DELETE FROM {fts} WHERE rowid = old.id;
        END""",
        f"""CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF id, search_text ON {table} BEGIN
            DELETE FROM {fts} WHERE rowid = old.id;
            INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    ]


# (table, fts_table) pairs whose SQLite triggers `ensure_sqlite_triggers` keeps in place.
SQLITE_INDEXES = [
    ("knowledge_article", "knowledge_article_fts"),
    ("complaints_case", "complaints_case_fts"),
]


def ensure_sqlite_triggers(sender=None, using="default", **kwargs):
    """After every migrate on SQLite: a migration that alters an indexed table makes SQLite
    rebuild the table and drops its triggers. Put them back and refill the FTS table from
    the column (it may have missed changes meanwhile). Does nothing elsewhere."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        names = {r[0] for r in cursor.execute("SELECT name FROM sqlite_master").fetchall()}
        for table, fts in SQLITE_INDEXES:
            if fts not in names or table not in names or f"{fts}_update" in names:
                continue
            for sql in _sqlite_triggers(table, fts):
                cursor.execute(sql)
            cursor.execute(f"DELETE FROM {fts}")
            cursor.execute(
                f"INSERT INTO {fts}(rowid, search_text) SELECT id, search_text FROM {table}"
            )


def _sqlite_backward(fts):
    return [
        f"DROP TRIGGER IF EXISTS {fts}_insert",
        f"DROP TRIGGER IF EXISTS {fts}_delete",
        f"DROP TRIGGER IF EXISTS {fts}_update",
        f"DROP TABLE IF EXISTS {fts}",
    ]


def search_index_operations(*, app_label, model_name, table, fts_table, index_name):
    """(forwards, backwards) functions for a RunPython migration operation."""

    def forwards(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor == "postgresql":
            schema_editor.add_index(apps.get_model(app_label, model_name), _gin_index(index_name))
        elif connection.vendor == "sqlite" and _sqlite_has_fts5(connection):
            for sql in _sqlite_forward(table, fts_table):
                schema_editor.execute(sql)

    def backwards(apps, schema_editor):
        connection = schema_editor.connection
        if connection.vendor == "postgresql":
            schema_editor.remove_index(
                apps.get_model(app_label, model_name), _gin_index(index_name)
            )
        elif connection.vendor == "sqlite":
            for sql in _sqlite_backward(fts_table):
                schema_editor.execute(sql)

    return forwards, backwards
