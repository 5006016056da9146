"""The ``shouwang`` console script: every job under one name.

``shouwang demo``, ``shouwang serve``, ``shouwang registry import FILE``,
``shouwang divisions load 500156`` and every Django management command (``shouwang migrate``…).
"""

from __future__ import annotations

import os
import sys

#: Files Shouwang writes (database, keys, uploads, staged feeds, cache) are the service
#: user's alone: read and write for the owner, nothing for group or others.
PRIVATE_UMASK = 0o077


def main(argv: list[str] | None = None) -> None:
    os.umask(PRIVATE_UMASK)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouwang.settings.base")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "shouwang"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
