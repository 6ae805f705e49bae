"""The statements behind :class:`~aiops_core.checkpoint.sql.SQLStore`, built once.

Prebuilt statements let SQLAlchemy skip rebuilding and re-keying them on every call. PostgreSQL
also gets one-round-trip forms of the hot paths: an append is a single ``INSERT ... ON CONFLICT``
whose data-modifying CTE inserts the new message rows, run in autocommit (atomic as one
statement), and a load reads the thread row and its messages in one ``SELECT``.
"""

from __future__ import annotations

import sqlalchemy as sa

from .sql_schema import CheckpointMessage, CheckpointThread

__all__ = ["INFO_COLUMNS", "MESSAGE", "THREAD", "Statements"]

THREAD = CheckpointThread.__table__  # type: ignore[attr-defined]
MESSAGE = CheckpointMessage.__table__  # type: ignore[attr-defined]
INFO_COLUMNS = (
    THREAD.c.owner,
    THREAD.c.title,
    THREAD.c.model,
    THREAD.c.created,
    THREAD.c.updated,
    THREAD.c.message_count,
    THREAD.c.metadata_json,
)
_INFO = "owner, title, model, created, updated, message_count, metadata_json"


class Statements:
    """The hot statements, built once: SQLAlchemy then skips re-building and re-keying them."""

    def __init__(self, sqlite: bool, schema: str | None = None) -> None:
        from sqlalchemy.dialects import postgresql
        from sqlalchemy.dialects import sqlite as sqlite_dialect

        tid: sa.BindParameter[str] = sa.bindparam("tid")
        now: sa.BindParameter[int] = sa.bindparam("now")
        n: sa.BindParameter[int] = sa.bindparam("n")
        self.info = sa.select(*INFO_COLUMNS).where(THREAD.c.thread_id == tid)
        self.messages = (
            sa.select(MESSAGE.c.data)
            .where(
                MESSAGE.c.thread_id == tid,
                MESSAGE.c.seq >= sa.bindparam("first"),
                MESSAGE.c.seq < sa.bindparam("count"),
            )
            .order_by(MESSAGE.c.seq)
        )
        insert = (sqlite_dialect.insert if sqlite else postgresql.insert)(THREAD).values(
            thread_id=tid,
            owner=sa.bindparam("owner"),
            title=sa.bindparam("title"),
            model=sa.bindparam("model"),
            created=now,
            updated=now,
            message_count=n,
            metadata_json="{}",
        )
        # The conflict branch locks the thread row, so concurrent appends queue here.
        self.upsert = insert.on_conflict_do_update(
            index_elements=[THREAD.c.thread_id],
            set_={
                "message_count": THREAD.c.message_count + n,
                # Strictly increasing per thread, so newest-first listing is exact.
                "updated": sa.case((THREAD.c.updated < now, now), else_=THREAD.c.updated + 1),
                "title": sa.func.coalesce(insert.excluded.title, THREAD.c.title),
                "model": sa.func.coalesce(insert.excluded.model, THREAD.c.model),
            },
        ).returning(*INFO_COLUMNS)
        self.add_messages = MESSAGE.insert()
        self.set_metadata = (
            sa.update(THREAD)
            .where(THREAD.c.thread_id == tid)
            .values(metadata_json=sa.bindparam("meta"))
        )
        self.drop_expired = sa.delete(THREAD).where(
            THREAD.c.thread_id == tid, THREAD.c.updated < sa.bindparam("cutoff")
        )
        self.delete = sa.delete(THREAD).where(THREAD.c.thread_id == tid)
        if not sqlite:
            self._postgres(schema)

    def _postgres(self, schema: str | None) -> None:
        from sqlalchemy.dialects import postgresql

        quote = postgresql.dialect().identifier_preparer  # type: ignore[no-untyped-call]
        prefix = f"{quote.quote_schema(schema)}." if schema else ""
        thread, message = f"{prefix}{THREAD.name}", f"{prefix}{MESSAGE.name}"
        # An owner, count or metadata-key mismatch makes the conflict branch skip the row: no
        # row comes back, nothing is written, and the caller reads the thread to say why.
        # Every parameter is cast where it appears: PostgreSQL must deduce one type for each.
        tid, owner, now = "CAST(:tid AS VARCHAR)", "CAST(:owner AS VARCHAR)", "CAST(:now AS BIGINT)"
        n, expected = "CAST(:n AS INTEGER)", "CAST(:expected AS INTEGER)"
        self.pg_append = sa.text(
            f"""
            WITH up AS (
                INSERT INTO {thread} AS t
                    (thread_id, owner, title, model, created, updated, message_count,
                     metadata_json)
                SELECT {tid}, {owner}, CAST(:title AS TEXT), CAST(:model AS VARCHAR),
                    {now}, {now}, {n}, '{{}}'
                WHERE {expected} IS NULL OR {expected} = 0
                    OR EXISTS (SELECT 1 FROM {thread} WHERE thread_id = {tid})
                ON CONFLICT (thread_id) DO UPDATE SET
                    message_count = t.message_count + {n},
                    updated = CASE WHEN t.updated < {now} THEN {now} ELSE t.updated + 1 END,
                    title = COALESCE(excluded.title, t.title),
                    model = COALESCE(excluded.model, t.model)
                WHERE ({owner} IS NULL OR t.owner IS NULL OR t.owner = {owner})
                    AND ({expected} IS NULL OR t.message_count = {expected})
                    AND NOT (CAST(t.metadata_json AS JSONB) ?| CAST(:absent AS TEXT[]))
                RETURNING {_INFO}
            ), added AS (
                INSERT INTO {message} (thread_id, seq, data)
                SELECT {tid}, up.message_count - {n} + CAST(r.ord AS INTEGER) - 1, r.data
                FROM up, unnest(CAST(:records AS TEXT[])) WITH ORDINALITY AS r(data, ord)
            )
            SELECT {_INFO} FROM up
            """
        )
        # With :since, the load starts at the summary's "upto" when the summary is valid by
        # the rule of checkpoint.base.stored_summary (CASE, unlike AND, evaluates in order).
        self.pg_load = sa.text(
            f"""
            SELECT {_INFO}, ARRAY(
                SELECT m.data FROM {message} m
                WHERE m.thread_id = t.thread_id AND m.seq < t.message_count
                    AND m.seq >= t.message_count - CAST(:last AS INTEGER)
                    AND m.seq >= z.start
                ORDER BY m.seq
            ) AS records
            FROM {thread} t, LATERAL (
                SELECT CASE WHEN NOT CAST(:since AS BOOLEAN) THEN 0
                    WHEN jsonb_typeof(s.v -> 'text') = 'string'
                        AND jsonb_typeof(s.v -> 'upto') = 'number' THEN (
                        SELECT CASE WHEN u.n >= 0 AND u.n < 1000000000 AND u.n = floor(u.n)
                            THEN CAST(u.n AS INTEGER) ELSE 0 END
                        FROM (SELECT CAST(s.v -> 'upto' AS NUMERIC) AS n) u
                    )
                    ELSE 0 END AS start
                FROM (
                    SELECT CASE WHEN CAST(:since AS BOOLEAN)
                        THEN CAST(t.metadata_json AS JSONB) -> 'summary' END AS v
                ) s
            ) z
            WHERE t.thread_id = CAST(:tid AS VARCHAR)
            """
        )
