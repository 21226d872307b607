"""``python -m langchain_valkey_semcache``: the admin command (see :mod:`.admin`)."""

import sys

from .admin import main

sys.exit(main())
