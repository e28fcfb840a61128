"""The ``rescore`` command line: ``rescore score`` (batch rescoring) and ``rescore emergence``.

Each subcommand's module is imported when that subcommand runs (or a help page lists it), so
``rescore score`` does not pay for ``rescore emergence``'s imports, nor the other way round.
"""

from __future__ import annotations

import importlib

import click

from rescore import __version__

SUBCOMMANDS = {
    "score": ("rescore.batch.cli", "score_command"),
    "emergence": ("rescore.emergence.cli", "emergence"),
}
"""Subcommand name -> (module, attribute) of its click command."""


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS and cmd_name not in self.commands:
            module, attr = SUBCOMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attr)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="rescore")
def main() -> None:
    """Re-score stored language-model generations, and test whether abilities are emergent."""


if __name__ == "__main__":  # pragma: no cover
    main()
