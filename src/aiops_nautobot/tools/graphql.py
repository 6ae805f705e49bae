"""GraphQL through Nautobot's own executor, as the user, with limits checked before execution.

Before a query runs, :func:`check_query` validates it against Nautobot's schema and walks it:

* only queries (no mutations or subscriptions), no schema introspection;
* no field whose type is a sensitive model (secrets, users, tokens);
* nesting no deeper than ``max_depth``;
* every top-level list field carries ``limit: N`` with ``N <= max_rows`` (nested lists with a
  ``limit`` argument are held to the same bound);
* a complexity estimate no higher than ``max_complexity``: each field counts once per row it
  may be resolved for, a list multiplies its children by its ``limit`` (or by ``max_rows``
  when it has none).

Saved GraphQL queries the user may view become named tools (see :func:`saved_queries`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .access import ToolInputError, is_sensitive_model, viewable

__all__ = [
    "GraphQLLimits",
    "SavedQuery",
    "check_query",
    "run_graphql",
    "run_saved_query",
    "saved_queries",
]


@dataclass(frozen=True, slots=True)
class GraphQLLimits:
    """Bounds of one GraphQL query."""

    max_depth: int
    max_complexity: int
    max_rows: int


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """A saved GraphQL query the user may view, as a tool."""

    pk: str
    name: str
    tool_name: str
    description: str


def _schema() -> Any:
    from graphene_django.settings import graphene_settings

    return graphene_settings.SCHEMA.graphql_schema


def check_query(
    query: str, variables: Mapping[str, Any] | None, limits: GraphQLLimits, schema: Any = None
) -> int:
    """Validate ``query`` and check it against ``limits``; returns its complexity estimate.

    Raises:
        ToolInputError: invalid, a mutation, sensitive, too deep, a list without a small enough
            ``limit``, or too complex (the message says which and what to change).
    """
    from graphql import GraphQLError, parse, validate
    from graphql.language import FragmentDefinitionNode, OperationDefinitionNode, OperationType

    schema = schema or _schema()
    try:
        document = parse(query)
    except GraphQLError as err:
        raise ToolInputError(f"GraphQL syntax error: {err.message}") from None
    errors = validate(schema, document)
    if errors:
        raise ToolInputError("Invalid GraphQL query: " + "; ".join(e.message for e in errors[:5]))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    total = 0
    walker = _Walker(schema, fragments, dict(variables or {}), limits)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            if definition.operation != OperationType.QUERY:
                raise ToolInputError("Only GraphQL queries are allowed (no mutations)")
            total += walker.walk(definition.selection_set, schema.query_type, 1, 1)
    if total > limits.max_complexity:
        raise ToolInputError(
            f"GraphQL query too complex: about {total} field resolutions, the limit is "
            f"{limits.max_complexity}. Ask for fewer fields or smaller limits."
        )
    return total


class _Walker:
    def __init__(
        self,
        schema: Any,
        fragments: dict[str, Any],
        variables: dict[str, Any],
        limits: GraphQLLimits,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.limits = limits

    def walk(self, selection_set: Any, parent: Any, depth: int, multiplier: int) -> int:
        from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode

        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, depth, multiplier)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                target = self.schema.get_type(fragment.type_condition.name.value)
                total += self.walk(fragment.selection_set, target, depth, multiplier)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.walk(selection.selection_set, target, depth, multiplier)
        return total

    def field(self, node: Any, parent: Any, depth: int, multiplier: int) -> int:
        from graphql import get_named_type, get_nullable_type, is_list_type

        name = node.name.value
        if name == "__typename":
            return 0
        if name.startswith("__"):
            raise ToolInputError("GraphQL introspection is not available; query data fields")
        if depth > self.limits.max_depth:
            raise ToolInputError(
                f"GraphQL query too deep at {name!r}: at most {self.limits.max_depth} levels"
            )
        definition = parent.fields[name]
        named = get_named_type(definition.type)
        model = getattr(
            getattr(getattr(named, "graphene_type", None), "_meta", None), "model", None
        )
        if model is not None and is_sensitive_model(model):
            raise ToolInputError(f"GraphQL field {name!r} ({named.name}) is not available")
        rows = 1
        if is_list_type(get_nullable_type(definition.type)):
            limit = self.limit_of(node)
            if limit is None and depth == 1:
                raise ToolInputError(
                    f"GraphQL list {name!r} needs a limit: write {name}(limit: N, ...) with N at "
                    f"most {self.limits.max_rows}"
                )
            if limit is not None and not 0 < limit <= self.limits.max_rows:
                raise ToolInputError(
                    f"GraphQL list {name!r}: limit must be 1..{self.limits.max_rows}, got {limit}"
                )
            rows = limit or self.limits.max_rows
        children = self.walk(node.selection_set, named, depth + 1, multiplier * rows)
        return multiplier + children

    def limit_of(self, node: Any) -> int | None:
        from graphql.language import IntValueNode, VariableNode

        for argument in node.arguments:
            if argument.name.value != "limit":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                return given if isinstance(given, int) and not isinstance(given, bool) else None
        return None


def run_graphql(
    user: Any, query: str, variables: Mapping[str, Any] | None, limits: GraphQLLimits
) -> dict[str, Any]:
    """Check ``query`` against ``limits``, then run it with Nautobot's executor as ``user``."""
    from nautobot.core.graphql import execute_query

    if variables is not None and not isinstance(variables, Mapping):
        raise ToolInputError("'variables' must be an object")
    check_query(query, variables, limits)
    result = execute_query(query, variables=dict(variables or {}) or None, user=user)
    data: dict[str, Any] = {"data": result.data}
    if result.errors:
        data["errors"] = [error.message for error in result.errors]
    return data


def saved_queries(user: Any) -> list[SavedQuery]:
    """The saved GraphQL queries ``user`` may view, each with a unique tool name."""
    from nautobot.extras.models import GraphQLQuery

    found = []
    used: set[str] = set()
    for row in viewable(GraphQLQuery, user).order_by("name"):
        base = "graphql_" + (re.sub(r"[^a-z0-9]+", "_", row.name.lower()).strip("_") or "query")
        name = base[:100]
        suffix = 2
        while name in used:
            name = f"{base[:96]}_{suffix}"
            suffix += 1
        used.add(name)
        found.append(
            SavedQuery(
                pk=str(row.pk),
                name=row.name,
                tool_name=name,
                description=f"Run Nautobot's saved GraphQL query {row.name!r}.",
            )
        )
    return found


def run_saved_query(
    user: Any, pk: str, variables: Mapping[str, Any] | None, limits: GraphQLLimits
) -> dict[str, Any]:
    """Run the saved query ``pk`` (if ``user`` may still view it) under the same limits."""
    from nautobot.extras.models import GraphQLQuery

    row = viewable(GraphQLQuery, user).filter(pk=pk).first()
    if row is None:
        raise ToolInputError("This saved GraphQL query is no longer available")
    return run_graphql(user, row.query, variables, limits)
