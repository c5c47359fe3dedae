import sys

from scrapeshield.cli import main

sys.exit(main())
