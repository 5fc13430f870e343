"""Run the sealed-store benchmark: ``python -m bench [--quick]``."""

from .runner import main

raise SystemExit(main())
