"""The native tools of one request, bound to the requesting user.

:func:`native_tools` is called in the request thread (it reads the saved GraphQL queries the user
may view); each tool runs its ORM work through :class:`~.workers.OrmWorkers` and returns compact
JSON capped at ``max_result_chars``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiops_core.context import RunContext
from aiops_core.tools import Tool, tool

from .access import tenant_scope
from .changelog import change_log
from .changesets import apply_change_set, propose_change_set
from .config import NativeToolsConfig
from .detail import object_detail
from .graphql import GraphQLLimits, SavedQuery, run_graphql, run_saved_query, saved_queries
from .groups import group_members
from .jobs import job_results
from .output import cap
from .search import search
from .workers import OrmWorkers

__all__ = ["native_tools"]


def native_tools(user: Any, config: NativeToolsConfig, *, tenant: Any = None) -> list[Tool]:
    """The read tools for ``user`` (empty when ``config.enabled`` is false).

    With ``tenant`` (the operator's ``tenancy.restrict_tools_to_tenant`` in a conversation with a
    tenant), every query keeps only that tenant's objects among models with a ``tenant`` field
    (:func:`.access.tenant_scope`); the GraphQL and change-set tools are left out, since they
    cannot be scoped that way.
    """
    if not config.enabled:
        return []
    tenant_id = getattr(tenant, "pk", tenant)
    workers = OrmWorkers(config.workers, config.timeout_seconds)
    rows = config.max_rows
    limits = GraphQLLimits(config.graphql_max_depth, config.graphql_max_complexity, rows)
    timeout = config.timeout_seconds

    async def run(func: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
        def call() -> Any:
            with tenant_scope(tenant_id):
                return func(user, *args, **kwargs)

        return cap(await workers.run(call), config.max_result_chars)

    @tool(name="nautobot_get", timeout=timeout)
    async def nautobot_get(object: str) -> str:
        """One Nautobot object in detail: fields, status, custom fields, tags and counts of
        related objects (e.g. a device's interfaces).

        Args:
            object: app_label.model:<uuid>, e.g. dcim.device:<id> (ids come from nautobot_search).
        """
        return await run(object_detail, object)

    @tool(name="nautobot_search", timeout=timeout)
    async def nautobot_search(
        model: str,
        filters: dict[str, Any] | None = None,
        fields: list[str] | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> str:
        """Search Nautobot objects with the REST API's filters; returns count and one page.

        Args:
            model: app_label.model, e.g. dcim.device, dcim.interface, ipam.prefix, ipam.ipaddress,
                dcim.location, circuits.circuit.
            filters: filter name to value or list, e.g. {"device": ["ams01-core-01"],
                "enabled": false}, {"q": "ams"}, {"status": "active"}, {"name__ic": "core"}.
            fields: fields to include per row, e.g. ["name", "status", "enabled"].
            limit: page size.
            offset: rows to skip (use next_offset of the previous page).
        """
        return await run(
            search, model, filters or {}, fields=fields, limit=limit, offset=offset, max_rows=rows
        )

    @tool(name="nautobot_graphql", timeout=timeout)
    async def nautobot_graphql(query: str, variables: dict[str, Any] | None = None) -> str:
        """Run a read-only GraphQL query on Nautobot. Every top-level list needs limit: N, e.g.
        { devices(name: "ams01-core-01", limit: 1) { name interfaces(limit: 50) { name enabled } } }.

        Args:
            query: the GraphQL query.
            variables: values of the query's variables.
        """
        return await run(run_graphql, query, variables, limits)

    @tool(name="nautobot_dynamic_group_members", timeout=timeout)
    async def nautobot_dynamic_group_members(group: str, limit: int = 20, offset: int = 0) -> str:
        """Members of a Nautobot dynamic group.

        Args:
            group: the group's name or id.
            limit: page size.
            offset: rows to skip.
        """
        return await run(group_members, group, limit=limit, offset=offset, max_rows=rows)

    @tool(name="nautobot_change_log", timeout=timeout)
    async def nautobot_change_log(object: str, limit: int = 20, offset: int = 0) -> str:
        """Who changed a Nautobot object, what and when (newest first).

        Args:
            object: app_label.model:<uuid>.
            limit: page size.
            offset: rows to skip.
        """
        return await run(change_log, object, limit=limit, offset=offset, max_rows=rows)

    @tool(name="nautobot_job_results", timeout=timeout)
    async def nautobot_job_results(job: str = "", status: str = "", limit: int = 10) -> str:
        """The newest Nautobot job results.

        Args:
            job: part of the job's name.
            status: SUCCESS, FAILURE, STARTED, PENDING, ...
            limit: how many.
        """
        return await run(job_results, job=job, status=status, limit=limit, max_rows=rows)

    tools = [
        nautobot_get,
        nautobot_search,
        nautobot_dynamic_group_members,
        nautobot_change_log,
        nautobot_job_results,
    ]
    if tenant_id is not None:
        return tools
    tools.insert(2, nautobot_graphql)
    tools.extend(_saved_query_tool(saved, run, limits) for saved in saved_queries(user))
    if config.writes:
        tools.extend(_write_tools(run, timeout))
    return tools


def _write_tools(run: Callable[..., Any], timeout: int) -> list[Tool]:
    """Propose a change set (a dry run), and apply it (always after a person's approval)."""

    @tool(name="nautobot_propose_change_set", timeout=timeout)
    async def nautobot_propose_change_set(
        operations: list[dict[str, Any]], summary: str, context: RunContext
    ) -> str:
        """Propose changes to Nautobot; returns a dry-run diff and a change_set id. Nothing is
        changed until nautobot_apply_change_set is approved by the user.

        Args:
            operations: each {"action": "create"|"update"|"delete", "model": "dcim.interface",
                "id": "<uuid>" (update, delete), "data": {"field": value} (create, update)};
                foreign keys by id, e.g. {"status_id": "<uuid>"}. Or run a Nautobot Job:
                {"action": "run_job", "job": "<module.Class or Job name>", "data": {inputs}}
                (objects by id); it starts after the other changes, when applied.
            summary: one line saying what the change does and why.
        """
        return await run(
            propose_change_set, operations, summary, context.thread_id or "", context.run_id
        )

    @tool(
        name="nautobot_apply_change_set",
        timeout=timeout,
        metadata={"writes": True, "requires_approval": True},
    )
    async def nautobot_apply_change_set(change_set: str, context: RunContext) -> str:
        """Apply a proposed change set with Nautobot's Apply change set job (asks the user first).

        Args:
            change_set: the id returned by nautobot_propose_change_set.
        """
        return await run(apply_change_set, change_set, context.thread_id or "")

    return [nautobot_propose_change_set, nautobot_apply_change_set]


def _saved_query_tool(saved: SavedQuery, run: Callable[..., Any], limits: GraphQLLimits) -> Tool:
    async def handler(arguments: dict[str, Any], context: Any) -> Any:
        variables = arguments.get("variables")
        return await run(run_saved_query, saved.pk, variables, limits)

    return Tool(
        saved.tool_name,
        saved.description,
        {
            "type": "object",
            "properties": {
                "variables": {"type": "object", "description": "values of the query's variables"}
            },
            "additionalProperties": False,
        },
        handler,
        metadata={"graphql_query": saved.name},
    )
