import sys

from upload_client.client import main

sys.exit(main())
