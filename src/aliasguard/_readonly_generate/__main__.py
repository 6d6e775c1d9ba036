"""``python -m aliasguard._readonly_generate [--check]``: rewrite or check the read-only stub."""

import sys

from ._command import main

sys.exit(main())
