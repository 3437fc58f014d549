"""``python -m kit`` runs the ``kit`` command."""

from kit.cli import main

raise SystemExit(main())
