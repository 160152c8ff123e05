"""`python -m reference_client`: the same as `ims-reference-client`."""

import sys

from reference_client.cli import main

sys.exit(main())
