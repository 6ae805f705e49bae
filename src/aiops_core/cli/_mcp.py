"""How the CLI connects to MCP servers.

OAuth tokens live in one file readable by its owner only (``$AIOPS_TOKEN_FILE``, default
``~/.config/aiops/mcp-tokens.json``); a server that needs a sign-in prints a URL and waits for the
browser on the ``redirect_uri`` (127.0.0.1); servers' questions (elicitation) and sampling
approvals are asked on the terminal.
"""

from __future__ import annotations

from typing import Any

from ..mcp.loopback import LoopbackAuthorizer
from ..mcp.tokens import FileTokenStore
from .interact import TerminalPrompter

__all__ = ["pool_options"]


def pool_options(*, interactive: bool = True) -> dict[str, Any]:
    """Keyword arguments for :class:`~aiops_core.mcp.MCPClientPool` in the CLI.

    Args:
        interactive: ask the person at the terminal (sign-ins, questions, approvals); without,
            servers that need a person report so instead of waiting.
    """
    options: dict[str, Any] = {"token_store": FileTokenStore()}
    if interactive:
        prompter = TerminalPrompter()
        options.update(
            authorizer=LoopbackAuthorizer(),
            elicitation=prompter.elicit,
            sampling_approver=prompter.approve_sampling,
        )
    return options
