"""How the CLI connects to MCP servers.

OAuth tokens live in one file readable by its owner only (``$AIOPS_TOKEN_FILE``, default
``~/.config/aiops/mcp-tokens.json``); a server that needs a sign-in prints a URL and waits for the
browser on the ``redirect_uri`` (127.0.0.1); servers' questions (elicitation) and sampling
approvals are asked on the terminal, with the spinner out of the way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..mcp.loopback import LoopbackAuthorizer, print_url
from ..mcp.tokens import FileTokenStore
from .interact import TerminalPrompter

if TYPE_CHECKING:
    from ._term import Spinner

__all__ = ["pool_options"]


def pool_options(*, interactive: bool = True, spinner: Spinner | None = None) -> dict[str, Any]:
    """Keyword arguments for :class:`~aiops_core.mcp.MCPClientPool` in the CLI.

    Args:
        interactive: ask the person at the terminal (sign-ins, questions, approvals); without,
            servers that need a person report so instead of waiting.
        spinner: the terminal's spinner, stopped before anything is asked or printed.
    """
    options: dict[str, Any] = {"token_store": FileTokenStore()}
    if not interactive:
        return options

    def quiet() -> None:
        if spinner is not None:
            spinner.stop()

    async def show_url(server: str, url: str) -> None:
        quiet()
        await print_url(server, url)

    prompter = TerminalPrompter(before=quiet)
    options.update(
        authorizer=LoopbackAuthorizer(show_url),
        elicitation=prompter.elicit,
        sampling_approver=prompter.approve_sampling,
    )
    return options
