"""Running the real CLI entry point in-process, for command tests."""

from __future__ import annotations

import pytest

from dsrepo.commands.app import main


def run(capsys, *argv) -> tuple[int, str, str]:
    """``(exit code, stdout, stderr)`` of ``dsrepo ARGV`` (arguments turned into strings)."""
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return e.value.code or 0, out, err
