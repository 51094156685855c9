import sys

from edgegnn.cli import main

sys.exit(main())
