"""The "AI Ops" navigation menu tab."""

from __future__ import annotations

from nautobot.apps.ui import (
    NavigationIconChoices,
    NavMenuAddButton,
    NavMenuGroup,
    NavMenuItem,
    NavMenuTab,
)


def _item(model: str, name: str, weight: int) -> NavMenuItem:
    return NavMenuItem(
        link=f"plugins:aiops_nautobot:{model}_list",
        name=name,
        weight=weight,
        permissions=[f"aiops_nautobot.view_{model}"],
        buttons=(
            NavMenuAddButton(
                link=f"plugins:aiops_nautobot:{model}_add",
                permissions=[f"aiops_nautobot.add_{model}"],
            ),
        ),
    )


menu_items = (
    NavMenuTab(
        name="AI Ops",
        weight=1000,
        icon=NavigationIconChoices.APPS,
        groups=(
            NavMenuGroup(
                name="LLM",
                weight=100,
                items=(
                    _item("llmprovider", "LLM Providers", 100),
                    _item("llmmodel", "LLM Models", 200),
                    _item("systemprompt", "System Prompts", 300),
                ),
            ),
            NavMenuGroup(
                name="Middleware",
                weight=200,
                items=(
                    _item("middlewaretype", "Middleware Types", 100),
                    _item("llmmiddleware", "LLM Middleware", 200),
                ),
            ),
            NavMenuGroup(
                name="MCP",
                weight=300,
                items=(
                    _item("mcpserver", "MCP Servers", 100),
                    NavMenuItem(  # no add button: tools are found on the servers
                        link="plugins:aiops_nautobot:mcptool_list",
                        name="MCP Tools",
                        weight=200,
                        permissions=["aiops_nautobot.view_mcptool"],
                    ),
                    NavMenuItem(  # written by the health checks
                        link="plugins:aiops_nautobot:mcphealthrecord_list",
                        name="MCP Health History",
                        weight=300,
                        permissions=["aiops_nautobot.view_mcphealthrecord"],
                    ),
                ),
            ),
            NavMenuGroup(
                name="Chat",
                weight=400,
                items=(
                    NavMenuItem(
                        link="plugins:aiops_nautobot:chat",
                        name="Chat",
                        weight=50,
                        permissions=["aiops_nautobot.use_chat_conversation"],
                    ),
                    _item("conversation", "Conversations", 100),
                    NavMenuItem(  # written by the chat; everybody sees their own
                        link="plugins:aiops_nautobot:changeset_list",
                        name="Change Sets",
                        weight=200,
                        permissions=[],
                    ),
                ),
            ),
            NavMenuGroup(
                name="Usage",
                weight=500,
                items=(
                    NavMenuItem(
                        link="plugins:aiops_nautobot:usage_dashboard",
                        name="Usage & Cost",
                        weight=100,
                        permissions=["aiops_nautobot.view_usagerecord"],
                    ),
                    NavMenuItem(
                        link="plugins:aiops_nautobot:usagerecord_list",
                        name="Usage Records",
                        weight=200,
                        permissions=["aiops_nautobot.view_usagerecord"],
                    ),
                    NavMenuItem(
                        link="plugins:aiops_nautobot:tool_analytics",
                        name="Tool Analytics",
                        weight=300,
                        permissions=["aiops_nautobot.view_toolusagerecord"],
                    ),
                    NavMenuItem(
                        link="plugins:aiops_nautobot:toolusagerecord_list",
                        name="Tool Usage Records",
                        weight=350,
                        permissions=["aiops_nautobot.view_toolusagerecord"],
                    ),
                    _item("budget", "Budgets", 400),
                ),
            ),
        ),
    ),
)
