"""`aekit --help` lists every command once, in its group, with its description."""

from __future__ import annotations

import argparse

from aekit.interfaces.cli import GROUPS, build_parser


def test_help_lists_every_command_once_by_group(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = parser.format_help()
    body = text[text.index("train:") :]
    for name, command in sub.choices.items():
        lines = [ln for ln in body.splitlines() if ln.split()[:1] == [name]]
        assert len(lines) == 1, name
        first_words = " ".join(command.description.split()[:3])
        assert first_words in " ".join(body.split()), name
    for group in GROUPS:
        assert f"\n{group}:\n" in "\n" + body
    assert body.index("train:") < body.index("use:") < body.index("inspect:")
