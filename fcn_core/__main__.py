import sys

from fcn_core.cli import main

sys.exit(main())
