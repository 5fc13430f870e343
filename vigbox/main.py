"""The ``vigbox`` command: the box's own commands (:mod:`appliance.cli`)
and ``vigbox run``, the appliance itself, which joins the page.

>>> from appliance.cli.main import build_parser
>>> from vigbox.run import add_run_parser
>>> build_parser([add_run_parser]).parse_args(["run", "--simulate"]).simulate
True
"""

import sys

from appliance.cli.main import main as box_main

from .run import add_run_parser


def main(argv=None) -> int:
    return box_main(argv, more=[add_run_parser])


if __name__ == "__main__":
    sys.exit(main())
