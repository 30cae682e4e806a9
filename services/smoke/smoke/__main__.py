import sys

from smoke.client import main

sys.exit(main())
