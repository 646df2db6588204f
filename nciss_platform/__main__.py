"""``python -m nciss_platform`` is the ``nciss`` command."""

from nciss_platform.cli import main

raise SystemExit(main())
