"""GraphQL limits hold, and are checked before anything runs."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device

from aiops_nautobot.tools import ToolInputError
from aiops_nautobot.tools.graphql import GraphQLLimits, check_query, run_graphql, saved_queries

from .network import grant, seed_network, viewer

LIMITS = GraphQLLimits(max_depth=4, max_complexity=500, max_rows=20)


class GraphQLLimitsTest(TestCase):
    def refused(self, query: str, variables=None) -> str:
        with self.assertRaises(ToolInputError) as caught:
            check_query(query, variables, LIMITS)
        return str(caught.exception)

    def test_a_query_within_the_limits_passes_with_its_complexity(self):
        cost = check_query("{ devices(limit: 10) { name status { name } } }", None, LIMITS)
        self.assertEqual(cost, 1 + 10 + 10 + 10)  # devices, then name, status, status.name per row

    def test_top_level_lists_need_a_bounded_limit(self):
        self.assertIn("needs a limit", self.refused("{ devices { name } }"))
        self.assertIn("limit must be 1..20", self.refused("{ devices(limit: 21) { name } }"))
        self.assertIn(
            "limit must be 1..20",
            self.refused("query ($n: Int) { devices(limit: $n) { name } }", {"n": 500}),
        )

    def test_depth_counts_fragments(self):
        deep = "{ devices(limit: 1) { location { parent { parent { parent { name } } } } } }"
        self.assertIn("too deep", self.refused(deep))
        fragment = (
            "fragment P on LocationType { parent { parent { parent { name } } } } "
            "{ devices(limit: 1) { location { ...P } } }"
        )
        self.assertIn("too deep", self.refused(fragment))

    def test_nested_lists_multiply_the_complexity(self):
        query = "{ devices(limit: 20) { name interfaces(limit: 20) { name enabled } } }"
        self.assertIn("too complex", self.refused(query))
        # A nested list without a limit is counted at max_rows per parent row.
        self.assertIn(
            "too complex", self.refused("{ devices(limit: 20) { interfaces { name enabled } } }")
        )

    def test_mutations_introspection_and_invalid_queries_are_refused(self):
        mutation = self.refused("mutation { x }")
        self.assertTrue(
            "Only GraphQL queries" in mutation or "Invalid GraphQL" in mutation, mutation
        )
        self.assertIn("introspection", self.refused("{ __schema { types { name } } }"))
        self.assertIn(
            "Invalid GraphQL query", self.refused("{ devices(limit: 1) { no_such_field } }")
        )
        self.assertIn("syntax error", self.refused("{ devices(limit: 1) { name "))

    def test_a_refused_query_runs_no_sql(self):
        seed_network()
        user = viewer()
        grant(user, Device)
        with CaptureQueriesContext(connection) as queries, self.assertRaises(ToolInputError):
            run_graphql(user, "{ devices { name } }", None, LIMITS)
        self.assertEqual(len(queries), 0)
        allowed = run_graphql(user, "{ devices(limit: 1) { name } }", None, LIMITS)
        self.assertEqual(len(allowed["data"]["devices"]), 1)

    def test_saved_queries_become_named_tools_for_users_who_may_view_them(self):
        from nautobot.extras.models import GraphQLQuery

        GraphQLQuery.objects.create(name="Core devices!", query="{ devices(limit: 5) { name } }")
        user = viewer()
        self.assertEqual(saved_queries(user), [])
        grant(user, GraphQLQuery)
        user = type(user).objects.get(pk=user.pk)  # permissions are cached on the user object
        [saved] = saved_queries(user)
        self.assertEqual(saved.tool_name, "graphql_core_devices")
