import sys

from tests.smoke.client import main

sys.exit(main())
