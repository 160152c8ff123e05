import sys

from mock_ims.cli import main

sys.exit(main())
