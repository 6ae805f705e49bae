"""A small network in real Nautobot rows, and users with given view permissions.

Two locations, each with a core device; interfaces (some disabled: "down"), a prefix and IP
addresses. Built with Nautobot's own models, statuses from its migrations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from nautobot.dcim.models import Device, DeviceType, Interface, Location, LocationType, Manufacturer
from nautobot.extras.management import populate_status_choices
from nautobot.extras.models import Role, Status
from nautobot.ipam.models import IPAddress, Namespace, Prefix
from nautobot.users.models import ObjectPermission

__all__ = ["Network", "grant", "seed_network", "viewer"]


@dataclass
class Network:
    """The seeded rows, by name."""

    devices: dict[str, Device] = field(default_factory=dict)
    interfaces: dict[str, Interface] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    prefix: Prefix | None = None
    addresses: list[IPAddress] = field(default_factory=list)


def seed_network() -> Network:
    """ams01-core-01 (Gi0/0..3, Gi0/2 and Gi0/3 down) and the hidden-from-some fra01-core-01."""
    # A transactional test of an earlier run may have flushed the migrated statuses.
    populate_status_choices(verbosity=0)
    active = Status.objects.get(name="Active")
    location_type, _ = LocationType.objects.get_or_create(name="Site")
    location_type.content_types.add(
        ContentType.objects.get_for_model(Device), ContentType.objects.get_for_model(Prefix)
    )
    manufacturer, _ = Manufacturer.objects.get_or_create(name="Acme")
    device_type, _ = DeviceType.objects.get_or_create(manufacturer=manufacturer, model="R100")
    role, _ = Role.objects.get_or_create(name="core-router")
    role.content_types.add(ContentType.objects.get_for_model(Device))
    network = Network()
    for site in ("ams01", "fra01"):
        location = Location.objects.create(name=site, location_type=location_type, status=active)
        network.locations[site] = location
        device = Device.objects.create(
            name=f"{site}-core-01",
            device_type=device_type,
            role=role,
            location=location,
            status=active,
            serial=f"SER-{site}",
        )
        network.devices[device.name] = device
        for index in range(4):
            interface = Interface.objects.create(
                device=device,
                name=f"Gi0/{index}",
                type="1000base-t",
                status=active,
                enabled=index < 2,
                description=f"{site} uplink {index}",
            )
            network.interfaces[f"{device.name}:{interface.name}"] = interface
    namespace, _ = Namespace.objects.get_or_create(name="Global")
    network.prefix = Prefix.objects.create(
        prefix="10.10.0.0/24", namespace=namespace, status=active, type="network"
    )
    for host in (1, 2):
        network.addresses.append(
            IPAddress.objects.create(
                address=f"10.10.0.{host}/24", namespace=namespace, status=active
            )
        )
    return network


def viewer(username: str = "viewer") -> Any:
    """A user who is not a superuser and has no permission yet."""
    return get_user_model().objects.create_user(username=username, is_superuser=False)


def grant(user: Any, model: type, actions: tuple[str, ...] = ("view",), **constraints: Any) -> None:
    """Give ``user`` ``actions`` on ``model``, limited by ``constraints`` (none: all objects)."""
    permission = ObjectPermission.objects.create(
        name=f"{user.username} {'/'.join(actions)} {model._meta.label_lower} {len(constraints)}",
        actions=list(actions),
        constraints=constraints or None,
    )
    permission.object_types.add(ContentType.objects.get_for_model(model))
    permission.users.add(user)
