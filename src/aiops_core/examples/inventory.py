"""A small network inventory (devices, interfaces, prefixes) exposed as read-only tools.

The data comes from the bundled ``inventory.json``; the tools show how to write typed tools
with examples that help a model (and the offline ``test`` model) call them correctly.
"""

from __future__ import annotations

import ipaddress
import json
from functools import cache
from importlib.resources import files
from typing import Annotated, Any, Literal

from pydantic import Field

from ..tools import Tool, tool

__all__ = ["find_prefix", "get_device", "inventory_tools", "list_devices", "list_interfaces"]


@cache
def _data() -> dict[str, Any]:
    return json.loads(files(__package__).joinpath("inventory.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


Site = Annotated[str | None, Field(examples=["ams01"], description="site slug, e.g. ams01")]


@tool
def list_devices(
    site: Site = None,
    role: Literal["core", "dist", "access"] | None = None,
    status: Literal["active", "offline", "planned"] | None = None,
) -> list[dict[str, Any]]:
    """List devices, optionally filtered by site, role and status.

    Args:
        site: only devices at this site.
        role: only devices with this role.
        status: only devices in this status.
    """
    return [
        {k: d[k] for k in ("name", "site", "role", "status", "primary_ip")}
        for d in _data()["devices"]
        if (site is None or d["site"] == site)
        and (role is None or d["role"] == role)
        and (status is None or d["status"] == status)
    ]


@tool
def get_device(name: Annotated[str, Field(examples=["ams01-core-01"])]) -> dict[str, Any]:
    """Return everything known about one device.

    Args:
        name: the device name, e.g. ams01-core-01.
    """
    for device in _data()["devices"]:
        if device["name"] == name:
            return dict(device)
    raise LookupError(f"no device named {name!r}; use list_devices to see the names")


@tool
def list_interfaces(
    device: Annotated[str, Field(examples=["fra01-access-02"])],
    oper_status: Literal["up", "down"] | None = None,
) -> list[dict[str, Any]]:
    """List a device's interfaces, optionally only those up or down.

    Args:
        device: the device name.
        oper_status: only interfaces in this operational state.
    """
    rows = [i for i in _data()["interfaces"] if i["device"] == device]
    if not rows:
        raise LookupError(f"no interfaces for device {device!r}")
    return [i for i in rows if oper_status is None or i["oper_status"] == oper_status]


@tool
def find_prefix(address: Annotated[str, Field(examples=["10.11.0.2"])]) -> dict[str, Any]:
    """Find the most specific prefix that contains an IP address.

    Args:
        address: an IPv4 or IPv6 address.
    """
    ip = ipaddress.ip_address(address)
    best: dict[str, Any] | None = None
    for row in _data()["prefixes"]:
        net = ipaddress.ip_network(row["prefix"])
        if ip in net and (
            best is None or net.prefixlen > ipaddress.ip_network(best["prefix"]).prefixlen
        ):
            best = row
    if best is None:
        raise LookupError(f"no prefix contains {address}")
    return dict(best)


def inventory_tools() -> list[Tool]:
    """The four inventory tools."""
    return [list_devices, get_device, list_interfaces, find_prefix]
