"""Security policy (issue 11).

* ``MCPServer.command``/``args`` (an executable and its arguments chosen by whoever may edit the
  row) become ``command_name``: the name of a command the operator lists in
  ``PLUGINS_CONFIG["aiops_nautobot"]["stdio_commands"]``. A stdio row whose command and
  arguments equal a listed entry's ``argv`` gets that entry's name; any other stdio row is left
  without a command and marked unhealthy with the reason, so nothing it named runs again.
* ``Conversation.thread_id`` is generated and no longer editable; ``MCPServer.last_checked`` and
  ``last_error`` are written only by the health check.
"""

from django.conf import settings
from django.db import migrations, models

import aiops_nautobot.models.conversation

UNMATCHED = (
    "This stdio server's command was stored in the database, which is no longer allowed: "
    "choose one of the commands the operator lists in PLUGINS_CONFIG['aiops_nautobot']"
    "['stdio_commands']."
)


def _listed_commands():
    config = (getattr(settings, "PLUGINS_CONFIG", {}) or {}).get("aiops_nautobot") or {}
    commands = config.get("stdio_commands") or {}
    if not isinstance(commands, dict):
        return {}
    listed = {}
    for name, spec in commands.items():
        argv = spec.get("argv") if isinstance(spec, dict) else None
        if isinstance(argv, list | tuple) and argv:
            listed[name] = [str(a) for a in argv]
    return listed


def name_the_commands(apps, schema_editor):
    MCPServer = apps.get_model("aiops_nautobot", "MCPServer")
    by_argv = {tuple(argv): name for name, argv in _listed_commands().items()}
    for row in MCPServer.objects.filter(protocol="stdio"):
        argv = (row.command, *[str(a) for a in (row.args or [])]) if row.command else ()
        name = by_argv.get(tuple(argv))
        if name is not None:
            row.command_name = name
        else:
            row.command_name = ""
            if row.status != "vulnerable":
                row.status = "unhealthy"
            row.last_error = UNMATCHED
        row.save()


def restore_the_commands(apps, schema_editor):
    MCPServer = apps.get_model("aiops_nautobot", "MCPServer")
    listed = _listed_commands()
    for row in MCPServer.objects.filter(protocol="stdio").exclude(command_name=""):
        argv = listed.get(row.command_name)
        if argv:
            row.command, row.args = argv[0], argv[1:]
            row.save()


class Migration(migrations.Migration):
    dependencies = [
        ("aiops_nautobot", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="mcpserver",
            name="command_name",
            field=models.CharField(
                blank=True,
                help_text="stdio protocol: one of the commands the operator allows "
                "(PLUGINS_CONFIG stdio_commands)",
                max_length=64,
            ),
        ),
        migrations.RunPython(name_the_commands, restore_the_commands),
        migrations.RemoveField(model_name="mcpserver", name="args"),
        migrations.RemoveField(model_name="mcpserver", name="command"),
        migrations.AlterField(
            model_name="conversation",
            name="thread_id",
            field=models.CharField(
                default=aiops_nautobot.models.conversation.new_thread_id,
                editable=False,
                max_length=255,
                unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="mcpserver",
            name="last_checked",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="mcpserver",
            name="last_error",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AlterField(
            model_name="mcpserver",
            name="forward_user_token",
            field=models.BooleanField(
                default=False,
                help_text="Send the user's Nautobot token (internal HTTPS servers under the "
                "operator's token_forwarding_prefixes only)",
            ),
        ),
    ]
