"""The two SQLModel tables behind :class:`~aiops_core.checkpoint.sql.SQLStore`.

One row per thread (its metadata and message count) and one row per message, keyed by
``(thread_id, seq)``. An append inserts only the new message rows and updates the thread row, so
its cost does not depend on the thread's length; the primary key makes a lost or overwritten
message impossible.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

__all__ = ["CheckpointMessage", "CheckpointThread"]


class CheckpointThread(SQLModel, table=True):
    """A thread's metadata. Times are microseconds since the Unix epoch (exact, portable)."""

    __tablename__ = "aiops_checkpoint_thread"
    __table_args__ = (
        Index("aiops_checkpoint_thread_updated", "updated", "thread_id"),
        Index("aiops_checkpoint_thread_owner_updated", "owner", "updated", "thread_id"),
    )

    thread_id: str = Field(sa_column=Column(String(255), primary_key=True))
    owner: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    model: str | None = Field(default=None, sa_column=Column(String(255), nullable=True))
    created: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    metadata_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class CheckpointMessage(SQLModel, table=True):
    """One message record (``dump_message`` JSON) at position ``seq`` of its thread."""

    __tablename__ = "aiops_checkpoint_message"

    thread_id: str = Field(
        sa_column=Column(
            String(255),
            ForeignKey("aiops_checkpoint_thread.thread_id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    data: str = Field(sa_column=Column(Text, nullable=False))
