"""``python -m nciss``: the core commands of ``nciss`` (scales, facts-schema, assess, crosswalk)."""

from nciss.cli import main

raise SystemExit(main())
