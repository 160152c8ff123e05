import sys

from mock_ims.cli.main import main

sys.exit(main())
