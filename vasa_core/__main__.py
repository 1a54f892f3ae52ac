"""`python -m vasa_core` is the `vasa` command."""

import sys

from vasa_core.cli import main

sys.exit(main())
