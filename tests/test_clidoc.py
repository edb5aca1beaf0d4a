"""The CLI reference in the docs is generated from the commands and must not drift from them."""

from __future__ import annotations

from pathlib import Path

import click

from daybook.cli import main
from daybook.clidoc import render_cli_reference

DOC = Path(__file__).resolve().parent.parent / "docs" / "guide" / "cli.md"


def test_the_checked_in_reference_is_what_the_commands_say() -> None:
    assert DOC.read_text(encoding="utf-8") == render_cli_reference(), (
        "docs/guide/cli.md is stale: run `python -m daybook.clidoc > docs/guide/cli.md`"
    )


def test_every_command_and_option_is_documented() -> None:
    text = render_cli_reference()
    ctx = click.Context(main, info_name="daybook")
    for name in main.list_commands(ctx):
        cmd = main.get_command(ctx, name)
        assert cmd is not None
        assert f"## `daybook {name}`" in text
        commands = [cmd]
        if isinstance(cmd, click.Group):
            sub_ctx = click.Context(cmd, info_name=name, parent=ctx)
            commands += [cmd.get_command(sub_ctx, s) for s in cmd.list_commands(sub_ctx)]
        for c in commands:
            assert c is not None and c.help, f"{c} has no help text"
            for param in c.params:
                if isinstance(param, click.Option) and not param.hidden:
                    assert f"`{param.opts[0]}`" in text
